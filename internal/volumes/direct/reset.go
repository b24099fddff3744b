package direct

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/internal/volumes"
)

// Reset deletes a transfer's pods (not its Service, which keeps its node
// port for the next round); gone is true once neither pod exists.
func (p *Path) Reset(ctx context.Context, t volumes.Transfer) (bool, error) {
	s, rc, err := p.pods(ctx, t)
	if err != nil {
		return false, err
	}
	if s == nil && rc == nil {
		return true, nil
	}
	return false, deletePods(ctx, p.o, s, rc)
}

// deletePods deletes the given pods of a transfer that are not being
// deleted yet, each only if it is still the pod that was read.
func deletePods(ctx context.Context, o Options, sender, receiver *corev1.Pod) error {
	for _, pod := range []*corev1.Pod{sender, receiver} {
		if pod == nil || pod.DeletionTimestamp != nil {
			continue
		}
		kube := o.Source.Kube
		if pod == receiver {
			kube = o.Destination.Kube
		}
		uid := pod.UID
		err := kube.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
	}
	return nil
}
