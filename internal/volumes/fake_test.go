package volumes

import (
	"context"
	"slices"
)

// fakePath is an in-memory Path: each transfer's round is an Observation
// that the test sets and that Start and Reset change as a path would.
type fakePath struct {
	// name is the path's name; "fake" when empty.
	name   string
	rounds map[Transfer]*Observation
	// ready is what Prepare returns.
	ready Readiness
	// resetGone is what Reset returns: the round went at once.
	resetGone bool
	// observeErr and resetErr, when set, are returned by those calls.
	observeErr, resetErr error

	prepared [][]Transfer
	started  []Transfer
	reset    []Transfer
}

var _ Path = (*fakePath)(nil)

func newFake(ready bool) *fakePath {
	return &fakePath{rounds: map[Transfer]*Observation{}, ready: Readiness{Ready: ready, Message: "waiting for the repository"}}
}

func (f *fakePath) Name() string {
	if f.name != "" {
		return f.name
	}
	return "fake"
}

func (f *fakePath) Prepare(_ context.Context, transfers []Transfer) (Readiness, error) {
	f.prepared = append(f.prepared, slices.Clone(transfers))
	return f.ready, nil
}

func (f *fakePath) Start(_ context.Context, t Transfer) (string, error) {
	f.started = append(f.started, t)
	f.rounds[t] = &Observation{State: RoundStarting}
	return "starting the fake round", nil
}

func (f *fakePath) Observe(_ context.Context, t Transfer) (Observation, error) {
	if f.observeErr != nil {
		return Observation{}, f.observeErr
	}
	if o, ok := f.rounds[t]; ok {
		return *o, nil
	}
	return Observation{State: RoundNotStarted}, nil
}

func (f *fakePath) Reset(_ context.Context, t Transfer) (bool, error) {
	if f.resetErr != nil {
		return false, f.resetErr
	}
	f.reset = append(f.reset, t)
	if f.resetGone {
		delete(f.rounds, t)
	} else {
		f.rounds[t] = &Observation{State: RoundTerminating, Message: "fake round terminating"}
	}
	return f.resetGone, nil
}

// Cleanup is not called by Sync.
func (f *fakePath) Cleanup(context.Context) (bool, error) { return true, nil }
