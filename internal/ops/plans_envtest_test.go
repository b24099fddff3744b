//go:build envtest

package ops

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// validate plays the controller: it marks the plan validated for its
// current validation request, Ready as given.
func validate(t *testing.T, o *Client, name string, ready metav1.ConditionStatus) {
	t.Helper()
	ctx := context.Background()
	p, err := o.GetPlan(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	p.Status.ObservedGeneration = p.Generation
	p.Status.ObservedValidate = p.Annotations[ferryv1.AnnotationValidate]
	meta.SetStatusCondition(&p.Status.Conditions, metav1.Condition{Type: ferryv1.ConditionReady, Status: ready,
		Reason: ferryv1.ReasonReady, Message: "checked", ObservedGeneration: p.Generation})
	if err := env.Client.Status().Update(ctx, p); err != nil {
		t.Fatal(err)
	}
}

func TestApplyPlanCreatesThenUpdates(t *testing.T) {
	ctx := context.Background()
	o := newClient(t, true)
	p, err := o.NewPlan("shop", ferryv1.PlanSpec{SourceCluster: "src", DestinationCluster: "dst", Namespaces: []string{"shop"}})
	if err != nil {
		t.Fatal(err)
	}
	first, err := o.ApplyPlan(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || first.Token == "" {
		t.Fatalf("first apply: %+v, want created with a token", first)
	}
	got, err := o.GetPlan(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if got.Annotations[ferryv1.AnnotationValidate] != first.Token {
		t.Errorf("validate annotation %q, want %q", got.Annotations[ferryv1.AnnotationValidate], first.Token)
	}
	validate(t, o, "shop", metav1.ConditionTrue)
	if _, err := o.WaitPlanValidated(ctx, "shop", first.Token); err != nil {
		t.Fatal(err)
	}

	p.Spec.Namespaces = []string{"shop:shop2"}
	second, err := o.ApplyPlan(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if second.Created || second.Token == first.Token {
		t.Fatalf("second apply: %+v, want an update with a new token", second)
	}
	got, err = o.GetPlan(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.Namespaces[0] != "shop:shop2" || got.Annotations[ferryv1.AnnotationValidate] != second.Token {
		t.Errorf("updated plan: namespaces %v, token %q", got.Spec.Namespaces, got.Annotations[ferryv1.AnnotationValidate])
	}
	// The validation of the first request does not count for the second.
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := o.WaitPlanValidated(wctx, "shop", second.Token); err == nil {
		t.Fatal("WaitPlanValidated returned before the new request was validated")
	}
	validate(t, o, "shop", metav1.ConditionFalse)
	got, err = o.WaitPlanValidated(ctx, "shop", second.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := PlanReady(got); err == nil {
		t.Error("PlanReady of a plan validated not Ready is nil")
	}
}

func TestApplyPlanRefusesAnInvalidPlan(t *testing.T) {
	o := newClient(t, true)
	p := &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Name: "shop"}, Spec: ferryv1.PlanSpec{SourceCluster: "src", DestinationCluster: "dst"}}
	if _, err := o.ApplyPlan(context.Background(), p); err == nil || !strings.Contains(err.Error(), "no namespaces") {
		t.Fatalf("ApplyPlan of a plan without namespaces: %v", err)
	}
	if _, err := o.GetPlan(context.Background(), "shop"); !apierrors.IsNotFound(err) {
		t.Fatalf("the invalid plan was stored: %v", err)
	}
}

func TestDeletePlan(t *testing.T) {
	ctx := context.Background()
	o := newClient(t, true)
	createPlan(t, o, "shop")
	createPlan(t, o, "other")
	done := startWithPhase(t, o, "shop", ferryv1.MigrationSucceeded)
	running := startWithPhase(t, o, "shop", ferryv1.MigrationRunning)
	startWithPhase(t, o, "other", ferryv1.MigrationRunning)

	// The controller's finalizer holds the plan until its migrations are gone.
	p, err := o.GetPlan(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	controllerutil.AddFinalizer(p, ferryv1.FinalizerPlan)
	if err := env.Client.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	d, err := o.DeletePlan(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Migrations) != 2 || len(d.Undone) != 1 || d.Undone[0] != running.Name {
		t.Errorf("deletion %+v, want migrations %s and %s, %s undone", d, done.Name, running.Name, running.Name)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := o.WaitPlanDeleted(wctx, "shop"); err == nil {
		t.Fatal("WaitPlanDeleted returned while the finalizer holds the plan")
	}
	again, err := o.NewPlan("shop", ferryv1.PlanSpec{SourceCluster: "a", DestinationCluster: "b", Namespaces: []string{"shop"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.ApplyPlan(ctx, again); err == nil || !strings.Contains(err.Error(), "is being deleted") {
		t.Errorf("ApplyPlan of a plan being deleted: %v, want a refusal", err)
	}
	p, err = o.GetPlan(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	controllerutil.RemoveFinalizer(p, ferryv1.FinalizerPlan)
	if err := env.Client.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := o.WaitPlanDeleted(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := o.DeletePlan(ctx, "shop"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("DeletePlan of a missing plan: %v", err)
	}
	if _, err := o.GetPlan(ctx, "other"); err != nil {
		t.Errorf("another plan: %v", err)
	}
}
