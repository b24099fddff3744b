package clusterctl

import (
	"context"
	"errors"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/images"
)

// checkRegistry sets the RegistryReady condition of a Cluster with a
// registry (ping and authentication with its credentials), and removes it
// from one without. It reports whether the registry is ready.
func (r *Reconciler) checkRegistry(ctx context.Context, c *ferryv1.Cluster) bool {
	spec := c.Spec.Registry
	if spec == nil {
		meta.RemoveStatusCondition(&c.Status.Conditions, ferryv1.ConditionRegistryReady)
		return true
	}
	cond := metav1.Condition{Type: ferryv1.ConditionRegistryReady, ObservedGeneration: c.Generation,
		Status: metav1.ConditionTrue, Reason: ferryv1.ReasonReady, Message: "registry " + spec.Address + " answered and accepted the credentials"}
	e, err := images.EndpointFor(ctx, r.Client, c.Namespace, spec)
	if err != nil {
		cond.Status, cond.Reason = metav1.ConditionFalse, ferryv1.ReasonRegistryCredentials
		cond.Message = err.Error() + "; create it with keys username and password (or token), or register the cluster again with `ferry cluster add " + c.Name + " --registry-credentials-file FILE`"
		meta.SetStatusCondition(&c.Status.Conditions, cond)
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := images.Check(ctx, e, c.Name); err != nil {
		var ce *images.CheckError
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, ferryv1.ReasonRegistryUnreachable, err.Error()
		if errors.As(err, &ce) {
			cond.Reason, cond.Message = ce.Reason, ce.Message
		}
	}
	meta.SetStatusCondition(&c.Status.Conditions, cond)
	return cond.Status == metav1.ConditionTrue
}
