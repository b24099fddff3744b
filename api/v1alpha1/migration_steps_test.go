package v1alpha1

import "testing"

func TestCurrentStep(t *testing.T) {
	steps := func(phases ...StepPhase) []Step {
		var out []Step
		for _, p := range phases {
			out = append(out, Step{Phase: p})
		}
		return out
	}
	tests := []struct {
		name  string
		steps []Step
		want  int
	}{
		{"no itinerary", nil, -1},
		{"all done", steps(StepSucceeded, StepSkipped), -1},
		{"running", steps(StepSucceeded, StepRunning, StepPending), 1},
		{"failed", steps(StepSkipped, StepFailed, StepPending), 1},
		{"pending first", steps(StepPending, StepPending), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CurrentStep(tt.steps); got != tt.want {
				t.Errorf("CurrentStep = %d, want %d", got, tt.want)
			}
		})
	}
}
