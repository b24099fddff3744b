// Package migrationctl reconciles Migration objects. A migration runs as
// an itinerary: an ordered list of idempotent steps whose state lives in
// the Migration's status, so a restarted controller resumes at the step it
// was in, and a failed step can be retried without starting over.
package migrationctl

import (
	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Step names, in the order they can run.
const (
	StepValidate           = "Validate"
	StepPrepareDestination = "PrepareDestination"
	StepCopyVolumes        = "CopyVolumes"
	StepCleanupMovers      = "CleanupMovers"
	StepQuiesce            = "Quiesce"
	StepWaitForQuiesce     = "WaitForQuiesce"
	StepMigrateResources   = "MigrateResources"
	StepWaitForWorkloads   = "WaitForWorkloads"
	StepDeleteFromDest     = "DeleteFromDestination"
	StepUnquiesce          = "Unquiesce"
	StepCancelMovers       = "CancelCleanupMovers"
	StepCancelDelete       = "CancelDeleteCreated"
	StepCancelUnquiesce    = "CancelUnquiesce"
)

// itinerary returns the steps of a migration type.
//
//   - Stage prepares the destination (namespaces and the claims that will
//     receive data) and copies the volumes' data while the application
//     keeps running.
//   - Cutover quiesces the source, copies what changed since the last
//     stage, then recreates everything on the destination, so workloads
//     start on their data, and waits until they are available there.
//   - Rollback removes everything the plan created on the destination
//     (mover pods of its migrations too), then restores the source exactly
//     as it was.
func itinerary(m *ferryv1.Migration) []ferryv1.Step {
	var names []string
	switch m.Spec.Type {
	case ferryv1.MigrationStage:
		names = []string{StepValidate, StepPrepareDestination, StepCopyVolumes, StepCleanupMovers}
	case ferryv1.MigrationCutover:
		names = []string{StepValidate, StepPrepareDestination, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes,
			StepCleanupMovers, StepMigrateResources, StepWaitForWorkloads}
	case ferryv1.MigrationRollback:
		names = []string{StepValidate, StepCleanupMovers, StepDeleteFromDest, StepUnquiesce}
	}
	steps := make([]ferryv1.Step, 0, len(names))
	for _, n := range names {
		phase := ferryv1.StepPending
		if (n == StepQuiesce || n == StepWaitForQuiesce) && !quiesces(m) {
			phase = ferryv1.StepSkipped
		}
		steps = append(steps, ferryv1.Step{Name: n, Phase: phase})
	}
	return steps
}

// cancelSteps undo what a canceled migration did: remove what it created
// on the destination and restore the source.
func cancelSteps() []ferryv1.Step {
	return []ferryv1.Step{{Name: StepCancelMovers, Phase: ferryv1.StepPending}, {Name: StepCancelDelete, Phase: ferryv1.StepPending},
		{Name: StepCancelUnquiesce, Phase: ferryv1.StepPending}}
}

// quiesces reports whether the migration stops the source application:
// by default for Cutover, never otherwise.
func quiesces(m *ferryv1.Migration) bool {
	if m.Spec.Type != ferryv1.MigrationCutover {
		return false
	}
	return m.Spec.Quiesce == nil || *m.Spec.Quiesce
}

// current returns the index of the first step that is not finished, or -1.
func current(steps []ferryv1.Step) int {
	for i, s := range steps {
		if s.Phase != ferryv1.StepSucceeded && s.Phase != ferryv1.StepSkipped {
			return i
		}
	}
	return -1
}
