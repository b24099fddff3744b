package ops

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestValidatePlan(t *testing.T) {
	ok := ferryv1.PlanSpec{SourceCluster: "a", DestinationCluster: "b", Namespaces: []string{"shop"}}
	with := func(change func(*ferryv1.PlanSpec)) ferryv1.PlanSpec {
		s := *ok.DeepCopy()
		change(&s)
		return s
	}
	tests := []struct {
		name    string
		plan    string
		spec    ferryv1.PlanSpec
		wantErr string
	}{
		{name: "valid", plan: "shop", spec: ok},
		{name: "bad name", plan: "Shop!", spec: ok, wantErr: "not a valid name"},
		{name: "no source", plan: "shop", spec: with(func(s *ferryv1.PlanSpec) { s.SourceCluster = "" }), wantErr: "source and destination clusters"},
		{name: "no destination", plan: "shop", spec: with(func(s *ferryv1.PlanSpec) { s.DestinationCluster = "" }), wantErr: "source and destination clusters"},
		{name: "no namespace", plan: "shop", spec: with(func(s *ferryv1.PlanSpec) { s.Namespaces = nil }), wantErr: "no namespaces"},
		{name: "two onto one", plan: "shop", spec: with(func(s *ferryv1.PlanSpec) { s.Namespaces = []string{"a:c", "b:c"} }), wantErr: "mapped to"},
		{name: "rewrite without prefix", plan: "shop", spec: with(func(s *ferryv1.PlanSpec) {
			s.RegistryRewrites = []ferryv1.RegistryRewrite{{To: "r2/"}}
		}), wantErr: "prefix"},
		{name: "claim without name", plan: "shop", spec: with(func(s *ferryv1.PlanSpec) {
			s.PersistentVolumeClaims = []ferryv1.PVCOverride{{Namespace: "shop"}}
		}), wantErr: "name the claim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(nil, "ferry-system").NewPlan(tt.plan, tt.spec)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p.Namespace != "ferry-system" || p.Name != tt.plan {
					t.Errorf("plan %s/%s, want ferry-system/%s", p.Namespace, p.Name, tt.plan)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestPlanReadyAndValidated(t *testing.T) {
	cond := func(s metav1.ConditionStatus) []metav1.Condition {
		return []metav1.Condition{{Type: ferryv1.ConditionReady, Status: s, Reason: "NamespaceNotFound", Message: "namespace shop does not exist"}}
	}
	plan := func(gen, observed int64, token string, conds []metav1.Condition) *ferryv1.Plan {
		return &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Name: "p", Generation: gen},
			Status: ferryv1.PlanStatus{ObservedGeneration: observed, ObservedValidate: token, Conditions: conds}}
	}
	tests := []struct {
		name          string
		p             *ferryv1.Plan
		wantValidated bool
		wantReadyErr  string
	}{
		{name: "ready", p: plan(2, 2, "t", cond(metav1.ConditionTrue)), wantValidated: true},
		{name: "not ready", p: plan(2, 2, "t", cond(metav1.ConditionFalse)), wantValidated: true,
			wantReadyErr: "not ready (NamespaceNotFound): namespace shop does not exist"},
		{name: "older generation", p: plan(3, 2, "t", cond(metav1.ConditionTrue)), wantValidated: false},
		{name: "older request", p: plan(2, 2, "old", cond(metav1.ConditionTrue)), wantValidated: false},
		{name: "never validated", p: plan(1, 0, "", nil), wantReadyErr: "not validated yet"},
		{name: "measuring", p: plan(2, 2, "t", []metav1.Condition{{Type: ferryv1.ConditionReady, Status: metav1.ConditionFalse,
			Reason: ferryv1.ReasonMeasuring, Message: "measuring used space of 1 claims"}}), wantValidated: false, wantReadyErr: "Measuring"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := planValidated(tt.p, "t"); got != tt.wantValidated {
				t.Errorf("validated = %v, want %v", got, tt.wantValidated)
			}
			err := PlanReady(tt.p)
			if tt.wantReadyErr == "" && err != nil || tt.wantReadyErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantReadyErr)) {
				t.Errorf("PlanReady = %v, want %q", err, tt.wantReadyErr)
			}
		})
	}
}
