package ops

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// StartOptions change how a migration runs.
type StartOptions struct {
	// NoQuiesce leaves the source application running during a cutover.
	NoQuiesce bool
}

// NewMigration returns a Migration of typ for the plan: named after the
// plan and the type with a generated suffix (shop-cutover-x7k2p), and
// labelled with the plan's name.
func (o *Client) NewMigration(plan string, typ ferryv1.MigrationType, opts StartOptions) *ferryv1.Migration {
	m := &ferryv1.Migration{
		ObjectMeta: metav1.ObjectMeta{GenerateName: plan + "-" + strings.ToLower(string(typ)) + "-", Namespace: o.namespace,
			Labels: map[string]string{ferryv1.LabelPlan: plan}},
		Spec: ferryv1.MigrationSpec{Plan: plan, Type: typ},
	}
	if opts.NoQuiesce {
		quiesce := false
		m.Spec.Quiesce = &quiesce
	}
	return m
}

// StartMigration creates a Migration of typ for an existing plan and
// returns it with its generated name.
func (o *Client) StartMigration(ctx context.Context, plan string, typ ferryv1.MigrationType, opts StartOptions) (*ferryv1.Migration, error) {
	switch typ {
	case ferryv1.MigrationStage, ferryv1.MigrationCutover, ferryv1.MigrationRollback:
	default:
		return nil, fmt.Errorf("unknown migration type %q: use %s, %s or %s", typ, ferryv1.MigrationStage, ferryv1.MigrationCutover, ferryv1.MigrationRollback)
	}
	if _, err := o.GetPlan(ctx, plan); err != nil {
		return nil, err
	}
	m := o.NewMigration(plan, typ, opts)
	if err := o.c.Create(ctx, m); err != nil {
		return nil, fmt.Errorf("create a %s migration of plan %s: %w", typ, plan, err)
	}
	return m, nil
}

// Blocker names the migration of the plan that runs now when it is not
// name: name waits until it ends (one migration of a plan runs at a
// time). "" when nothing blocks name.
func (o *Client) Blocker(ctx context.Context, plan, name string) (string, error) {
	p, err := o.GetPlan(ctx, plan)
	if err != nil {
		return "", err
	}
	active := p.Status.ActiveMigration
	if active == "" || active == name {
		return "", nil
	}
	m, err := o.GetMigration(ctx, active)
	if err != nil || m.Stopped() {
		return "", nil // gone or ended: the claim is free
	}
	return active, nil
}

// GetMigration returns the migration name.
func (o *Client) GetMigration(ctx context.Context, name string) (*ferryv1.Migration, error) {
	var m ferryv1.Migration
	if err := o.c.Get(ctx, o.key(name), &m); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("migration %s not found in %s: list them with `ferry status`: %w", name, o.namespace, err)
		}
		return nil, fmt.Errorf("get migration %s: %w", name, err)
	}
	return &m, nil
}

// ListMigrations returns the migrations of a plan, or every migration
// when plan is "", in the API server's order (by name).
func (o *Client) ListMigrations(ctx context.Context, plan string) ([]ferryv1.Migration, error) {
	opts := []client.ListOption{client.InNamespace(o.namespace)}
	if plan != "" {
		opts = append(opts, client.MatchingLabels{ferryv1.LabelPlan: plan})
	}
	var l ferryv1.MigrationList
	if err := o.c.List(ctx, &l, opts...); err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	return l.Items, nil
}

// LatestMigration returns the plan's most recently created migration.
func (o *Client) LatestMigration(ctx context.Context, plan string) (*ferryv1.Migration, error) {
	if _, err := o.GetPlan(ctx, plan); err != nil {
		return nil, err
	}
	ms, err := o.ListMigrations(ctx, plan)
	if err != nil {
		return nil, err
	}
	m := Latest(ms)
	if m == nil {
		return nil, fmt.Errorf("plan %s has no migration yet: start one with `ferry stage %s` or `ferry cutover %s`", plan, plan, plan)
	}
	return m, nil
}

// Latest returns the most recently created of ms (the last by name among
// those created in the same second), or nil when ms is empty.
func Latest(ms []ferryv1.Migration) *ferryv1.Migration {
	if len(ms) == 0 {
		return nil
	}
	sorted := append([]ferryv1.Migration(nil), ms...)
	sort.SliceStable(sorted, func(i, j int) bool {
		ti, tj := sorted[i].CreationTimestamp, sorted[j].CreationTimestamp
		if !ti.Equal(&tj) {
			return ti.Before(&tj)
		}
		return sorted[i].Name < sorted[j].Name
	})
	return &sorted[len(sorted)-1]
}

// DeleteMigration deletes a migration. One not finished (see Active) is
// canceled first by the controller (the Migration's finalizer), which
// undoes what it did; undone says so. Wait for it with
// WaitMigrationDeleted.
func (o *Client) DeleteMigration(ctx context.Context, name string) (undone bool, err error) {
	m, err := o.GetMigration(ctx, name)
	if err != nil {
		return false, err
	}
	if err := o.c.Delete(ctx, m); client.IgnoreNotFound(err) != nil {
		return false, fmt.Errorf("delete migration %s: %w", name, err)
	}
	return !m.Finished(), nil
}

// WaitMigrationDeleted waits until the migration is gone.
func (o *Client) WaitMigrationDeleted(ctx context.Context, name string) error {
	return o.waitGone(ctx, &ferryv1.Migration{}, "migration", name)
}

// Outcome is nil for a migration that ended as wanted: succeeded, or
// canceled when a cancel is what the user asked for; otherwise an error
// that says how it ended.
func Outcome(m *ferryv1.Migration, cancelWanted bool) error {
	switch m.Status.Phase {
	case ferryv1.MigrationSucceeded:
		return nil
	case ferryv1.MigrationFailed:
		return fmt.Errorf("migration %s failed: %s", m.Name, strings.Join(m.Status.Errors, "; "))
	case ferryv1.MigrationCanceled:
		if cancelWanted {
			return nil
		}
		return fmt.Errorf("migration %s was canceled", m.Name)
	}
	return fmt.Errorf("migration %s has not ended: it is %s", m.Name, phaseOf(m))
}

// phaseOf names a migration's phase, also before the controller set one.
func phaseOf(m *ferryv1.Migration) ferryv1.MigrationPhase {
	if m.Status.Phase == "" {
		return ferryv1.MigrationPending
	}
	return m.Status.Phase
}
