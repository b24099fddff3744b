package migrationctl

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// One migration of a plan runs at a time. The Plan's
// status.activeMigration names it; a migration claims the plan before
// each of its steps with an update that fails on conflict, so two
// migrations started together cannot both win. A claim whose migration
// is gone, finished or failed is free; a failed migration claims the plan
// again when it is retried.

// claimWait is how often a migration waiting for the plan looks again.
const claimWait = 2 * time.Second

// claimPlan makes this migration the plan's active one. It returns the
// name of another migration that holds the plan, or "" once this one
// does. A lost race is a conflict error, which the step's transient retry
// runs again.
func (s *session) claimPlan(ctx context.Context) (string, error) {
	active := s.plan.Status.ActiveMigration
	if active == s.m.Name {
		return "", nil
	}
	if active != "" {
		live, err := s.r.live(ctx, s.m.Namespace, active)
		if err != nil || live {
			return active, err
		}
	}
	s.plan.Status.ActiveMigration = s.m.Name
	if err := s.r.Status().Update(ctx, s.plan); err != nil {
		return "", fmt.Errorf("claim plan %s for migration %s: %w", s.plan.Name, s.m.Name, err)
	}
	return "", nil
}

// live reports whether a migration exists and is neither finished nor
// failed.
func (r *Reconciler) live(ctx context.Context, namespace, name string) (bool, error) {
	var m ferryv1.Migration
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &m)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get migration %s: %w", name, err)
	}
	return !m.Stopped(), nil
}

// releasePlan clears the plan's claim once this migration finished or
// failed, so the next one starts at once.
func (r *Reconciler) releasePlan(ctx context.Context, m *ferryv1.Migration) error {
	if !m.Stopped() {
		return nil
	}
	p, err := r.getPlan(ctx, m)
	if err != nil || p == nil || p.Status.ActiveMigration != m.Name {
		return err
	}
	p.Status.ActiveMigration = ""
	if err := r.Status().Update(ctx, p); err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
		return fmt.Errorf("release plan %s: %w", p.Name, err)
	}
	return nil
}
