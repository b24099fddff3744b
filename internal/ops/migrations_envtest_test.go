//go:build envtest

package ops

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func createPlan(t *testing.T, o *Client, name string) {
	t.Helper()
	p, err := o.NewPlan(name, ferryv1.PlanSpec{SourceCluster: "src", DestinationCluster: "dst", Namespaces: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.ApplyPlan(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// setPhase plays the controller: it sets the migration's phase.
func setPhase(t *testing.T, name string, o *Client, phase ferryv1.MigrationPhase) *ferryv1.Migration {
	t.Helper()
	m, err := o.GetMigration(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	m.Status.Phase = phase
	if phase == ferryv1.MigrationFailed {
		m.Status.Errors = []string{"step MigrateResources: boom"}
	}
	if err := env.Client.Status().Update(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

func startWithPhase(t *testing.T, o *Client, plan string, phase ferryv1.MigrationPhase) *ferryv1.Migration {
	t.Helper()
	m, err := o.StartMigration(context.Background(), plan, ferryv1.MigrationCutover, StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return setPhase(t, m.Name, o, phase)
}

func TestStartMigration(t *testing.T) {
	ctx := context.Background()
	o := newClient(t, true)
	if _, err := o.StartMigration(ctx, "shop", ferryv1.MigrationStage, StartOptions{}); err == nil ||
		!strings.Contains(err.Error(), "ferry plan create") {
		t.Fatalf("start without a plan: %v, want one that says to create it", err)
	}
	createPlan(t, o, "shop")
	if _, err := o.StartMigration(ctx, "shop", "Teleport", StartOptions{}); err == nil || !strings.Contains(err.Error(), "unknown migration type") {
		t.Fatalf("start of an unknown type: %v", err)
	}
	m, err := o.StartMigration(ctx, "shop", ferryv1.MigrationCutover, StartOptions{NoQuiesce: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := o.GetMigration(ctx, m.Name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.Name, "shop-cutover-") || got.Labels[ferryv1.LabelPlan] != "shop" || got.Spec.Plan != "shop" ||
		got.Spec.Type != ferryv1.MigrationCutover || got.Spec.Quiesce == nil || *got.Spec.Quiesce {
		t.Errorf("stored migration %s labels %v spec %+v", got.Name, got.Labels, got.Spec)
	}
}

func TestLatestMigration(t *testing.T) {
	ctx := context.Background()
	o := newClient(t, true)
	createPlan(t, o, "shop")
	createPlan(t, o, "other")
	if _, err := o.LatestMigration(ctx, "shop"); err == nil || !strings.Contains(err.Error(), "no migration yet") {
		t.Fatalf("latest of a plan without migrations: %v", err)
	}
	first := startWithPhase(t, o, "shop", ferryv1.MigrationSucceeded)
	time.Sleep(1100 * time.Millisecond) // creation times have whole seconds
	second := startWithPhase(t, o, "shop", ferryv1.MigrationRunning)
	startWithPhase(t, o, "other", ferryv1.MigrationRunning)
	got, err := o.LatestMigration(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != second.Name {
		t.Errorf("latest %s, want %s (created after %s)", got.Name, second.Name, first.Name)
	}
	all, err := o.ListMigrations(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Errorf("%d migrations listed, want 3", len(all))
	}
}

func TestCancelMigration(t *testing.T) {
	ctx := context.Background()
	o := newClient(t, true)
	createPlan(t, o, "shop")
	done := startWithPhase(t, o, "shop", ferryv1.MigrationSucceeded)
	if _, err := o.CancelMigration(ctx, done.Name); err == nil || !strings.Contains(err.Error(), "ferry rollback shop") {
		t.Fatalf("cancel of a succeeded migration: %v, want one that says to roll back", err)
	}
	m := startWithPhase(t, o, "shop", ferryv1.MigrationRunning)
	req, err := o.CancelMigration(ctx, m.Name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := o.GetMigration(ctx, m.Name)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Spec.Cancel || req.Acked(got) || !req.Cancel {
		t.Fatalf("after cancel: spec.cancel %v, acked %v, request %+v", got.Spec.Cancel, req.Acked(got), req)
	}
	setPhase(t, m.Name, o, ferryv1.MigrationCanceling)
	if _, err := o.WaitAcked(ctx, req); err != nil {
		t.Fatal(err)
	}
	setPhase(t, m.Name, o, ferryv1.MigrationCanceled)
	end, err := o.Follow(ctx, m.Name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Outcome(end, req.Cancel); err != nil {
		t.Errorf("outcome of a wanted cancel: %v", err)
	}
}

func TestRetryMigration(t *testing.T) {
	ctx := context.Background()
	o := newClient(t, true)
	createPlan(t, o, "shop")
	m := startWithPhase(t, o, "shop", ferryv1.MigrationRunning)
	if _, err := o.RetryMigration(ctx, m.Name); err == nil || !strings.Contains(err.Error(), "only a failed migration") {
		t.Fatalf("retry of a running migration: %v", err)
	}
	setPhase(t, m.Name, o, ferryv1.MigrationFailed)
	req, err := o.RetryMigration(ctx, m.Name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := o.GetMigration(ctx, m.Name)
	if err != nil {
		t.Fatal(err)
	}
	token := got.Annotations[ferryv1.AnnotationRetry]
	if token == "" || req.Acked(got) {
		t.Fatalf("after retry: annotation %q, acked %v", token, req.Acked(got))
	}
	// The controller acts: it records the token and runs again.
	got.Status.ObservedRetry, got.Status.Phase = token, ferryv1.MigrationRunning
	if err := env.Client.Status().Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	acked, err := o.WaitAcked(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if acked.Status.Phase != ferryv1.MigrationRunning {
		t.Errorf("acked migration is %s", acked.Status.Phase)
	}
}

func TestFollowEndsWithTheMigration(t *testing.T) {
	ctx := context.Background()
	o := newClient(t, true)
	createPlan(t, o, "shop")
	m := startWithPhase(t, o, "shop", ferryv1.MigrationRunning)
	failed := m.DeepCopy()
	failed.Status.Phase, failed.Status.Errors = ferryv1.MigrationFailed, []string{"step MigrateResources: boom"}
	go func() { // the controller, a second later (t.Fatal is not for other goroutines)
		time.Sleep(time.Second)
		if err := env.Client.Status().Update(context.Background(), failed); err != nil {
			t.Error(err)
		}
	}()
	var seen []ferryv1.MigrationPhase
	end, err := o.Follow(ctx, m.Name, func(m *ferryv1.Migration) { seen = append(seen, m.Status.Phase) })
	if err != nil {
		t.Fatal(err)
	}
	if seen[0] != ferryv1.MigrationRunning || seen[len(seen)-1] != ferryv1.MigrationFailed {
		t.Errorf("phases seen %v, want Running first and Failed last", seen)
	}
	if err := Outcome(end, false); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("outcome %v, want the migration's errors", err)
	}
}

func TestDeleteMigration(t *testing.T) {
	ctx := context.Background()
	o := newClient(t, true)
	createPlan(t, o, "shop")
	tests := []struct {
		phase      ferryv1.MigrationPhase
		wantUndone bool
	}{
		{phase: ferryv1.MigrationSucceeded},
		{phase: ferryv1.MigrationFailed, wantUndone: true},
	}
	var m *ferryv1.Migration
	for _, tt := range tests {
		m = startWithPhase(t, o, "shop", tt.phase)
		undone, err := o.DeleteMigration(ctx, m.Name)
		if err != nil {
			t.Fatal(err)
		}
		if undone != tt.wantUndone {
			t.Errorf("%s: undone %v, want %v", tt.phase, undone, tt.wantUndone)
		}
		if err := o.WaitMigrationDeleted(ctx, m.Name); err != nil {
			t.Fatal(err)
		}
		if _, err := o.GetMigration(ctx, m.Name); !apierrors.IsNotFound(err) {
			t.Errorf("after delete: %v", err)
		}
	}
	if _, err := o.DeleteMigration(ctx, m.Name); err == nil || !strings.Contains(err.Error(), "ferry status") {
		t.Errorf("delete of a missing migration: %v", err)
	}
}
