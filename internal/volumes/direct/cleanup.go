package volumes

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/cluster"
)

// cleanupTimeout bounds how long Cleanup waits for the pods to go.
const cleanupTimeout = 2 * time.Minute

// Cleanup deletes every pod, Service and Secret of the migration made by
// this package (labelled with the migration, managed-by ferry and
// component mover) in all namespaces of both clusters, and waits until the
// pods are gone. It is idempotent.
func Cleanup(ctx context.Context, o Options) error {
	if o.Source == nil || o.Source.Kube == nil || o.Destination == nil || o.Destination.Kube == nil || o.Migration == "" {
		return errors.New("volume cleanup: source and destination clients and the migration are required")
	}
	clusters := []*cluster.Clients{o.Source}
	if o.Destination != o.Source {
		clusters = append(clusters, o.Destination)
	}
	sel := metav1.ListOptions{LabelSelector: migrationSelector(o.Migration)}
	for _, c := range clusters {
		if err := deleteAll(ctx, c, sel); err != nil {
			return err
		}
	}
	var remaining string
	err := wait.PollUntilContextTimeout(ctx, time.Second, cleanupTimeout, true, func(ctx context.Context) (bool, error) {
		for _, c := range clusters {
			pods, err := c.Kube.CoreV1().Pods(metav1.NamespaceAll).List(ctx, sel)
			if err != nil {
				return false, fmt.Errorf("list mover pods of cluster %s: %w", c.Name, err)
			}
			if len(pods.Items) > 0 {
				p := pods.Items[0]
				remaining = fmt.Sprintf("%d pods on cluster %s, such as %s/%s", len(pods.Items), c.Name, p.Namespace, p.Name)
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("wait for mover pods to go (%s): %w", remaining, err)
	}
	return nil
}

// deleteAll deletes the selected pods, Services and Secrets of a cluster.
func deleteAll(ctx context.Context, c *cluster.Clients, sel metav1.ListOptions) error {
	core := c.Kube.CoreV1()
	pods, err := core.Pods(metav1.NamespaceAll).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("list mover pods of cluster %s: %w", c.Name, err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		if err := ignoreNotFound(core.Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})); err != nil {
			return fmt.Errorf("delete pod %s/%s of cluster %s: %w", p.Namespace, p.Name, c.Name, err)
		}
	}
	svcs, err := core.Services(metav1.NamespaceAll).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("list mover services of cluster %s: %w", c.Name, err)
	}
	for _, s := range svcs.Items {
		if err := ignoreNotFound(core.Services(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{})); err != nil {
			return fmt.Errorf("delete service %s/%s of cluster %s: %w", s.Namespace, s.Name, c.Name, err)
		}
	}
	return deleteSecrets(ctx, c.Kube, c.Name, sel)
}

func deleteSecrets(ctx context.Context, kube kubernetes.Interface, name string, sel metav1.ListOptions) error {
	secrets, err := kube.CoreV1().Secrets(metav1.NamespaceAll).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("list mover secrets of cluster %s: %w", name, err)
	}
	for _, s := range secrets.Items {
		if err := ignoreNotFound(kube.CoreV1().Secrets(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{})); err != nil {
			return fmt.Errorf("delete secret %s/%s of cluster %s: %w", s.Namespace, s.Name, name, err)
		}
	}
	return nil
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
