package volumes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/mover"
)

var testTransfer = Transfer{SourceNamespace: "shop", SourceClaim: "data", DestinationNamespace: "shop-new", DestinationClaim: "data"}

// prevStatus is the status of testTransfer as a last Sync left it.
func prevStatus(phase Phase, attempt int) []ferryv1.VolumeStatus {
	return []ferryv1.VolumeStatus{{Namespace: "shop", Claim: "data", TargetNamespace: "shop-new", TargetClaim: "data",
		Phase: string(phase), Attempt: attempt, BytesDone: 7, Message: "before"}}
}

func failedRound(msg string, ago time.Duration) *Observation {
	return &Observation{State: RoundFailed, Failure: Failure{Where: "sender pod shop/x", Message: msg, At: time.Now().Add(-ago)}}
}

// TestSyncDecides runs one Sync of one transfer against a fake path for
// each kind of round and checks what the orchestration decided.
func TestSyncDecides(t *testing.T) {
	pol := Policy{MaxAttempts: 3, RetryPause: time.Minute}
	receiverFailed := func(ago time.Duration) *Observation {
		o := failedRound("receiver: killed", ago)
		o.Failure.ReceiverOnly, o.Progress = true, Progress{Phase: "transferring", BytesDone: 5}
		return o
	}
	permanent := failedRound("destination volume is full", time.Hour)
	permanent.Failure.Permanent = true
	tests := []struct {
		name      string
		round     *Observation // nil: not started
		prev      []ferryv1.VolumeStatus
		notReady  bool
		resetGone bool
		// want
		phase       Phase
		attempt     int
		msg         string // contained in the message
		started     bool
		reset       bool
		reported    bool // an error wrapping ErrTransferFailed
		bytesDone   int64
		doneOverall bool
	}{
		{name: "not started: prepared and started", phase: PhasePending, attempt: 1, msg: "starting the fake round", started: true},
		{name: "path not ready: nothing started", notReady: true, phase: PhasePending, attempt: 1, msg: "waiting for the repository"},
		{name: "starting", round: &Observation{State: RoundStarting, Message: "pod is Pending"}, phase: PhasePending, attempt: 1, msg: "pod is Pending"},
		{name: "running with progress", round: &Observation{State: RoundRunning, Progress: Progress{Phase: "transferring", BytesDone: 100}},
			prev: prevStatus(PhaseRunning, 2), phase: PhaseRunning, attempt: 2, bytesDone: 100},
		{name: "running, part missing: started", round: &Observation{State: RoundRunning, Incomplete: true},
			phase: PhaseRunning, attempt: 1, msg: "starting the fake round", started: true},
		{name: "done", round: &Observation{State: RoundDone, Progress: Progress{Phase: mover.PhaseDone, BytesDone: 9}},
			phase: PhaseSucceeded, attempt: 1, bytesDone: 9, doneOverall: true},
		{name: "the sender's done report wins over a failed receiver",
			round: &Observation{State: RoundFailed, Progress: Progress{Phase: mover.PhaseDone}, Failure: Failure{Message: "receiver: killed"}},
			phase: PhaseSucceeded, attempt: 1, doneOverall: true},
		{name: "failed, pause not over", round: failedRound("connection reset", 30*time.Second),
			phase: PhaseRetrying, attempt: 1, msg: "attempt 1 of 3 failed: connection reset; retrying in 30s"},
		{name: "failed, pause over: reset, next attempt", round: failedRound("connection reset", 2*time.Minute),
			phase: PhaseRetrying, attempt: 2, msg: "attempt 1 of 3 failed: connection reset; retrying now", reset: true},
		{name: "second pause is four times longer", round: failedRound("connection reset", 2*time.Minute), prev: prevStatus(PhaseRunning, 2),
			phase: PhaseRetrying, attempt: 2, msg: "attempt 2 of 3 failed: connection reset; retrying in 2m0s"},
		{name: "reset and gone: next round starts in the same pass", round: failedRound("connection reset", 2*time.Minute), resetGone: true,
			phase: PhasePending, attempt: 2, msg: "starting the fake round", reset: true, started: true},
		{name: "last attempt: reported", round: failedRound("connection reset", time.Second), prev: prevStatus(PhaseRunning, 3),
			phase: PhaseFailed, attempt: 3, msg: "attempt 3 of 3: connection reset", reported: true},
		{name: "permanent: reported at once", round: permanent,
			phase: PhaseFailed, attempt: 1, msg: "destination volume is full", reported: true},
		{name: "reported before: the user retried, start over at 1", round: failedRound("connection reset", time.Second), prev: prevStatus(PhaseFailed, 3),
			phase: PhasePending, attempt: 1, msg: "restarting the copy after a failure", reset: true},
		{name: "receiver ended first: wait for the sender's report", round: receiverFailed(time.Second),
			phase: PhasePending, attempt: 1, msg: "the receiver stopped (receiver: killed); waiting for the sender's report", bytesDone: 5},
		{name: "receiver ended first, no report within the grace: counted", round: receiverFailed(SenderGrace + 2*time.Minute),
			phase: PhaseRetrying, attempt: 2, msg: "attempt 1 of 3 failed: receiver: killed; retrying now", reset: true, bytesDone: 5},
		{name: "terminating: wait", round: &Observation{State: RoundTerminating, Message: "pods terminating"}, prev: prevStatus(PhaseRetrying, 2),
			phase: PhasePending, attempt: 2, msg: "pods terminating"},
		{name: "stale: reset without an attempt", round: &Observation{State: RoundStale, Message: "the sender pod is gone"}, prev: prevStatus(PhaseRunning, 2),
			phase: PhasePending, attempt: 2, msg: "the sender pod is gone", reset: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(!tt.notReady)
			f.resetGone = tt.resetGone
			if tt.round != nil {
				f.rounds[testTransfer] = tt.round
			}
			st, err := Sync(context.Background(), f, pol, []Transfer{testTransfer}, tt.prev)
			if got := errors.Is(err, ErrTransferFailed); got != tt.reported || (!tt.reported && err != nil) {
				t.Fatalf("error %v, want reported %v", err, tt.reported)
			}
			if tt.reported && !strings.Contains(err.Error(), "copy shop/data -> shop-new/data: sender pod shop/x failed: "+tt.msg) {
				t.Errorf("error %q does not name the transfer, the pod and the message", err)
			}
			v := st.Volumes[0]
			if v.Phase != tt.phase || v.Attempt != tt.attempt || !strings.Contains(v.Message, tt.msg) || v.BytesDone != tt.bytesDone {
				t.Errorf("volume %+v, want phase %s attempt %d message %q bytes %d", v, tt.phase, tt.attempt, tt.msg, tt.bytesDone)
			}
			if st.Done != tt.doneOverall {
				t.Errorf("Done = %v", st.Done)
			}
			if (len(f.started) > 0) != tt.started || (len(f.reset) > 0) != tt.reset {
				t.Errorf("started %v, reset %v; want %v, %v", f.started, f.reset, tt.started, tt.reset)
			}
			if tt.started && (len(f.prepared) != 1 || len(f.prepared[0]) != 1) {
				t.Errorf("prepared %v, want once with the transfer", f.prepared)
			}
		})
	}
}

