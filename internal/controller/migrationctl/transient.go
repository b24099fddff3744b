package migrationctl

import (
	"errors"
	"net"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"

	"ferry.dev/ferry/internal/volumes"
)

// A step that fails with an error that may go away by itself (an API
// server restarting or overloaded, a write conflict, a dropped
// connection) runs again every transientRetry for up to transientWindow
// before the migration fails; steps are idempotent, so a rerun is safe.
const (
	transientRetry  = 2 * time.Second
	transientWindow = 2 * time.Minute
)

// retryTransient tells whether the step run key should run again after
// err rather than fail.
func (r *Reconciler) retryTransient(key string, err error) bool {
	if !transient(err) {
		return false
	}
	first, _ := r.transientSince.LoadOrStore(key, time.Now())
	return time.Since(first.(time.Time)) < transientWindow
}

// transient tells whether err may go away by itself.
func transient(err error) bool {
	if errors.Is(err, volumes.ErrTransferFailed) {
		return false // the mover pods were retried already
	}
	switch {
	case apierrors.IsServerTimeout(err), apierrors.IsTimeout(err), apierrors.IsTooManyRequests(err),
		apierrors.IsConflict(err), apierrors.IsInternalError(err), apierrors.IsServiceUnavailable(err):
		return true
	case utilnet.IsConnectionRefused(err), utilnet.IsConnectionReset(err), utilnet.IsProbableEOF(err):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
