package cluster

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// ReasonNotChecked is the reason of the Problem ForPlan returns while a
// plan's cluster has not been checked yet (a controller just started); it
// is never written to a status.
const ReasonNotChecked = "NotChecked"

// ForPlan returns the clients of a plan's source and destination, or a
// Problem naming the cluster that is missing or not ready. An error means
// the host could not be read.
func ForPlan(ctx context.Context, c client.Reader, reg *Registry, p *ferryv1.Plan) (src, dst *Clients, prob *Problem, err error) {
	if src, prob, err = forRole(ctx, c, reg, p.Namespace, p.Spec.SourceCluster, "source"); prob != nil || err != nil {
		return nil, nil, prob, err
	}
	dst, prob, err = forRole(ctx, c, reg, p.Namespace, p.Spec.DestinationCluster, "destination")
	return src, dst, prob, err
}

// forRole returns the clients of one registered, ready cluster.
func forRole(ctx context.Context, c client.Reader, reg *Registry, namespace, name, role string) (*Clients, *Problem, error) {
	var cl ferryv1.Cluster
	err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &cl)
	if apierrors.IsNotFound(err) {
		return nil, &Problem{Reason: ferryv1.ReasonClusterNotFound, Message: fmt.Sprintf(
			"%s cluster %q is not registered: run `ferry cluster add %s --kubeconfig FILE`", role, name, name)}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get %s cluster %s: %w", role, name, err)
	}
	cond := meta.FindStatusCondition(cl.Status.Conditions, ferryv1.ConditionReady)
	if cond == nil {
		return nil, &Problem{Reason: ReasonNotChecked, Message: fmt.Sprintf("%s cluster %s has not been checked yet", role, name)}, nil
	}
	if cond.Status != metav1.ConditionTrue {
		return nil, &Problem{Reason: ferryv1.ReasonClusterNotReady, Message: fmt.Sprintf(
			"%s cluster %s is not ready: %s: %s", role, name, cond.Reason, cond.Message)}, nil
	}
	clients, err := reg.Clients(ctx, &cl)
	return clients, nil, err
}
