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
