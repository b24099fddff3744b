package moverpod

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ClaimNode is the node of a running pod (not a mover) that mounts the
// claim, or "" when there is none; with several, the first by name.
func ClaimNode(pods []corev1.Pod, claim string) string {
	var names []string
	nodes := map[string]string{}
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil || p.Spec.NodeName == "" || IsMoverPod(p.Labels) {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
				names = append(names, p.Name)
				nodes[p.Name] = p.Spec.NodeName
				break
			}
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	return nodes[names[0]]
}

// PodReady tells whether a pod runs and passes its readiness probe.
func PodReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// terminated is how a pod's mover container ended, or nil.
func terminated(p *corev1.Pod) *corev1.ContainerStateTerminated {
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil {
			return t
		}
	}
	return nil
}

// ExitCode is the exit code of a pod's terminated container, or -1.
func ExitCode(p *corev1.Pod) int {
	if t := terminated(p); t != nil {
		return int(t.ExitCode)
	}
	return -1
}

// FailedAt is when a failed pod's container ended; zero when unknown.
func FailedAt(p *corev1.Pod) time.Time {
	if t := terminated(p); t != nil {
		return t.FinishedAt.Time
	}
	return time.Time{}
}

// Failed tells whether p exists and failed.
func Failed(p *corev1.Pod) bool { return p != nil && p.Status.Phase == corev1.PodFailed }

// Terminating tells whether p exists and is being deleted.
func Terminating(p *corev1.Pod) bool { return p != nil && p.DeletionTimestamp != nil }

// GetPod gets a pod, or nil when it does not exist.
func GetPod(ctx context.Context, kube kubernetes.Interface, namespace, name string) (*corev1.Pod, error) {
	p, err := kube.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get pod %s/%s: %w", namespace, name, err)
	}
	return p, nil
}

// DeletePod deletes pod unless it is being deleted already, only if it is
// still the pod that was read (same UID); one that is gone is fine.
func DeletePod(ctx context.Context, kube kubernetes.Interface, pod *corev1.Pod) error {
	if pod == nil || pod.DeletionTimestamp != nil {
		return nil
	}
	uid := pod.UID
	err := kube.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// DeleteMigrationPods deletes the mover pods of a migration on a cluster
// (named clusterName in errors), in namespaces ("" for all, see
// cluster.Clients.ListIn); remaining tells whether any still exist
// afterwards (terminating), so that a caller calls again until none is
// left.
func DeleteMigrationPods(ctx context.Context, kube kubernetes.Interface, clusterName, migration string, namespaces []string) (remaining bool, err error) {
	for _, ns := range namespaces {
		r, err := deleteMigrationPodsIn(ctx, kube, clusterName, migration, ns)
		if err != nil {
			return false, err
		}
		remaining = remaining || r
	}
	return remaining, nil
}

func deleteMigrationPodsIn(ctx context.Context, kube kubernetes.Interface, clusterName, migration, namespace string) (remaining bool, err error) {
	sel := metav1.ListOptions{LabelSelector: MigrationSelector(migration)}
	pods, err := kube.CoreV1().Pods(namespace).List(ctx, sel)
	if apierrors.IsForbidden(err) && namespace != "" && namespaceGone(ctx, kube, namespace) {
		return false, nil // the namespace went, and the rights in it with it
	}
	if err != nil {
		return false, fmt.Errorf("list mover pods of cluster %s: %w", clusterName, err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		err := kube.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("delete pod %s/%s of cluster %s: %w", p.Namespace, p.Name, clusterName, err)
		}
	}
	if len(pods.Items) == 0 {
		return false, nil
	}
	if pods, err = kube.CoreV1().Pods(namespace).List(ctx, sel); err != nil {
		return false, fmt.Errorf("list mover pods of cluster %s: %w", clusterName, err)
	}
	return len(pods.Items) > 0, nil
}

// OnNode is the affinity that requires a mover pod to run on node. Node
// affinity, not spec.nodeName, pins it: a pod given a node name skips
// the scheduler, which binds a destination claim that waits for its
// first consumer.
func OnNode(node string) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
		}}},
	}}
}

// DeleteSecrets deletes the Secrets that sel selects in namespaces of a
// cluster, listed namespace by namespace: Ferry may read Secrets only in
// the namespaces its plan was granted (docs/rbac.md). Every namespace
// when namespaces is nil (a caller with cluster-wide rights).
func DeleteSecrets(ctx context.Context, kube kubernetes.Interface, clusterName string, namespaces []string, sel metav1.ListOptions) error {
	if namespaces == nil {
		namespaces = []string{metav1.NamespaceAll}
	}
	for _, ns := range namespaces {
		secrets, err := kube.CoreV1().Secrets(ns).List(ctx, sel)
		if apierrors.IsForbidden(err) && namespaceGone(ctx, kube, ns) {
			continue // the namespace went, and Ferry's grant with it
		}
		if err != nil {
			return fmt.Errorf("list mover secrets of cluster %s: %w", clusterName, err)
		}
		for _, s := range secrets.Items {
			err := kube.CoreV1().Secrets(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("delete secret %s/%s of cluster %s: %w", s.Namespace, s.Name, clusterName, err)
			}
		}
	}
	return nil
}

// namespaceGone reports whether namespace ns is known not to exist.
func namespaceGone(ctx context.Context, kube kubernetes.Interface, ns string) bool {
	_, err := kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	return apierrors.IsNotFound(err)
}
