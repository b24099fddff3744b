package planning

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/resources/migrate"
)

func TestCheckRepository(t *testing.T) {
	repo := func(status metav1.ConditionStatus, reason string, observed int64) *ferryv1.Repository {
		r := &ferryv1.Repository{ObjectMeta: metav1.ObjectMeta{Name: "s3", Generation: 2}}
		if status != "" {
			r.Status.Conditions = []metav1.Condition{{Type: ferryv1.ConditionReady, Status: status, Reason: reason,
				Message: "what the check found", ObservedGeneration: observed}}
		}
		return r
	}
	plan := func(name string, path ferryv1.DataPath, overrides ...ferryv1.PVCOverride) *ferryv1.Plan {
		return &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Namespace: "ferry-system"},
			Spec: ferryv1.PlanSpec{Repository: name, DataPath: path, PersistentVolumeClaims: overrides}}
	}
	tests := []struct {
		name     string
		plan     *ferryv1.Plan
		repo     *ferryv1.Repository
		reason   string
		mentions string
	}{
		{"ready", plan("s3", ferryv1.DataPathRepository), repo(metav1.ConditionTrue, ferryv1.ReasonReady, 2), "", ""},
		{"no repository named", plan("", ferryv1.DataPathRepository), nil, ferryv1.ReasonRepositoryNotFound, "--repository NAME"},
		{"no repository named for one claim", plan("", "", ferryv1.PVCOverride{Namespace: "shop", Name: "data", DataPath: ferryv1.DataPathRepository}), nil,
			ferryv1.ReasonRepositoryNotFound, "shop/data"},
		{"missing", plan("s3", ferryv1.DataPathRepository), nil, ferryv1.ReasonRepositoryNotFound, "ferry repository add s3"},
		{"named with the direct path, missing", plan("s3", ferryv1.DataPathDirect), nil, ferryv1.ReasonRepositoryNotFound, "does not exist"},
		{"not checked", plan("s3", ferryv1.DataPathRepository), repo("", "", 0), ferryv1.ReasonRepositoryNotReady, "not been checked"},
		{"checked an older spec", plan("s3", ferryv1.DataPathRepository), repo(metav1.ConditionTrue, ferryv1.ReasonReady, 1), ferryv1.ReasonRepositoryNotReady, "not been checked"},
		{"not ready", plan("s3", ferryv1.DataPathRepository), repo(metav1.ConditionFalse, ferryv1.ReasonRepositoryBucketMissing, 2),
			ferryv1.ReasonRepositoryNotReady, "(BucketMissing): what the check found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prob := CheckRepository(tt.plan, tt.repo)
			switch {
			case tt.reason == "" && prob != nil:
				t.Fatalf("problem %+v", prob)
			case tt.reason != "" && (prob == nil || prob.Reason != tt.reason || !strings.Contains(prob.Message, tt.mentions)):
				t.Fatalf("problem %+v, want %s mentioning %q", prob, tt.reason, tt.mentions)
			}
		})
	}
}

func TestDataPaths(t *testing.T) {
	override := func(action ferryv1.PVCAction, path ferryv1.DataPath) ferryv1.PVCOverride {
		return ferryv1.PVCOverride{Namespace: "shop", Name: "data", Action: action, DataPath: path}
	}
	for _, tt := range []struct {
		name string
		o    ferryv1.PVCOverride
		want string
	}{
		{"none", override("", ""), ""},
		{"repository", override(ferryv1.PVCActionCopy, ferryv1.DataPathRepository), ""},
		{"direct", override("", ferryv1.DataPathDirect), ""},
		{"unknown", override("", "carrier-pigeon"), `unknown data path "carrier-pigeon"`},
		{"moved", override(ferryv1.PVCActionMove, ferryv1.DataPathRepository), "its action is move"},
		{"skipped", override(ferryv1.PVCActionSkip, ferryv1.DataPathDirect), "its action is skip"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := dataPathProblem(tt.o); (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("dataPathProblem = %q, want %q", got, tt.want)
			}
		})
	}

	p := &ferryv1.Plan{Spec: ferryv1.PlanSpec{DataPath: ferryv1.DataPathRepository, PersistentVolumeClaims: []ferryv1.PVCOverride{
		{Namespace: "shop", Name: "direct", DataPath: ferryv1.DataPathDirect}}}}
	res := &Result{PVCs: []ferryv1.PlanPVC{
		{Namespace: "shop", Name: "data", Action: ferryv1.PVCActionCopy},
		{Namespace: "shop", Name: "direct", Action: ferryv1.PVCActionCopy},
		{Namespace: "shop", Name: "moved", Action: ferryv1.PVCActionMove},
	}}
	if err := checkDataPaths(context.Background(), p, migrate.Scope{}, nil, nil, res); err != nil || res.Problem != nil {
		t.Fatalf("checkDataPaths: %v, %+v", err, res.Problem)
	}
	got := []ferryv1.DataPath{res.PVCs[0].DataPath, res.PVCs[1].DataPath, res.PVCs[2].DataPath}
	if got[0] != ferryv1.DataPathRepository || got[1] != "" || got[2] != "" {
		t.Errorf("data paths %v, want [repository, \"\", \"\"] (the override's direct, a moved claim copies nothing)", got)
	}
	p.Spec.DataPath = "bogus"
	if err := checkDataPaths(context.Background(), p, migrate.Scope{}, nil, nil, res); err != nil || res.Problem == nil || res.Problem.Reason != ferryv1.ReasonInvalidSpec {
		t.Errorf("plan data path bogus: %v, %+v; want InvalidSpec", err, res.Problem)
	}
}
