package volumes

import (
	"context"
	"errors"
	"fmt"
	"time"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/mover"
)

// Sync advances the copy of every transfer over p by one pass and returns
// the current State: it observes each transfer's round, starts the rounds
// that are missing, resets failed ones for a rerun and reports failures.
// It never waits for a copy; call it again until State.Done.
//
// prev are the volume statuses the last call returned (State.Statuses,
// as the Migration's status keeps them): they carry the attempt numbers
// and which failures were reported. Entries of another path, or of
// claims no longer listed, are ignored. Sync returns a State with one entry
// per transfer, also with an error, unless the transfers are invalid.
//
// A transfer whose round is done stays Succeeded: nothing new starts. A
// failure is reported once, with an error wrapping ErrTransferFailed; the
// next call (after the user retried) resets the round and starts over at
// attempt 1.
func Sync(ctx context.Context, p Path, pol Policy, transfers []Transfer, prev []ferryv1.VolumeStatus) (State, error) {
	if err := validateTransfers(transfers); err != nil {
		return State{}, err
	}
	st := State{Path: p.Name(), Volumes: make([]VolumeProgress, len(transfers))}
	var errs []error
	var toStart []int
	for i, t := range transfers {
		name := pathName(p, t)
		start, err := advance(ctx, p, pol, t, previous(prev, name, t), &st.Volumes[i])
		st.Volumes[i].Path = name
		if err != nil {
			errs = append(errs, err)
		}
		if start {
			toStart = append(toStart, i)
		}
	}
	if len(toStart) > 0 {
		if err := startAll(ctx, p, transfers, toStart, st.Volumes); err != nil {
			errs = append(errs, err)
		}
	}
	st.Done = true
	for _, v := range st.Volumes {
		st.Done = st.Done && v.Phase == PhaseSucceeded
	}
	return st, errors.Join(errs...)
}

// advance observes one transfer's round, sets its progress in vp and
// deals with done, failed and stale rounds. It returns true when the
// round must be started.
func advance(ctx context.Context, p Path, pol Policy, t Transfer, prev ferryv1.VolumeStatus, vp *VolumeProgress) (bool, error) {
	reported := Phase(prev.Phase) == PhaseFailed
	*vp = VolumeProgress{Transfer: t, Phase: PhasePending, Attempt: max(prev.Attempt, 1)}
	if reported {
		// The failure was returned and the step is being retried.
		vp.Attempt = 1
	}
	obs, err := p.Observe(ctx, t)
	if err != nil {
		keepPrevious(vp, prev)
		return false, err
	}
	vp.setProgress(obs.Progress)
	vp.Message = obs.Message
	switch {
	case (obs.State == RoundDone || obs.Progress.Phase == mover.PhaseDone) && obs.Progress.Warnings > 0 && pol.Final:
		return retryOrFail(ctx, p, pol, t, stillWrites(t, obs), vp)
	case obs.State == RoundDone || obs.Progress.Phase == mover.PhaseDone:
		// The sender's last report says the destination matches what it
		// read; whatever else ended (the receiver's pod) came after.
		vp.Phase, vp.Message, vp.Verified = PhaseSucceeded, "", t.Verify
		if w := obs.Progress.Warnings; w > 0 {
			vp.Message = fmt.Sprintf("%s changed or vanished while the application ran (first: %s); the next stage or the cutover copies them",
				entries(w), obs.Progress.FirstWarning)
			if n := obs.Progress.Partial; n > 0 {
				vp.Message += fmt.Sprintf(" (of %d large files, what was read is kept there: only the blocks that differ will travel)", n)
			}
		}
		return false, nil
	case obs.State == RoundFailed && reported:
		vp.Message = "restarting the copy after a failure"
		return reset(ctx, p, t, vp)
	case obs.State == RoundFailed:
		return retryOrFail(ctx, p, pol, t, obs.Failure, vp)
	case obs.State == RoundStale:
		return reset(ctx, p, t, vp)
	case obs.State == RoundTerminating:
		return false, nil
	case obs.State == RoundRunning:
		vp.Phase = PhaseRunning
	}
	return obs.State == RoundNotStarted || obs.Incomplete, nil
}

