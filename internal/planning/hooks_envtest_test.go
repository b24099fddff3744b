//go:build envtest

package planning

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// TestCheckHooks checks a plan's hooks against real API servers: a
// missing hook, a phase the plan type lacks, stages on a restore phase,
// a service account missing on the side where the Job runs (found on the
// source for a migrated namespace on the destination) and an exec hook
// that selects no running pod (a warning).
func TestCheckHooks(t *testing.T) {
	src, dst := clients(t)
	ns := namespace(t, srcEnv, "hooks")
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "backup"}}
	if _, err := srcEnv.Kube.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	job := func(sa string) *ferryv1.Hook {
		return &ferryv1.Hook{Spec: ferryv1.HookSpec{Job: &ferryv1.JobHook{Image: "tools", ServiceAccountName: sa}}}
	}
	exec := &ferryv1.Hook{Spec: ferryv1.HookSpec{Exec: &ferryv1.ExecHook{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}, Command: []string{"sync"}}}}
	byName := map[string]*ferryv1.Hook{"backup": job("backup"), "ghost": job("ghost"), "plain": job(""), "checkpoint": exec}
	tests := []struct {
		name     string
		typ      ferryv1.PlanType
		hooks    []ferryv1.PlanHook
		reason   string
		message  string
		warnings int
	}{
		{"fine", ferryv1.PlanFull, []ferryv1.PlanHook{{Hook: "backup", Phase: ferryv1.HookPreBackup}, {Hook: "plain", Phase: ferryv1.HookPostRestore}}, "", "", 0},
		{"service account the migration brings, after the apply", ferryv1.PlanFull, []ferryv1.PlanHook{{Hook: "backup", Phase: ferryv1.HookPostRestore}}, "", "", 0},
		{"service account the migration brings, before the apply", ferryv1.PlanFull, []ferryv1.PlanHook{{Hook: "backup", Phase: ferryv1.HookPreRestore}}, ferryv1.ReasonInvalidHook, "service account backup does not exist in " + ns + " on the destination", 0},
		{"missing hook", ferryv1.PlanFull, []ferryv1.PlanHook{{Hook: "nothere", Phase: ferryv1.HookPreBackup}}, ferryv1.ReasonHookNotFound, "ferry hook create nothere", 0},
		{"state plans restore nothing", ferryv1.PlanState, []ferryv1.PlanHook{{Hook: "plain", Phase: ferryv1.HookPostRestore}}, ferryv1.ReasonInvalidHook, "a State plan has no phase PostRestore", 0},
		{"stages on restore", ferryv1.PlanFull, []ferryv1.PlanHook{{Hook: "plain", Phase: ferryv1.HookPreRestore, Stages: true}}, ferryv1.ReasonInvalidHook, "only PreBackup and PostBackup", 0},
		{"missing service account", ferryv1.PlanFull, []ferryv1.PlanHook{{Hook: "ghost", Phase: ferryv1.HookPreBackup}}, ferryv1.ReasonInvalidHook, "service account ghost does not exist in " + ns + " on the source", 0},
		{"exec selects nothing", ferryv1.PlanFull, []ferryv1.PlanHook{{Hook: "checkpoint", Phase: ferryv1.HookPreBackup}}, "", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Namespace: "ferry-system"}, Spec: ferryv1.PlanSpec{Type: tt.typ, Namespaces: []string{ns}, Hooks: tt.hooks}}
			prob, warnings, err := CheckHooks(ctx, p, byName, src, dst)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.reason == "" && prob != nil:
				t.Errorf("problem %v", prob)
			case tt.reason != "" && (prob == nil || prob.Reason != tt.reason || !strings.Contains(prob.Message, tt.message)):
				t.Errorf("problem %v, want %s: ...%s...", prob, tt.reason, tt.message)
			case len(warnings) != tt.warnings:
				t.Errorf("warnings %q, want %d", warnings, tt.warnings)
			}
		})
	}
}
