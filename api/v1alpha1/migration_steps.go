package v1alpha1

// CurrentStep returns the index of the first step of an itinerary that is
// not finished (neither Succeeded nor Skipped), or -1 when all are.
func CurrentStep(steps []Step) int {
	for i, s := range steps {
		if s.Phase != StepSucceeded && s.Phase != StepSkipped {
			return i
		}
	}
	return -1
}

// Finished reports whether a migration has nothing left to do: it
// succeeded or was canceled.
func (m *Migration) Finished() bool {
	return m.Status.Phase == MigrationSucceeded || m.Status.Phase == MigrationCanceled
}

// Stopped reports whether a migration is not running: it finished, or it
// failed and waits for a retry or a cancel.
func (m *Migration) Stopped() bool {
	return m.Finished() || m.Status.Phase == MigrationFailed
}
