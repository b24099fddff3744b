package direct

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
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
	if err := moverpod.DeletePod(ctx, o.Source.Kube, sender); err != nil {
		return err
	}
	return moverpod.DeletePod(ctx, o.Destination.Kube, receiver)
}
