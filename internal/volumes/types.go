package volumes

import (
	"errors"
	"ferry.dev/ferry/internal/mover"
	"fmt"
	"strings"
	"time"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// ErrTransferFailed is wrapped by the error Sync returns when a transfer
// failed for good (its attempts are used up, or a rerun cannot help):
// only a retry by the user helps. Other errors of Sync are API errors
// worth retrying at once.
var ErrTransferFailed = errors.New("volume transfer failed")

// Transfer is one claim to copy.
type Transfer struct {
	SourceNamespace, SourceClaim string
	// DestinationClaim must exist before Sync is called.
	DestinationNamespace, DestinationClaim string
	// RunAs is the identity of the transfer's movers in a namespace
	// that enforces the restricted Pod Security Standard, where they
	// cannot run as root (moverpod.RunAs of the claim's usage); the zero
	// value means the default one.
	RunAs mover.Identity
	// Verify asks the copy to compare every file's checksum on both sides
	// once it is done (the claim's PlanPVC.Verify, for a copy after
	// quiesce: the source must be still). The repository path checks
	// every chunk's hash as it restores, always.
	Verify bool
}

// Describe names a transfer in messages. (Not a String method: it would
// be promoted to VolumeProgress and hide its other fields from fmt.)
func Describe(t Transfer) string {
	return fmt.Sprintf("%s/%s -> %s/%s", t.SourceNamespace, t.SourceClaim, t.DestinationNamespace, t.DestinationClaim)
}

// Policy is how Sync retries failed rounds.
type Policy struct {
	// MaxAttempts is how many rounds a transfer runs before a failure is
	// returned; 0 means DefaultMaxAttempts. Failures a rerun cannot fix
	// (a full destination volume) are returned at once.
	MaxAttempts int
	// RetryPause is the pause after a first failed attempt; it grows four
	// times with each further one. 0 means DefaultRetryPause.
	RetryPause time.Duration
	// Final marks the last copy after the source was quiesced: the source
	// must be still, so a round that ends with warnings (entries changed
	// or vanished under it) means something still writes. It runs again,
	// and if it persists the transfer fails naming the claim and the
	// entry. Otherwise (a stage) warnings are reported and the copy
	// succeeds: the next round copies what changed.
	Final bool
}

// Defaults of Policy.
const (
	DefaultMaxAttempts = 3
	DefaultRetryPause  = 5 * time.Second
)

// SenderGrace is how long a round whose receiver ended first waits for
// the report of the sender that was connected to it before deciding on
// the receiver's account.
const SenderGrace = 15 * time.Second

func (p Policy) maxAttempts() int {
	if p.MaxAttempts > 0 {
		return p.MaxAttempts
	}
	return DefaultMaxAttempts
}

// retryPause is the pause after attempt n failed.
func (p Policy) retryPause(n int) time.Duration {
	d := p.RetryPause
	if d <= 0 {
		d = DefaultRetryPause
	}
	return d << (2 * min(max(n-1, 0), 8))
}

// Phase of one transfer.
type Phase string

// Phases of a transfer.
const (
	// PhasePending: the round is being created or scheduled, or waits
	// for something (Message says what).
	PhasePending Phase = "Pending"
	// PhaseRunning: the round runs.
	PhaseRunning Phase = "Running"
	// PhaseRetrying: a round failed with an error a rerun may fix; a new
	// one starts after a pause. Message says why.
	PhaseRetrying Phase = "Retrying"
	// PhaseSucceeded: the copy finished; the destination matches.
	PhaseSucceeded Phase = "Succeeded"
	// PhaseFailed: the copy failed and the failure was reported; Message
	// says why.
	PhaseFailed Phase = "Failed"
)

// State is the progress of all transfers.
type State struct {
	// Path is the name of the path Sync drove (for a Dispatch, its
	// paths' names joined: "local+direct").
	Path string
	// Done is true when every transfer Succeeded.
	Done bool
	// Volumes has one entry per transfer, in the order given to Sync.
	Volumes []VolumeProgress
}

// VolumeProgress is the progress of one transfer.
type VolumeProgress struct {
	Transfer
	// Path names the path that copies the transfer: State.Path, or for a
	// Dispatch the one its route names.
	Path  string
	Phase Phase
	// Attempt numbers the current round, from 1.
	Attempt int
	// MoverPhase is the phase of the copier's last progress report
	// (connecting, transferring, finalizing, verifying, done, failed), or
	// empty before the first one.
	MoverPhase string
	// Counters of the last progress report. BytesTotal and FilesTotal
	// grow while the source is still being scanned.
	BytesDone, BytesTotal int64
	FilesDone, FilesTotal int64
	// What the round did so far (see Progress).
	BytesSent, Skipped, Deleted, Partial, Reused int64
	BytesMatched                                 int64
	BytesNew, BytesUploaded, BytesDownloaded     int64
	// Verified: the round verified every file's checksum (VolumeStatus.Verified).
	Verified bool
	// Message explains a Pending, Retrying or Failed phase.
	Message string
}

// Statuses are the volumes as the Migration's status keeps them; pass
// them to the next Sync.
func (s State) Statuses() []ferryv1.VolumeStatus {
	out := make([]ferryv1.VolumeStatus, 0, len(s.Volumes))
	for _, v := range s.Volumes {
		out = append(out, ferryv1.VolumeStatus{Namespace: v.SourceNamespace, Claim: v.SourceClaim,
			TargetNamespace: v.DestinationNamespace, TargetClaim: v.DestinationClaim, Path: v.pathName(s.Path), Phase: string(v.Phase),
			Attempt: v.Attempt, BytesDone: v.BytesDone, BytesTotal: v.BytesTotal,
			FilesDone: v.FilesDone, FilesTotal: v.FilesTotal, BytesSent: v.BytesSent, FilesSkipped: v.Skipped,
			Deleted: v.Deleted, Partial: v.Partial, Reused: v.Reused, BytesMatched: v.BytesMatched,
			BytesNew: v.BytesNew, BytesUploaded: v.BytesUploaded, BytesDownloaded: v.BytesDownloaded, Verified: v.Verified, Message: v.Message})
	}
	return out
}

// pathName is the path named in vp, or else the state's.
func (vp VolumeProgress) pathName(state string) string {
	if vp.Path != "" {
		return vp.Path
	}
	return state
}

// previous finds t's entry among the statuses of the last Sync over the
// path named path: those of another path (an upload before a download)
// do not count. An entry without a path name (written before statuses
// named it, when there was only the direct path) counts for any.
func previous(prev []ferryv1.VolumeStatus, path string, t Transfer) ferryv1.VolumeStatus {
	for _, v := range prev {
		if v.Path != "" && v.Path != path {
			continue
		}
		if v.Namespace == t.SourceNamespace && v.Claim == t.SourceClaim &&
			v.TargetNamespace == t.DestinationNamespace && v.TargetClaim == t.DestinationClaim {
			return v
		}
	}
	return ferryv1.VolumeStatus{}
}

// setProgress copies a progress report into vp.
func (vp *VolumeProgress) setProgress(p Progress) {
	if p.Phase == "" {
		return
	}
	vp.MoverPhase = p.Phase
	vp.BytesDone, vp.BytesTotal = p.BytesDone, p.BytesTotal
	vp.FilesDone, vp.FilesTotal = p.FilesDone, p.FilesTotal
	vp.BytesSent, vp.Skipped, vp.Deleted, vp.Partial, vp.Reused = p.BytesSent, p.Skipped, p.Deleted, p.Partial, p.Reused
	vp.BytesMatched = p.BytesMatched
	vp.BytesNew, vp.BytesUploaded, vp.BytesDownloaded = p.BytesNew, p.BytesUploaded, p.BytesDownloaded
}

// validateTransfers checks that every transfer names its claims and that
// no claim is listed twice.
func validateTransfers(transfers []Transfer) error {
	seenSrc, seenDst := map[string]bool{}, map[string]bool{}
	for _, t := range transfers {
		if t.SourceNamespace == "" || t.SourceClaim == "" || t.DestinationNamespace == "" || t.DestinationClaim == "" {
			return fmt.Errorf("volume copy: transfer %s: namespaces and claims are required", Describe(t))
		}
		src, dst := t.SourceNamespace+"/"+t.SourceClaim, t.DestinationNamespace+"/"+t.DestinationClaim
		if seenSrc[src] {
			return fmt.Errorf("volume copy: source claim %s is listed twice", src)
		}
		if seenDst[dst] {
			return fmt.Errorf("volume copy: destination claim %s is listed twice", dst)
		}
		seenSrc[src], seenDst[dst] = true, true
	}
	return nil
}

// StillWritingError is the error of a transfer whose final copy, after
// quiesce, kept finding the source changing: something still writes to
// the source claim. It wraps ErrTransferFailed. Sync returns it (joined
// with the errors of other transfers); the caller, who can list the
// source's pods, may name them in Writers before it wraps or reports the
// error (a wrapping fmt.Errorf copies the message as it is then).
type StillWritingError struct {
	// Transfer is the transfer whose source changed.
	Transfer Transfer
	// Writers name the pods ("namespace/name") that mount the source
	// claim and still run; empty when the caller found none or did not
	// look.
	Writers []string
	// failure names the copy and what changed.
	failure string
}

// Error names the claim, what changed, the writers when known, and what
// to do.
func (e *StillWritingError) Error() string { return e.failure + ": " + e.advice() }

// Unwrap returns ErrTransferFailed.
func (e *StillWritingError) Unwrap() error { return ErrTransferFailed }

// advice says which pods to stop, when known, and to retry.
func (e *StillWritingError) advice() string {
	if len(e.Writers) == 0 {
		return "stop it (pods without a workload are not quiesced) and run `ferry retry`"
	}
	what := "pod " + e.Writers[0] + " mounts it and runs"
	if len(e.Writers) > 1 {
		what = "pods " + strings.Join(e.Writers, ", ") + " mount it and run"
	}
	return what + " (pods without a workload are not quiesced): stop them (delete a bare pod, scale its workload to zero) and run `ferry retry`"
}

// StillWriting returns the StillWritingErrors in err's tree (Sync joins
// the errors of several transfers); nil when there are none.
func StillWriting(err error) []*StillWritingError {
	switch x := err.(type) {
	case nil:
		return nil
	case *StillWritingError:
		return []*StillWritingError{x}
	case interface{ Unwrap() []error }:
		var out []*StillWritingError
		for _, e := range x.Unwrap() {
			out = append(out, StillWriting(e)...)
		}
		return out
	default:
		return StillWriting(errors.Unwrap(err))
	}
}
