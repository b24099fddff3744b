package volumes

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"ferry.dev/ferry/internal/cluster"
)

// ErrTransferFailed is wrapped by the error Sync returns when a mover pod
// failed: only a retry by the user helps. Other errors of Sync are API
// errors worth retrying at once.
var ErrTransferFailed = errors.New("volume transfer failed")

// Transfer is one claim to copy.
type Transfer struct {
	SourceNamespace, SourceClaim string
	// DestinationClaim must exist before Sync is called.
	DestinationNamespace, DestinationClaim string
}

// describe names a transfer in messages. (Not a String method: it would be
// promoted to VolumeProgress and hide its other fields from fmt.)
func describe(t Transfer) string {
	return fmt.Sprintf("%s/%s -> %s/%s", t.SourceNamespace, t.SourceClaim, t.DestinationNamespace, t.DestinationClaim)
}

// Options of a copy.
type Options struct {
	Source, Destination *cluster.Clients
	// Migration names the Migration; every object created is labelled
	// ferry.dev/migration=<Migration>, app.kubernetes.io/managed-by=ferry
	// and app.kubernetes.io/component=mover.
	Migration string
	// Image is the ferry image, with /usr/local/bin/ferry as entrypoint.
	Image string
	// SameCluster means source and destination are one cluster: the
	// sender dials the receiver's ClusterIP Service by DNS name instead of
	// a NodePort.
	SameCluster bool
	// LoadBalancer exposes receivers through Services of type
	// LoadBalancer instead of node ports, across clusters. Senders dial
	// the load balancer's address, which the server certificate names.
	LoadBalancer bool
	// MaxAttempts is how many times a transfer's movers run before a
	// failure is returned; 0 means DefaultMaxAttempts. Failures a rerun
	// cannot fix (a full destination volume) are returned at once.
	MaxAttempts int
	// RetryPause is the pause after a first failed attempt; it grows four
	// times with each further one. 0 means DefaultRetryPause.
	RetryPause time.Duration
}

// Defaults of Options.
const (
	DefaultMaxAttempts = 3
	DefaultRetryPause  = 5 * time.Second
)

func (o Options) maxAttempts() int {
	if o.MaxAttempts > 0 {
		return o.MaxAttempts
	}
	return DefaultMaxAttempts
}

// retryPause is the pause after attempt n failed.
func (o Options) retryPause(n int) time.Duration {
	p := o.RetryPause
	if p <= 0 {
		p = DefaultRetryPause
	}
	return p << (2 * min(max(n-1, 0), 8))
}

// Phase of one transfer.
type Phase string

// Phases of a transfer.
const (
	// PhasePending: pods are being created or scheduled, or the receiver
	// is not ready yet.
	PhasePending Phase = "Pending"
	// PhaseRunning: the sender runs.
	PhaseRunning Phase = "Running"
	// PhaseRetrying: a mover pod failed with an error a rerun may fix;
	// new pods start after a pause. Message says why.
	PhaseRetrying Phase = "Retrying"
	// PhaseSucceeded: the sender finished; the destination matches.
	PhaseSucceeded Phase = "Succeeded"
	// PhaseFailed: a mover pod failed; Message says why.
	PhaseFailed Phase = "Failed"
)

// State is the progress of all transfers.
type State struct {
	// Done is true when every transfer Succeeded.
	Done bool
	// Volumes has one entry per transfer, in the order given to Sync.
	Volumes []VolumeProgress
}

// VolumeProgress is the progress of one transfer.
type VolumeProgress struct {
	Transfer
	Phase Phase
	// MoverPhase is the phase of the sender's last progress report
	// (connecting, transferring, finalizing, verifying, done, failed), or
	// empty before the first one.
	MoverPhase string
	// Counters of the sender's last progress report. BytesTotal and
	// FilesTotal grow while the source is still being scanned.
	BytesDone, BytesTotal int64
	FilesDone, FilesTotal int64
	// Message explains a Pending or Failed phase.
	Message string
}

// validate checks the options and the transfers.
func (o Options) validate(transfers []Transfer) error {
	if o.Source == nil || o.Source.Kube == nil || o.Destination == nil || o.Destination.Kube == nil {
		return errors.New("volume copy: source and destination clients are required")
	}
	if o.Migration == "" || o.Image == "" {
		return errors.New("volume copy: migration and image are required")
	}
	if errs := validation.IsValidLabelValue(o.Migration); len(errs) > 0 {
		return fmt.Errorf("volume copy: migration name %q is not a valid label value: %v", o.Migration, errs)
	}
	seenSrc, seenDst := map[string]bool{}, map[string]bool{}
	for _, t := range transfers {
		if t.SourceNamespace == "" || t.SourceClaim == "" || t.DestinationNamespace == "" || t.DestinationClaim == "" {
			return fmt.Errorf("volume copy: transfer %s: namespaces and claims are required", describe(t))
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