// TestSyncReportsOnce threads the statuses through calls as the
// Migration's status does: a failure is returned once, the next call
// (the user's retry) starts over, and done stays done.
func TestSyncReportsOnce(t *testing.T) {
	ctx := context.Background()
	f := newFake(true)
	pol := Policy{MaxAttempts: 2, RetryPause: time.Millisecond}
	var prev []ferryv1.VolumeStatus
	step := func() (State, error) {
		st, err := Sync(ctx, f, pol, []Transfer{testTransfer}, prev)
		prev = st.Statuses()
		return st, err
	}
	mustPhase := func(st State, err error, want Phase, attempt int) {
		t.Helper()
		if err != nil || st.Volumes[0].Phase != want || st.Volumes[0].Attempt != attempt {
			t.Fatalf("Sync = %+v, %v; want %s at attempt %d", st.Volumes[0], err, want, attempt)
		}
	}
	st, err := step()
	mustPhase(st, err, PhasePending, 1)
	f.rounds[testTransfer] = failedRound("connection reset", time.Second)
	st, err = step()
	mustPhase(st, err, PhaseRetrying, 2)
	delete(f.rounds, testTransfer) // the pods went
	st, err = step()
	mustPhase(st, err, PhasePending, 2)
	f.rounds[testTransfer] = failedRound("connection reset", 0)
	if st, err = step(); !errors.Is(err, ErrTransferFailed) || st.Volumes[0].Phase != PhaseFailed {
		t.Fatalf("last attempt: %+v, %v", st.Volumes[0], err)
	}
	if prev[0].Phase != string(PhaseFailed) || prev[0].Attempt != 2 {
		t.Fatalf("status after the report %+v", prev[0])
	}
	st, err = step()
	mustPhase(st, err, PhasePending, 1)
	if len(f.reset) != 2 {
		t.Errorf("%d resets, want 2", len(f.reset))
	}
	f.rounds[testTransfer] = &Observation{State: RoundDone}
	for range 2 {
		if st, err := step(); err != nil || !st.Done || st.Volumes[0].Phase != PhaseSucceeded {
			t.Fatalf("done: %+v, %v", st, err)
		}
	}
}