// stillWrites is the failure of a final round during which the source
// changed: after quiesce, something still writes to the claim.
func stillWrites(t Transfer, obs Observation) Failure {
	return Failure{Where: "the final copy", At: obs.Failure.At, stillWrites: true, Message: fmt.Sprintf(
		"a pod still writes to claim %s/%s after quiesce (%d entries changed, first: %s)",
		t.SourceNamespace, t.SourceClaim, obs.Progress.Warnings, obs.Progress.FirstWarning)}
}

// keepPrevious fills vp from the previous status when the round could not be
// observed, so that nothing Sync must remember is lost.
func keepPrevious(vp *VolumeProgress, prev ferryv1.VolumeStatus) {
	if prev.Phase != "" {
		vp.Phase = Phase(prev.Phase)
	}
	vp.Attempt = max(prev.Attempt, 1)
	vp.BytesDone, vp.BytesTotal, vp.FilesDone, vp.FilesTotal = prev.BytesDone, prev.BytesTotal, prev.FilesDone, prev.FilesTotal
	vp.BytesSent, vp.Skipped, vp.Deleted, vp.Partial, vp.Reused = prev.BytesSent, prev.FilesSkipped, prev.Deleted, prev.Partial, prev.Reused
	vp.BytesMatched, vp.Verified = prev.BytesMatched, prev.Verified
	vp.BytesNew, vp.BytesUploaded, vp.BytesDownloaded = prev.BytesNew, prev.BytesUploaded, prev.BytesDownloaded
	vp.Message = prev.Message
}

// retryOrFail handles a failed round: after a pause that grows with each
// attempt it resets the round, so that a new one starts; once the
// attempts are used up, or when a rerun cannot help, it reports the
// failure. The sender's account decides: a round whose receiver ended
// first waits SenderGrace for the report of the sender.
func retryOrFail(ctx context.Context, p Path, pol Policy, t Transfer, f Failure, vp *VolumeProgress) (bool, error) {
	if f.ReceiverOnly && time.Since(f.At) < SenderGrace {
		vp.Message = "the receiver stopped (" + f.Message + "); waiting for the sender's report"
		return false, nil
	}
	attempt, most := vp.Attempt, pol.maxAttempts()
	if f.Permanent || attempt >= most {
		msg := f.Message
		if attempt > 1 {
			msg = fmt.Sprintf("attempt %d of %d: %s", attempt, most, msg)
		}
		if f.stillWrites {
			sw := &StillWritingError{Transfer: t, failure: fmt.Sprintf("copy %s: %s failed: %s", Describe(t), f.Where, msg)}
			vp.Phase, vp.Message = PhaseFailed, msg+": "+sw.advice()
			return false, sw
		}
		vp.Phase, vp.Message = PhaseFailed, msg
		return false, fmt.Errorf("copy %s: %s failed: %s: %w", Describe(t), f.Where, msg, ErrTransferFailed)
	}
	vp.Phase = PhaseRetrying
	if wait := pol.retryPause(attempt) - time.Since(f.At); wait > 0 {
		vp.Message = fmt.Sprintf("attempt %d of %d failed: %s; retrying in %s", attempt, most, f.Message, wait.Round(time.Second))
		return false, nil
	}
	vp.Message = fmt.Sprintf("attempt %d of %d failed: %s; retrying now", attempt, most, f.Message)
	start, err := reset(ctx, p, t, vp)
	if err != nil {
		return false, err
	}
	vp.Attempt = attempt + 1
	return start, nil
}

// reset deletes a round so that a new one starts; when nothing of it is
// left, the new one starts in this pass.
func reset(ctx context.Context, p Path, t Transfer, vp *VolumeProgress) (bool, error) {
	gone, err := p.Reset(ctx, t)
	if err != nil {
		return false, fmt.Errorf("reset the %s copy of %s: %w", pathName(p, t), Describe(t), err)
	}
	if gone {
		vp.Phase = PhasePending
	}
	return gone, nil
}

// startAll prepares the path, then starts the rounds of transfers[i] for
// every i in which.
func startAll(ctx context.Context, p Path, transfers []Transfer, which []int, vols []VolumeProgress) error {
	r, err := p.Prepare(ctx, transfers)
	if err != nil {
		return err
	}
	if !r.Ready {
		for _, i := range which {
			vols[i].Message = r.Message
		}
		return nil
	}
	var errs []error
	for _, i := range which {
		msg, err := p.Start(ctx, transfers[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if msg != "" {
			vols[i].Message = msg
		}
	}
	return errors.Join(errs...)
}

// entries says "1 entry" or "N entries".
func entries(n int64) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}
