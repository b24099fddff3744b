// Package planctl reconciles Plan objects: it validates each plan against
// its clusters and records what it would migrate, and measures the used
// space of the claims it copies (package usage) into the plan's status,
// where validation reads it. Ready is false with reason Measuring until
// every claim to copy has figures (or a reason they are unknown); figures
// are taken again when older than usage.MaxAge, the old ones standing
// meanwhile. A Migration's Validate step and its volume copy use the
// figures in the status as they are: at most usage.MaxAge old while the
// controller runs, and the copy's own full-volume failure is the last
// guard.
package planctl

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/planning"
)

// Revalidate is how often a plan is checked again, since the clusters
// change under it.
const Revalidate = time.Minute

// Reconciler validates Plans. A Plan carries a finalizer: deleting it
// deletes its Migrations first, and those not finished undo what they did.
type Reconciler struct {
	client.Client
	Registry *cluster.Registry
	// MoverImage is the image of the pods that measure the claims' used
	// space (package usage); without it only the kubelet measures.
	MoverImage string
}

// SetupWithManager registers the reconciler; a change of a Cluster, a
// Hook or a Repository revalidates the plans that use it.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&ferryv1.Plan{}).Named("plan").
		Watches(&ferryv1.Cluster{}, handler.EnqueueRequestsFromMapFunc(r.plansOfCluster)).
		Watches(&ferryv1.Hook{}, handler.EnqueueRequestsFromMapFunc(r.plansOfHook)).
		Watches(&ferryv1.Repository{}, handler.EnqueueRequestsFromMapFunc(r.plansOfRepository)).
		Complete(r)
}

