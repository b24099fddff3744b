// Package clusterctl reconciles Cluster objects: it checks that each
// registered cluster is reachable with enough permissions and records what
// it serves, and that its image registry, when it has one, answers and
// accepts its credentials (RegistryReady).
package clusterctl

import (
	"context"
	"errors"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
)

// Recheck intervals: a ready cluster is checked again after ReadyRecheck,
// one that is not after NotReadyRecheck.
const (
	ReadyRecheck    = 2 * time.Minute
	NotReadyRecheck = 15 * time.Second
)

// Reconciler checks Clusters.
type Reconciler struct {
	client.Client
	Registry *cluster.Registry
}

// SetupWithManager registers the reconciler.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&ferryv1.Cluster{}).Named("cluster").Complete(r)
}

// Reconcile checks one Cluster and records the result in its status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	var c ferryv1.Cluster
	if err := r.Get(ctx, req.NamespacedName, &c); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	base := c.DeepCopy()
	tokenCond, renewIn := r.renew(ctx, &c)
	cond, facts := r.check(ctx, &c)
	now := metav1.Now()
	c.Status.ObservedGeneration = c.Generation
	c.Status.LastChecked = &now
	meta.SetStatusCondition(&c.Status.Conditions, cond)
	if tokenCond != nil {
		meta.SetStatusCondition(&c.Status.Conditions, *tokenCond)
	}
	registryReady := r.checkRegistry(ctx, &c)
	if facts != nil {
		c.Status.KubernetesVersion = facts.Version
		c.Status.APIVersions = facts.APIVersions
		c.Status.StorageClasses = facts.StorageClasses
	}
	if cond.Status != metav1.ConditionTrue && meta.IsStatusConditionTrue(base.Status.Conditions, ferryv1.ConditionReady) {
		log.Info("cluster is no longer ready", "cluster", c.Name, "reason", cond.Reason)
	}
	if !equality.Semantic.DeepEqual(base.Status, c.Status) {
		if err := r.Status().Patch(ctx, &c, client.MergeFrom(base)); err != nil {
			return ctrl.Result{}, err
		}
	}
	after := NotReadyRecheck
	if cond.Status == metav1.ConditionTrue && registryReady {
		after = ReadyRecheck
	}
	if renewIn > 0 && renewIn < after {
		after = renewIn
	}
	return ctrl.Result{RequeueAfter: after}, nil
}

// renew renews the Cluster's token when half of its lifetime has passed
// and returns the TokenRenewed condition (nil for a token Ferry did not
// request) and when to look again.
func (r *Reconciler) renew(ctx context.Context, c *ferryv1.Cluster) (*metav1.Condition, time.Duration) {
	clients, err := r.Registry.Clients(ctx, c)
	if err != nil || clients.Token.Expires.IsZero() {
		return nil, 0
	}
	cond := &metav1.Condition{Type: ferryv1.ConditionTokenRenewed, ObservedGeneration: c.Generation}
	now := time.Now()
	if !now.Before(clients.Token.Expires) {
		cond.Status, cond.Reason = metav1.ConditionFalse, ferryv1.ReasonTokenExpired
		cond.Message = "the token expired at " + clients.Token.Expires.UTC().Format(time.RFC3339) + ": run `ferry cluster add " + c.Name + "` again"
		return cond, 0
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	next, err := cluster.Renew(ctx, r.Client, c, clients, now)
	if err != nil {
		logf.FromContext(ctx).Error(err, "token renewal failed", "cluster", c.Name)
		cond.Status, cond.Reason = metav1.ConditionFalse, ferryv1.ReasonTokenRenewalFailed
		cond.Message = "renewing the token failed (" + err.Error() + "); it works until " +
			clients.Token.Expires.UTC().Format(time.RFC3339) + ", then run `ferry cluster add " + c.Name + "` again"
		return cond, NotReadyRecheck
	}
	cond.Status, cond.Reason = metav1.ConditionTrue, ferryv1.ReasonReady
	cond.Message = "the token is renewed when half of its lifetime has passed"
	return cond, next
}

// check returns the Ready condition (the registry has its own,
// RegistryReady: a cluster whose registry fails is still Ready for
// everything else) and, when reachable, the facts.
func (r *Reconciler) check(ctx context.Context, c *ferryv1.Cluster) (metav1.Condition, *cluster.Facts) {
	cond := metav1.Condition{Type: ferryv1.ConditionReady, ObservedGeneration: c.Generation}
	clients, err := r.Registry.Clients(ctx, c)
	var p *cluster.Problem
	if errors.As(err, &p) {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, p.Reason, p.Message
		return cond, nil
	}
	if err != nil {
		cond.Status, cond.Reason = metav1.ConditionFalse, ferryv1.ReasonSecretNotFound
		cond.Message = err.Error() + "; register the cluster again with `ferry cluster add " + c.Name + "`"
		return cond, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	facts, err := cluster.Check(ctx, clients)
	if errors.As(err, &p) {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, p.Reason, p.Message
		return cond, nil
	}
	cond.Status, cond.Reason = metav1.ConditionTrue, ferryv1.ReasonReady
	cond.Message = "reachable, " + facts.Version + ", with the permissions Ferry needs"
	if clients.AsUser {
		cond.Message = "reachable, " + facts.Version + ", with your own token: Ferry does what you may do there"
		if len(facts.Limited) > 0 {
			cond.Message += " (it may not " + strings.Join(facts.Limited, ", ") + "; plans warn where that matters)"
		}
	}
	return cond, facts
}
