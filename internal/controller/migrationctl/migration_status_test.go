package migrationctl

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestUpdateStatus(t *testing.T) {
	step := func(name string, p ferryv1.StepPhase, msg string) ferryv1.Step {
		return ferryv1.Step{Name: name, Phase: p, Message: msg}
	}
	ok, pend, fail, skip := ferryv1.StepSucceeded, ferryv1.StepPending, ferryv1.StepFailed, ferryv1.StepSkipped
	tests := []struct {
		name      string
		steps     []ferryv1.Step
		phase     ferryv1.MigrationPhase
		running   metav1.ConditionStatus
		reason    string
		failed    string // substring of the Failed condition; "" when absent
		succeeded bool
		errors    int
		completed bool
	}{
		{"not started", nil, ferryv1.MigrationPending, "", "", "", false, 0, false},
		{"running", []ferryv1.Step{step(StepValidate, ok, ""), step(StepCopyVolumes, ferryv1.StepRunning, "")},
			ferryv1.MigrationRunning, metav1.ConditionTrue, ferryv1.ReasonInProgress, "", false, 0, false},
		{"failed", []ferryv1.Step{step(StepValidate, ok, ""), step(StepCopyVolumes, fail, "disk full"), step(StepCleanupMovers, pend, "")},
			ferryv1.MigrationFailed, metav1.ConditionFalse, ferryv1.ReasonStepFailed, "step CopyVolumes failed: disk full; fix it and run `ferry retry m`", false, 1, false},
		{"succeeded", []ferryv1.Step{step(StepValidate, ok, ""), step(StepQuiesce, skip, "")},
			ferryv1.MigrationSucceeded, metav1.ConditionFalse, ferryv1.ReasonCompleted, "", true, 0, true},
		{"canceling", []ferryv1.Step{step(StepValidate, skip, "canceled"), step(StepCancelMovers, ok, ""), step(StepCancelDelete, pend, "")},
			ferryv1.MigrationCanceling, metav1.ConditionTrue, ferryv1.ReasonCanceled, "", false, 0, false},
		{"cancel step failed", []ferryv1.Step{step(StepCancelMovers, ok, ""), step(StepCancelDelete, fail, "forbidden")},
			ferryv1.MigrationFailed, metav1.ConditionFalse, ferryv1.ReasonStepFailed, "cancel step CancelDeleteCreated failed: forbidden", false, 1, false},
		{"canceled", []ferryv1.Step{step(StepValidate, skip, "canceled"), step(StepCancelMovers, ok, "")},
			ferryv1.MigrationCanceled, metav1.ConditionFalse, ferryv1.ReasonCanceled, "", false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := metav1.NewTime(time.Unix(1000, 0))
			m := &ferryv1.Migration{ObjectMeta: metav1.ObjectMeta{Name: "m"}, Spec: ferryv1.MigrationSpec{Type: ferryv1.MigrationStage},
				Status: ferryv1.MigrationStatus{Itinerary: tt.steps, StartTime: &start,
					// A stale Failed condition from before a retry must go.
					Conditions: []metav1.Condition{{Type: ferryv1.ConditionFailed, Status: metav1.ConditionTrue, Reason: "old"}}}}
			updateStatus(m, time.Unix(1012, 0))
			if m.Status.Phase != tt.phase {
				t.Errorf("phase %s, want %s", m.Status.Phase, tt.phase)
			}
			if c := meta.FindStatusCondition(m.Status.Conditions, ferryv1.ConditionRunning); tt.running != "" && (c == nil || c.Status != tt.running || c.Reason != tt.reason) {
				t.Errorf("Running condition %+v, want %s/%s", c, tt.running, tt.reason)
			}
			c := meta.FindStatusCondition(m.Status.Conditions, ferryv1.ConditionFailed)
			if tt.failed == "" && c != nil {
				t.Errorf("Failed condition %+v, want none", c)
			}
			if tt.failed != "" && (c == nil || !strings.Contains(c.Message, tt.failed)) {
				t.Errorf("Failed condition %+v, want message with %q", c, tt.failed)
			}
			sc := meta.FindStatusCondition(m.Status.Conditions, ferryv1.ConditionSucceeded)
			if tt.succeeded != (sc != nil && sc.Status == metav1.ConditionTrue) {
				t.Errorf("Succeeded condition %+v, want %v", sc, tt.succeeded)
			}
			if tt.succeeded && !strings.Contains(sc.Message, "in 12s") {
				t.Errorf("Succeeded message %q does not say how long it took", sc.Message)
			}
			if len(m.Status.Errors) != tt.errors {
				t.Errorf("errors %v, want %d", m.Status.Errors, tt.errors)
			}
			if tt.completed != (m.Status.CompletionTime != nil) {
				t.Errorf("completion time %v, want set: %v", m.Status.CompletionTime, tt.completed)
			}
		})
	}
}
