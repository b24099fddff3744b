package volumes

import (
	"context"
	"time"
)

// Path is one way of carrying a claim's data from the source to the
// destination: the direct mover pod pair (package direct), the same-node
// local copy (package local), and later an upload to and download from
// object storage.
// [Sync] drives a Path; the Path knows its own objects, Sync decides.
//
// No method blocks: each does one pass of API calls and returns. What a
// Path must remember between calls lives in the clusters (its objects) or
// in the volume statuses Sync keeps; a Path value may carry what Prepare
// found to the Start calls of the same pass, nothing longer.
type Path interface {
	// Name names the path in messages ("direct").
	Name() string
	// Prepare sets up what the rounds of every transfer share (for the
	// direct path: certificates and load balancers). It gets all
	// transfers of the copy and is called in a pass before any Start;
	// Ready false means "not yet, call again later", with a Message.
	Prepare(ctx context.Context, transfers []Transfer) (Readiness, error)
	// Start creates what a round of t misses and may return a message
	// saying what it did or waits for. It is idempotent.
	Start(ctx context.Context, t Transfer) (message string, err error)
	// Observe reads the state of t's current round and changes nothing.
	Observe(ctx context.Context, t Transfer) (Observation, error)
	// Reset deletes t's round before it starts again; gone is true once
	// nothing of it is left.
	Reset(ctx context.Context, t Transfer) (gone bool, err error)
	// Cleanup deletes every object of the copy on every cluster; done is
	// false while some are still going (call it again).
	Cleanup(ctx context.Context) (done bool, err error)
}

// Readiness is what Prepare found.
type Readiness struct {
	// Ready means the rounds may start.
	Ready bool
	// Message says what a path that is not ready waits for.
	Message string
}

// RoundState is what Observe found of a transfer's round.
type RoundState string

// States of a round.
const (
	// RoundNotStarted: nothing of the round exists; Start creates it.
	RoundNotStarted RoundState = "NotStarted"
	// RoundStarting: the round is being created or scheduled.
	RoundStarting RoundState = "Starting"
	// RoundRunning: data may be moving; Progress says how far.
	RoundRunning RoundState = "Running"
	// RoundDone: the round finished and the destination matches.
	RoundDone RoundState = "Done"
	// RoundFailed: the round ended in a failure; Failure says which.
	RoundFailed RoundState = "Failed"
	// RoundTerminating: the round is being deleted.
	RoundTerminating RoundState = "Terminating"
	// RoundStale: what is left of the round cannot go on by itself (for
	// the direct path: the receiver served a sender that is gone). Sync
	// resets it and starts again; it is no failure and costs no attempt.
	RoundStale RoundState = "Stale"
)

// Observation is what Observe found of a transfer's round.
type Observation struct {
	State RoundState
	// Incomplete marks a Starting or Running round of which a part is
	// missing: Sync calls Start for it, as for a NotStarted one.
	Incomplete bool
	// Progress is the last progress report of the side that copies, if
	// it has made one. Phase PhaseDone means the destination matched,
	// whatever State says: the sender's account decides.
	Progress Progress
	// Message says what a Starting, Running, Terminating or Stale round
	// waits for.
	Message string
	// Failure describes a Failed round.
	Failure Failure
}

// Progress is a copier's report; Phase and counters as in mover.Progress.
type Progress struct {
	// Phase: connecting, transferring, finalizing, verifying, done or
	// failed; empty before the first report.
	Phase string
	// BytesTotal and FilesTotal grow while the source is scanned.
	BytesDone, BytesTotal int64
	FilesDone, FilesTotal int64
	// Warnings counts entries that changed, vanished or were skipped
	// under the copy; FirstWarning says what the first was and where.
	Warnings     int64
	FirstWarning string
	// Partial counts large files that changed under the copy and whose
	// partial copy the destination keeps as the next round's basis.
	Partial int64
	// Traffic: file data bytes sent, files skipped as unchanged, entries
	// deleted, large files sent against a renamed file's content.
	BytesSent, Skipped, Deleted, Reused int64
	// BytesMatched: bytes of large files found unchanged by block
	// comparison (not sent).
	BytesMatched int64
	// BytesNew, BytesUploaded, BytesDownloaded: a copy through the
	// repository (see ferryv1.VolumeStatus).
	BytesNew, BytesUploaded, BytesDownloaded int64
}

// Failure is why a round failed.
type Failure struct {
	// Where names what failed, for the error ("sender pod ns/name").
	Where string
	// Message is the copier's own account of the failure.
	Message string
	// Permanent is set when a rerun would fail the same way (a full
	// destination volume, an unsafe path): Sync reports it at once.
	Permanent bool
	// At is when the round ended; the pause before a rerun counts from
	// it. Zero when unknown.
	At time.Time
	// ReceiverOnly is set when only the receiving side ended, while the
	// side that reports (and had connected) still runs: Sync waits
	// SenderGrace from At for that report before deciding on this one.
	ReceiverOnly bool
	// stillWrites marks the failure Sync makes of a final round whose
	// source changed under it.
	stillWrites bool
}
