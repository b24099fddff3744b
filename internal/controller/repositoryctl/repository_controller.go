// Package repositoryctl reconciles Repository objects: it checks that
// each replication repository's bucket can be listed, written, read and
// deleted from with the keys of its credentials Secret, and that its key
// Secret holds an encryption key, and records the result in the Ready
// condition (reasons in api/v1alpha1: DNS, Unreachable, TLS, Credentials,
// BucketMissing, Permission, SecretMissing, Invalid). Repositories are
// checked again periodically and whenever their spec or a Secret they
// name changes.
package repositoryctl

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/repoaccess"
)

// Recheck intervals: a ready repository is checked again after
// ReadyRecheck, one that is not after NotReadyRecheck.
const (
	ReadyRecheck    = 5 * time.Minute
	NotReadyRecheck = 30 * time.Second
)

// Reconciler checks Repositories.
type Reconciler struct {
	client.Client
	// Recorder, when set, gets a Warning event when a repository stops
	// being ready, and a Normal one when it becomes ready again.
	Recorder events.EventRecorder
}

// SetupWithManager registers the reconciler. A change of the spec, of
// the annotation ferry.dev/validate (which `ferry repository add` sets)
// or of a Secret a repository names checks it again; status updates do
// not.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named("repository").
		For(&ferryv1.Repository{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.repositoriesOfSecret)).
		Complete(r)
}

// repositoriesOfSecret returns the repositories that name the Secret.
func (r *Reconciler) repositoriesOfSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	var l ferryv1.RepositoryList
	if err := r.List(ctx, &l, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, repo := range l.Items {
		if repo.Spec.CredentialsSecretRef.Name == obj.GetName() || repo.Spec.KeySecretRef.Name == obj.GetName() {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: repo.Namespace, Name: repo.Name}})
		}
	}
	return reqs
}

// Reconcile checks one Repository and records the result in its status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	var repo ferryv1.Repository
	if err := r.Get(ctx, req.NamespacedName, &repo); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if repo.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	base := repo.DeepCopy()
	cond, err := repoaccess.Check(ctx, r.Client, &repo)
	if err != nil {
		return ctrl.Result{}, err
	}
	now := metav1.Now()
	repo.Status.ObservedGeneration = repo.Generation
	repo.Status.LastChecked = &now
	changed := meta.SetStatusCondition(&repo.Status.Conditions, cond)
	wasReady := meta.IsStatusConditionTrue(base.Status.Conditions, ferryv1.ConditionReady)
	if changed {
		log.Info("repository checked", "repository", repo.Name, "ready", cond.Status, "reason", cond.Reason)
	}
	if err := r.Status().Patch(ctx, &repo, client.MergeFrom(base)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.event(&repo, wasReady, cond)
	if cond.Status == metav1.ConditionTrue {
		return ctrl.Result{RequeueAfter: ReadyRecheck}, nil
	}
	return ctrl.Result{RequeueAfter: NotReadyRecheck}, nil
}

// event records a transition of Ready.
func (r *Reconciler) event(repo *ferryv1.Repository, wasReady bool, cond metav1.Condition) {
	if r.Recorder == nil {
		return
	}
	switch ready := cond.Status == metav1.ConditionTrue; {
	case wasReady && !ready:
		r.Recorder.Eventf(repo, nil, corev1.EventTypeWarning, cond.Reason, "Check", "%s", cond.Message)
	case !wasReady && ready:
		r.Recorder.Eventf(repo, nil, corev1.EventTypeNormal, cond.Reason, "Check", "%s", cond.Message)
	}
}