// TestSyncSeveralTransfers: Prepare sees every transfer once per pass,
// only the transfers that need it start, Done waits for all.
func TestSyncSeveralTransfers(t *testing.T) {
	other := Transfer{SourceNamespace: "shop", SourceClaim: "logs", DestinationNamespace: "shop-new", DestinationClaim: "logs"}
	f := newFake(true)
	f.rounds[testTransfer] = &Observation{State: RoundDone}
	st, err := Sync(context.Background(), f, Policy{}, []Transfer{testTransfer, other}, nil)
	if err != nil || st.Done || st.Volumes[0].Phase != PhaseSucceeded || st.Volumes[1].Phase != PhasePending {
		t.Fatalf("Sync = %+v, %v", st, err)
	}
	if len(f.prepared) != 1 || len(f.prepared[0]) != 2 || len(f.started) != 1 || f.started[0] != other {
		t.Errorf("prepared %v, started %v", f.prepared, f.started)
	}
	f.rounds[other] = &Observation{State: RoundDone}
	if st, err := Sync(context.Background(), f, Policy{}, []Transfer{testTransfer, other}, st.Statuses()); err != nil || !st.Done {
		t.Fatalf("Sync = %+v, %v", st, err)
	}
}

// TestSyncKeepsStatusOnErrors: a round that cannot be observed keeps its
// previous status; an attempt counts only once its reset went through.
func TestSyncKeepsStatusOnErrors(t *testing.T) {
	ctx := context.Background()
	f := newFake(true)
	f.observeErr = errors.New("api down")
	st, err := Sync(ctx, f, Policy{}, []Transfer{testTransfer}, prevStatus(PhaseRetrying, 2))
	if v := st.Volumes[0]; err == nil || v.Phase != PhaseRetrying || v.Attempt != 2 || v.BytesDone != 7 || v.Message != "before" {
		t.Fatalf("observe error: %+v, %v", v, err)
	}
	f.observeErr, f.resetErr = nil, errors.New("api down")
	f.rounds[testTransfer] = failedRound("connection reset", time.Hour)
	st, err = Sync(ctx, f, Policy{}, []Transfer{testTransfer}, nil)
	if v := st.Volumes[0]; err == nil || errors.Is(err, ErrTransferFailed) || v.Attempt != 1 {
		t.Fatalf("reset error: %+v, %v", v, err)
	}
}

// TestSyncIgnoresOtherPaths: the statuses of an earlier step over another
// path (an upload before a download) neither report nor count attempts.
func TestSyncIgnoresOtherPaths(t *testing.T) {
	f := newFake(true)
	f.rounds[testTransfer] = failedRound("connection reset", time.Second)
	prev := prevStatus(PhaseFailed, 3)
	prev[0].Path = "upload"
	st, err := Sync(context.Background(), f, Policy{RetryPause: time.Minute}, []Transfer{testTransfer}, prev)
	if v := st.Volumes[0]; err != nil || v.Phase != PhaseRetrying || v.Attempt != 1 || len(f.reset) != 0 {
		t.Fatalf("Sync = %+v, %v; want attempt 1 retrying", v, err)
	}
	if got := st.Statuses()[0].Path; got != "fake" {
		t.Errorf("status path %q, want fake", got)
	}
	prev[0].Path = ""
	if st, _ := Sync(context.Background(), f, Policy{}, []Transfer{testTransfer}, prev); st.Volumes[0].Attempt != 1 || len(f.reset) != 1 {
		t.Errorf("a status without a path is not taken as this path's: %+v", st.Volumes[0])
	}
}

func TestSyncInvalidTransfers(t *testing.T) {
	st, err := Sync(context.Background(), newFake(true), Policy{}, []Transfer{{SourceNamespace: "a"}}, nil)
	if err == nil || len(st.Volumes) != 0 {
		t.Fatalf("Sync = %+v, %v; want an error and no state", st, err)
	}
}