// plansOfHook returns the plans that run a hook, so that a hook created
// or fixed revalidates them.
func (r *Reconciler) plansOfHook(ctx context.Context, obj client.Object) []reconcile.Request {
	var plans ferryv1.PlanList
	if err := r.List(ctx, &plans, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, p := range plans.Items {
		for _, h := range p.Spec.Hooks {
			if h.Hook == obj.GetName() {
				reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
				break
			}
		}
	}
	return reqs
}

// plansOfRepository returns the plans that name a repository, so that a
// repository added, fixed or failing revalidates them.
func (r *Reconciler) plansOfRepository(ctx context.Context, obj client.Object) []reconcile.Request {
	var plans ferryv1.PlanList
	if err := r.List(ctx, &plans, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, p := range plans.Items {
		if p.Spec.Repository == obj.GetName() {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
		}
	}
	return reqs
}

func (r *Reconciler) plansOfCluster(ctx context.Context, obj client.Object) []reconcile.Request {
	var plans ferryv1.PlanList
	if err := r.List(ctx, &plans, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, p := range plans.Items {
		if p.Spec.SourceCluster == obj.GetName() || p.Spec.DestinationCluster == obj.GetName() {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
		}
	}
	return reqs
}

// Reconcile validates one Plan and records the result in its status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var p ferryv1.Plan
	if err := r.Get(ctx, req.NamespacedName, &p); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if p.DeletionTimestamp != nil {
		return r.deleting(ctx, &p)
	}
	if !controllerutil.ContainsFinalizer(&p, ferryv1.FinalizerPlan) {
		patch := client.MergeFrom(p.DeepCopy())
		controllerutil.AddFinalizer(&p, ferryv1.FinalizerPlan)
		if err := r.Patch(ctx, &p, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer to plan %s: %w", p.Name, err)
		}
	}
	base := p.DeepCopy()
	res, err := Check(ctx, r.Client, r.Registry, &p)
	if err == nil && res.Problem != nil && res.Problem.Reason == cluster.ReasonNotChecked {
		// The Cluster watch brings the plan back once the cluster is checked.
		return ctrl.Result{RequeueAfter: 5 * time.Second}, nil
	}
	var ms measured
	if err == nil {
		ms, err = r.measure(ctx, &p, &res)
	}
	if err != nil {
		res = &planning.Result{Problem: &cluster.Problem{Reason: ferryv1.ReasonClusterNotReady, Message: err.Error()}}
	}
	if ms.missing > 0 {
		res.Problem = measuringProblem(ms.missing)
	}
	setStatus(&p, res)
	if !equality.Semantic.DeepEqual(base.Status, p.Status) {
		if err := r.Status().Patch(ctx, &p, client.MergeFrom(base)); err != nil {
			return ctrl.Result{}, err
		}
	}
	if d := ms.requeue(); d > 0 {
		return ctrl.Result{RequeueAfter: d}, nil
	}
	if res.Problem != nil {
		return ctrl.Result{RequeueAfter: 15 * time.Second}, nil
	}
	return ctrl.Result{RequeueAfter: Revalidate}, nil
}

// deleting handles a deleted Plan: its Migrations are deleted, which runs
// the cancel steps of those not finished (their own finalizer), and the
// plan goes once none is left. Until then its Ready condition says what
// it waits for.
func (r *Reconciler) deleting(ctx context.Context, p *ferryv1.Plan) (ctrl.Result, error) {
	var l ferryv1.MigrationList
	if err := r.List(ctx, &l, client.InNamespace(p.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("list migrations of plan %s: %w", p.Name, err)
	}
	var left []string
	for i := range l.Items {
		m := &l.Items[i]
		if m.Spec.Plan != p.Name {
			continue
		}
		left = append(left, m.Name)
		if m.DeletionTimestamp == nil {
			if err := r.Delete(ctx, m); client.IgnoreNotFound(err) != nil {
				return ctrl.Result{}, fmt.Errorf("delete migration %s of deleted plan %s: %w", m.Name, p.Name, err)
			}
		}
	}
	if len(left) == 0 {
		if err := r.cleanupMeasurements(ctx, p); err != nil {
			return ctrl.Result{}, err
		}
		if err := r.forgetSnapshots(ctx, p); err != nil {
			return r.waitDeleting(ctx, p, err.Error())
		}
		patch := client.MergeFrom(p.DeepCopy())
		controllerutil.RemoveFinalizer(p, ferryv1.FinalizerPlan)
		return ctrl.Result{}, client.IgnoreNotFound(r.Patch(ctx, p, patch))
	}
	return r.waitDeleting(ctx, p, fmt.Sprintf("waiting for %d migrations to undo what they did and go (%s); `ferry status MIGRATION` shows where each is",
		len(left), strings.Join(left, ", ")))
}

// waitDeleting says in the Ready condition what a deleted plan waits for,
// and looks again soon.
func (r *Reconciler) waitDeleting(ctx context.Context, p *ferryv1.Plan, why string) (ctrl.Result, error) {
	base := p.DeepCopy()
	meta.SetStatusCondition(&p.Status.Conditions, metav1.Condition{Type: ferryv1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: ferryv1.ReasonDeleting, ObservedGeneration: p.Generation, Message: "deleting: " + why})
	if !equality.Semantic.DeepEqual(base.Status, p.Status) {
		if err := r.Status().Patch(ctx, p, client.MergeFrom(base)); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	return ctrl.Result{RequeueAfter: 2 * time.Second}, nil
}

// Check validates a plan against its clusters.
func Check(ctx context.Context, c client.Client, reg *cluster.Registry, p *ferryv1.Plan) (*planning.Result, error) {
	src, dst, prob, err := cluster.ForPlan(ctx, c, reg, p)
	if err != nil {
		return nil, err
	}
	if prob != nil {
		return &planning.Result{Problem: prob}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	res, err := planning.Validate(ctx, p, src, dst)
	if err != nil {
		return nil, err
	}
	if err := planning.ValidateHooks(ctx, c, p, src, dst, res); err != nil {
		return nil, err
	}
	if err := planning.ValidateRepository(ctx, c, p, res); err != nil {
		return nil, err
	}
	return res, nil
}

func setStatus(p *ferryv1.Plan, res *planning.Result) {
	p.Status.ObservedGeneration = p.Generation
	p.Status.ObservedValidate = p.Annotations[ferryv1.AnnotationValidate]
	ready := metav1.Condition{Type: ferryv1.ConditionReady, ObservedGeneration: p.Generation}
	if res.Problem != nil {
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, res.Problem.Reason, res.Problem.Message
		if sizedOut(res.Problem.Reason) || res.Problem.Reason == ferryv1.ReasonMeasuring {
			p.Status.PersistentVolumeClaims = res.PVCs
		}
	} else {
		ready.Status, ready.Reason = metav1.ConditionTrue, ferryv1.ReasonReady
		ready.Message = res.Summary()
		p.Status.PersistentVolumeClaims = res.PVCs
		p.Status.ObjectCounts = res.Counts
		p.Status.Skipped = res.Skipped
		p.Status.Images = res.Images
	}
	meta.SetStatusCondition(&p.Status.Conditions, ready)
	p.Status.Warnings = res.Warnings
	if len(res.Warnings) > 0 {
		meta.SetStatusCondition(&p.Status.Conditions, metav1.Condition{Type: ferryv1.ConditionWarning, Status: metav1.ConditionTrue,
			Reason: "Warnings", Message: strings.Join(res.Warnings, "; "), ObservedGeneration: p.Generation})
	} else {
		meta.RemoveStatusCondition(&p.Status.Conditions, ferryv1.ConditionWarning)
	}
}
