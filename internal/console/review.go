package console

import (
	"fmt"
	"net/http"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// planReview is the answer of GET /api/plans/{name}/review.
type planReview struct {
	// Problems keep the plan from running (its Ready condition).
	Problems []string `json:"problems"`
	// Warnings do not.
	Warnings []string `json:"warnings"`
	// Counts are the objects per kind a migration would apply.
	Counts []ferryv1.KindCount `json:"counts"`
	// Changes are the dry-run diff of each object (Full plans that are
	// Ready).
	Changes []reviewChange `json:"changes"`
	// DiffError says why there is no diff, when there could be one.
	DiffError string `json:"diffError,omitempty"`
}

// reviewChange is what a cutover would do to one object.
type reviewChange struct {
	Kind      string               `json:"kind"`
	Namespace string               `json:"namespace,omitempty"`
	Name      string               `json:"name"`
	Action    ferryv1.ObjectAction `json:"action"`
	Diff      string               `json:"diff,omitempty"`
	Note      string               `json:"note,omitempty"`
}

// reviewOf is what the plan's status says: problems, warnings, counts.
func reviewOf(p *ferryv1.Plan) planReview {
	r := planReview{Problems: []string{}, Warnings: []string{}, Counts: []ferryv1.KindCount{}, Changes: []reviewChange{}}
	ready := apimeta.FindStatusCondition(p.Status.Conditions, ferryv1.ConditionReady)
	switch {
	case ready == nil || p.Status.ObservedGeneration != p.Generation:
		r.Problems = append(r.Problems, "the plan is not validated yet: is the controller running?")
	case ready.Status != metav1.ConditionTrue:
		r.Problems = append(r.Problems, fmt.Sprintf("%s: %s", ready.Reason, ready.Message))
	}
	r.Warnings = append(r.Warnings, p.Status.Warnings...)
	if len(p.Status.Warnings) == 0 {
		if w := apimeta.FindStatusCondition(p.Status.Conditions, ferryv1.ConditionWarning); w != nil && w.Status == metav1.ConditionTrue {
			r.Warnings = append(r.Warnings, w.Message)
		}
	}
	r.Counts = append(r.Counts, p.Status.ObjectCounts...)
	return r
}

// reviewPlan is GET /api/plans/{name}/review: the plan's validation and,
// for a Ready Full plan, the dry-run diff of every object (ops.DiffPlan).
func (s *Server) reviewPlan(c *call) error {
	p, err := s.ops.GetPlan(c.ctx(), c.r.PathValue("name"))
	if err != nil {
		return err
	}
	r := reviewOf(p)
	if p.Spec.Kind() == ferryv1.PlanFull && len(r.Problems) == 0 {
		changes, err := s.ops.DiffPlan(c.ctx(), s.registry, p.Name)
		if err != nil {
			r.DiffError = err.Error()
		}
		for _, ch := range changes {
			r.Changes = append(r.Changes, reviewChange{Kind: ch.Kind, Namespace: ch.Namespace, Name: ch.Name, Action: ch.Action, Diff: ch.Diff, Note: ch.Note})
		}
	}
	writeJSON(c.w, http.StatusOK, r)
	return nil
}
