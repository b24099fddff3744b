package direct

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// Cleanup deletes every pod, Service, Route, Ingress and Secret of the
// migration made by this path (labelled with the migration, managed-by
// ferry and component mover) on both clusters, the Secrets in the
// namespaces of Options (SourceNamespaces, DestinationNamespaces), in one
// pass. done is false
// while pods are still terminating: call it again. It is idempotent.
func (p *Path) Cleanup(ctx context.Context) (bool, error) {
	sel := metav1.ListOptions{LabelSelector: moverpod.MigrationSelector(p.o.Migration)}
	var used Front // the front this migration's receivers are behind, if any
	if p.useFront() {
		used = p.o.Front
	}
	done := true
	for _, c := range p.o.clusters() {
		if err := deleteServicesAndSecrets(ctx, c, p.o.namespacesOf(c), sel); err != nil {
			return false, err
		}
		if err := deleteFronts(ctx, c, c.ListIn(p.o.namespacesOf(c)), sel, used); err != nil {
			return false, err
		}
		remaining, err := moverpod.DeleteMigrationPods(ctx, c.Kube, c.Name, p.o.Migration, c.ListIn(p.o.namespacesOf(c)))
		if err != nil {
			return false, err
		}
		done = done && !remaining
	}
	return done, nil
}

// deleteServicesAndSecrets deletes the selected Services and Secrets of a
// cluster.
func deleteServicesAndSecrets(ctx context.Context, c *cluster.Clients, namespaces []string, sel metav1.ListOptions) error {
	core := c.Kube.CoreV1()
	for _, ns := range c.ListIn(namespaces) {
		svcs, err := core.Services(ns).List(ctx, sel)
		if err != nil {
			return fmt.Errorf("list mover services of cluster %s: %w", c.Name, err)
		}
		for _, s := range svcs.Items {
			if err := ignoreNotFound(core.Services(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{})); err != nil {
				return fmt.Errorf("delete service %s/%s of cluster %s: %w", s.Namespace, s.Name, c.Name, err)
			}
		}
	}
	return moverpod.DeleteSecrets(ctx, c.Kube, c.Name, namespaces, sel)
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