// TestSyncWarnings: a round that ends with warnings succeeds in a stage,
// saying so; in the final copy after quiesce it runs again, and when the
// source keeps changing the transfer fails naming the claim and the entry.
func TestSyncWarnings(t *testing.T) {
	changed := func(warnings, partial int64) *Observation {
		return &Observation{State: RoundDone, Progress: Progress{Phase: mover.PhaseDone, Warnings: warnings, Partial: partial,
			FirstWarning: "source file changed during transfer; not copied: db/wal"}}
	}
	tests := []struct {
		name     string
		warnings int64
		partial  int64
		final    bool
		prev     []ferryv1.VolumeStatus
		phase    Phase
		attempt  int
		msg      string
		reset    bool
		reported bool
	}{
		{name: "stage: succeeds and says what changed", warnings: 2, phase: PhaseSucceeded, attempt: 1,
			msg: "2 entries changed or vanished while the application ran (first: source file changed during transfer; not copied: db/wal); the next stage or the cutover copies them"},
		{name: "stage: one entry, a large file kept in part", warnings: 1, partial: 1, phase: PhaseSucceeded, attempt: 1,
			msg: "1 entry changed or vanished while the application ran (first: source file changed during transfer; not copied: db/wal); the next stage or the cutover copies them (of 1 large files, what was read is kept there"},
		{name: "final: runs again", warnings: 2, final: true, phase: PhaseRetrying, attempt: 2, reset: true,
			msg: "a pod still writes to claim shop/data after quiesce (2 entries changed, first: source file changed during transfer; not copied: db/wal)"},
		{name: "final, last attempt: fails", warnings: 2, final: true, prev: prevStatus(PhaseRetrying, 3), phase: PhaseFailed, attempt: 3, reported: true,
			msg: "stop it (pods without a workload are not quiesced) and run `ferry retry`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(true)
			f.rounds[testTransfer] = changed(tt.warnings, tt.partial)
			pol := Policy{MaxAttempts: 3, RetryPause: time.Minute, Final: tt.final}
			st, err := Sync(context.Background(), f, pol, []Transfer{testTransfer}, tt.prev)
			if got := errors.Is(err, ErrTransferFailed); got != tt.reported || (!tt.reported && err != nil) {
				t.Fatalf("error %v, want reported %v", err, tt.reported)
			}
			v := st.Volumes[0]
			if v.Phase != tt.phase || v.Attempt != tt.attempt || !strings.Contains(v.Message, tt.msg) {
				t.Errorf("volume %+v, want phase %s attempt %d message %q", v, tt.phase, tt.attempt, tt.msg)
			}
			if (len(f.reset) > 0) != tt.reset {
				t.Errorf("reset %v, want %v", f.reset, tt.reset)
			}
			if sw := StillWriting(err); (len(sw) == 1 && sw[0].Transfer == testTransfer) != tt.reported {
				t.Errorf("StillWriting(%v) = %v, want the transfer: %v", err, sw, tt.reported)
			}
		})
	}
}

// TestStillWritingError: the error of a source that keeps changing names
// the writers once the caller found them, and is found in joined and
// wrapped errors.
func TestStillWritingError(t *testing.T) {
	f := newFake(true)
	f.rounds[testTransfer] = &Observation{State: RoundDone, Progress: Progress{Phase: mover.PhaseDone, Warnings: 1, FirstWarning: "source entry vanished: tmp"}}
	_, err := Sync(context.Background(), f, Policy{MaxAttempts: 1, Final: true}, []Transfer{testTransfer}, nil)
	joined := errors.Join(errors.New("other"), err)
	sw := StillWriting(joined)
	if len(sw) != 1 || !errors.Is(joined, ErrTransferFailed) {
		t.Fatalf("StillWriting(%v) = %v", joined, sw)
	}
	tests := []struct {
		writers []string
		want    string
	}{
		{nil, "a pod still writes to claim shop/data after quiesce (1 entries changed, first: source entry vanished: tmp): stop it (pods without a workload are not quiesced) and run `ferry retry`"},
		{[]string{"shop/rogue"}, "after quiesce (1 entries changed, first: source entry vanished: tmp): pod shop/rogue mounts it and runs (pods without a workload are not quiesced): stop them (delete a bare pod, scale its workload to zero) and run `ferry retry`"},
		{[]string{"shop/a", "shop/b"}, ": pods shop/a, shop/b mount it and run (pods without a workload"},
	}
	for _, tt := range tests {
		sw[0].Writers = tt.writers
		if got := joined.Error(); !strings.Contains(got, tt.want) {
			t.Errorf("writers %v: error\n%s\nwant it to contain\n%s", tt.writers, got, tt.want)
		}
	}
	if sw := StillWriting(fmt.Errorf("step: %w", joined)); len(sw) != 1 {
		t.Errorf("StillWriting of a wrapped error = %v", sw)
	}
	if StillWriting(errors.New("plain")) != nil || StillWriting(nil) != nil {
		t.Error("StillWriting found an error in an unrelated one")
	}
}
