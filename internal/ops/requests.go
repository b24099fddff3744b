package ops

import (
	"context"
	"fmt"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// AckTimeout is how long WaitAcked waits for the controller to act on a
// request.
const AckTimeout = time.Minute

// FollowInterval is how often Follow reads the migration.
const FollowInterval = 300 * time.Millisecond

// Request is a change asked of a migration (a cancel or a retry); the
// controller has acted on it when Acked says so.
type Request struct {
	// Migration is the migration's name.
	Migration string
	// Cancel is true for a cancel: then a Canceled migration ended as
	// wanted (see Outcome).
	Cancel bool
	acked  func(*ferryv1.Migration) bool
}

// Acked reports whether m shows that the controller acted on the request.
func (r *Request) Acked(m *ferryv1.Migration) bool { return r.acked(m) }

// CancelMigration asks the controller to stop a migration and undo what it
// did on both clusters (spec.cancel).
func (o *Client) CancelMigration(ctx context.Context, name string) (*Request, error) {
	m, err := o.GetMigration(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := canCancel(m); err != nil {
		return nil, err
	}
	base := m.DeepCopy()
	m.Spec.Cancel = true
	if err := o.c.Patch(ctx, m, client.MergeFrom(base)); err != nil {
		return nil, fmt.Errorf("update migration %s: %w", name, err)
	}
	return &Request{Migration: name, Cancel: true, acked: func(m *ferryv1.Migration) bool {
		return m.Status.Phase != ferryv1.MigrationRunning && m.Status.Phase != ferryv1.MigrationFailed
	}}, nil
}

// canCancel says why a migration cannot be canceled, if it cannot.
func canCancel(m *ferryv1.Migration) error {
	switch m.Status.Phase {
	case ferryv1.MigrationSucceeded:
		return fmt.Errorf("migration %s succeeded: there is nothing to cancel; undo it with a rollback of plan %s (`ferry rollback %s`)", m.Name, m.Spec.Plan, m.Spec.Plan)
	case ferryv1.MigrationCanceled:
		return fmt.Errorf("migration %s is already canceled", m.Name)
	}
	return nil
}

// RetryMigration asks the controller to run a failed migration's failed
// step again and go on from there (the ferry.dev/retry annotation).
func (o *Client) RetryMigration(ctx context.Context, name string) (*Request, error) {
	m, err := o.GetMigration(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := canRetry(m); err != nil {
		return nil, err
	}
	token := strconv.FormatInt(time.Now().UnixNano(), 10)
	base := m.DeepCopy()
	metav1.SetMetaDataAnnotation(&m.ObjectMeta, ferryv1.AnnotationRetry, token)
	if err := o.c.Patch(ctx, m, client.MergeFrom(base)); err != nil {
		return nil, fmt.Errorf("update migration %s: %w", name, err)
	}
	return &Request{Migration: name, Cancel: m.Spec.Cancel, acked: func(m *ferryv1.Migration) bool {
		return m.Status.ObservedRetry == token
	}}, nil
}

// canRetry says why a migration cannot be retried, if it cannot: only a
// failed one can.
func canRetry(m *ferryv1.Migration) error {
	if m.Status.Phase == ferryv1.MigrationFailed {
		return nil
	}
	return fmt.Errorf("migration %s is %s: only a failed migration can be retried", m.Name, phaseOf(m))
}

// WaitAcked waits until the controller has acted on the request and
// returns the migration as it then is.
func (o *Client) WaitAcked(ctx context.Context, r *Request) (*ferryv1.Migration, error) {
	var m ferryv1.Migration
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, AckTimeout, true, func(ctx context.Context) (bool, error) {
		if err := o.c.Get(ctx, o.key(r.Migration), &m); err != nil {
			return false, nil
		}
		return r.Acked(&m), nil
	})
	if err != nil {
		return nil, fmt.Errorf("the controller did not act on migration %s within %s: is it running? (`ferry controller`): %w", r.Migration, AckTimeout, err)
	}
	return &m, nil
}

// Follow reads the migration every FollowInterval and passes it to seen,
// until it is Done; it returns the migration as it ended. It fails when
// the migration cannot be read or ctx ends.
func (o *Client) Follow(ctx context.Context, name string, seen func(*ferryv1.Migration)) (*ferryv1.Migration, error) {
	for {
		m, err := o.GetMigration(ctx, name)
		if err != nil {
			return nil, err
		}
		if seen != nil {
			seen(m)
		}
		if m.Stopped() {
			return m, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(FollowInterval):
		}
	}
}
