package migrationctl

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// updateStatus derives the Migration's phase, conditions, errors and
// completion time from its itinerary; it is the only place that sets
// them. now is the time of a completion it records.
func updateStatus(m *ferryv1.Migration, now time.Time) {
	st := &m.Status
	failed, next := failedStep(st.Itinerary), ferryv1.CurrentStep(st.Itinerary)
	cancel := canceling(m)
	switch {
	case len(st.Itinerary) == 0:
		st.Phase = ferryv1.MigrationPending
	case failed != nil:
		st.Phase = ferryv1.MigrationFailed
	case next >= 0 && cancel:
		st.Phase = ferryv1.MigrationCanceling
	case next >= 0:
		st.Phase = ferryv1.MigrationRunning
	case cancel:
		st.Phase = ferryv1.MigrationCanceled
	default:
		st.Phase = ferryv1.MigrationSucceeded
	}
	finished := st.Phase == ferryv1.MigrationSucceeded || st.Phase == ferryv1.MigrationCanceled
	if finished && st.CompletionTime == nil {
		t := metav1.NewTime(now)
		st.CompletionTime = &t
	}
	if !finished {
		st.CompletionTime = nil
	}
	st.Errors = nil
	if failed != nil {
		st.Errors = []string{failed.Message}
	}
	setConditions(m, failed)
}

// setConditions sets Running, Succeeded and Failed for the phase.
func setConditions(m *ferryv1.Migration, failed *ferryv1.Step) {
	set := func(typ string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&m.Status.Conditions, metav1.Condition{Type: typ, Status: status, Reason: reason,
			Message: msg, ObservedGeneration: m.Generation})
	}
	if m.Status.Phase != ferryv1.MigrationFailed {
		meta.RemoveStatusCondition(&m.Status.Conditions, ferryv1.ConditionFailed)
	}
	switch m.Status.Phase {
	case ferryv1.MigrationPending:
		// Set by the reconciler while the plan is missing.
	case ferryv1.MigrationRunning:
		set(ferryv1.ConditionRunning, metav1.ConditionTrue, ferryv1.ReasonInProgress, "running step "+m.Status.Itinerary[ferryv1.CurrentStep(m.Status.Itinerary)].Name)
	case ferryv1.MigrationCanceling:
		set(ferryv1.ConditionRunning, metav1.ConditionTrue, ferryv1.ReasonCanceled, "canceling: undoing what the migration did")
	case ferryv1.MigrationCanceled:
		set(ferryv1.ConditionRunning, metav1.ConditionFalse, ferryv1.ReasonCanceled, "canceled; what the migration did was undone")
	case ferryv1.MigrationSucceeded:
		set(ferryv1.ConditionRunning, metav1.ConditionFalse, ferryv1.ReasonCompleted, "finished")
		msg := fmt.Sprintf("%s finished", m.Spec.Type)
		if m.Status.StartTime != nil && m.Status.CompletionTime != nil {
			msg = fmt.Sprintf("%s finished in %s", m.Spec.Type, m.Status.CompletionTime.Sub(m.Status.StartTime.Time).Round(100*time.Millisecond))
		}
		set(ferryv1.ConditionSucceeded, metav1.ConditionTrue, ferryv1.ReasonCompleted, msg)
	case ferryv1.MigrationFailed:
		set(ferryv1.ConditionRunning, metav1.ConditionFalse, ferryv1.ReasonStepFailed, "stopped at step "+failed.Name)
		set(ferryv1.ConditionFailed, metav1.ConditionTrue, ferryv1.ReasonStepFailed, failureMessage(m, failed))
	}
}

// failureMessage says which step failed and what the user can do.
func failureMessage(m *ferryv1.Migration, failed *ferryv1.Step) string {
	if canceling(m) {
		return fmt.Sprintf("cancel step %s failed: %s; fix it and run `ferry retry %s`", failed.Name, failed.Message, m.Name)
	}
	return fmt.Sprintf("step %s failed: %s; fix it and run `ferry retry %s`, or undo with `ferry cancel %s`",
		failed.Name, failed.Message, m.Name, m.Name)
}

// failedStep returns the failed step of an itinerary, or nil.
func failedStep(steps []ferryv1.Step) *ferryv1.Step {
	for i := range steps {
		if steps[i].Phase == ferryv1.StepFailed {
			return &steps[i]
		}
	}
	return nil
}
