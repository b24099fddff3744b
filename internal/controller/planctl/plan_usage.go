package planctl

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/planning"
	"ferry.dev/ferry/internal/volumes/usage"
)

// How soon a plan whose claims are being measured is reconciled again:
// MeasurePoll while some have no figures (its Ready waits for them),
// RefreshPoll while figures that stand are taken again.
const (
	MeasurePoll = 3 * time.Second
	RefreshPoll = 10 * time.Second
)

// measured is what the measurement phase found: how many claims have no
// figures yet, and whether any are still being measured.
type measured struct {
	missing int
	busy    bool
}

// measure advances the measurement of the used space of the claims the
// plan copies (package usage) and keeps the figures in p.Status.Usage,
// which validation reads. Claims are measured once the claim list is
// known: when validation passed, or stopped at the figures themselves.
// When new figures came in, the plan is validated again with them, and
// res is replaced.
func (r *Reconciler) measure(ctx context.Context, p *ferryv1.Plan, res **planning.Result) (measured, error) {
	if !measurable(*res) {
		return measured{}, nil
	}
	if p.Status.ActiveMigration != "" && len(p.Status.Usage) > 0 {
		// Not while a migration runs: a measurement pod would race its
		// quiesce and copy; its Validate step took the figures there are.
		return measured{}, nil
	}
	src, _, prob, err := cluster.ForPlan(ctx, r.Client, r.Registry, p)
	if err != nil || prob != nil {
		return measured{}, err
	}
	var claims []usage.Claim
	for _, c := range (*res).Copied() {
		_, nonRoot := (*res).MoverSecurity[c.Namespace+"/"+c.Name]
		claims = append(claims, usage.Claim{Namespace: c.Namespace, Name: c.Name, Owners: nonRoot})
	}
	m := usage.Measurer{Source: src, Plan: p.Name, Image: r.MoverImage}
	prog, err := m.Step(ctx, claims, p.Status.Usage)
	if err != nil {
		return measured{}, fmt.Errorf("measure the claims of plan %s: %w", p.Name, err)
	}
	changed := !equality.Semantic.DeepEqual(prog.Usage, p.Status.Usage)
	p.Status.Usage = prog.Usage
	if changed {
		again, err := Check(ctx, r.Client, r.Registry, p)
		if err != nil {
			return measured{}, err
		}
		*res = again
	}
	return measured{missing: prog.Missing, busy: prog.Measuring > 0}, nil
}

// measurable tells whether validation got far enough to know the claims
// to copy: it passed, or only their figures stopped it.
func measurable(res *planning.Result) bool {
	return res.Problem == nil || sizedOut(res.Problem.Reason)
}

// sizedOut tells whether a problem is about the claims' used space: the
// claim list is complete, and the status keeps it so that `ferry plan
// describe` shows the figures.
func sizedOut(reason string) bool {
	return reason == ferryv1.ReasonInsufficientCapacity || reason == ferryv1.ReasonUsageUnknown
}

// requeue is how soon to come back for the measurement, 0 when it is
// done.
func (m measured) requeue() time.Duration {
	switch {
	case m.missing > 0:
		return MeasurePoll
	case m.busy:
		return RefreshPoll
	}
	return 0
}

// measuringProblem is the Ready condition of a plan whose claims have no
// figures yet.
func measuringProblem(missing int) *cluster.Problem {
	return &cluster.Problem{Reason: ferryv1.ReasonMeasuring, Message: fmt.Sprintf(
		"measuring used space of %d claims; the plan is validated once the figures are in", missing)}
}

// cleanupMeasurements deletes the plan's measurement pods on its source
// cluster; a source that is gone or not ready has none Ferry could reach.
func (r *Reconciler) cleanupMeasurements(ctx context.Context, p *ferryv1.Plan) error {
	src, _, prob, err := cluster.ForPlan(ctx, r.Client, r.Registry, p)
	if err != nil {
		return err
	}
	if prob != nil {
		return nil
	}
	scope, err := planning.Scope(p)
	if err != nil {
		return usage.Cleanup(ctx, src, p.Name, nil)
	}
	var namespaces []string
	for _, m := range scope.Namespaces {
		namespaces = append(namespaces, m.Source)
	}
	return usage.Cleanup(ctx, src, p.Name, namespaces)
}
