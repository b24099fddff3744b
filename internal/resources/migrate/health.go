package migrate

import (
	"context"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Health is the state of the workloads in the destination namespaces.
type Health struct {
	// Ready is true when every Deployment, StatefulSet and DaemonSet has
	// all its replicas available.
	Ready bool
	// Waiting names the workloads not yet available.
	Waiting []string
	// Problems names each unhealthy pod and why (ImagePullBackOff,
	// CrashLoopBackOff, Unschedulable, ...).
	Problems []string
}

// Summary formats the health for a status message.
func (h Health) Summary() string {
	if h.Ready {
		return "all workloads are available"
	}
	s := "waiting for " + strings.Join(h.Waiting, ", ")
	if len(h.Problems) > 0 {
		s += "; unhealthy pods: " + strings.Join(h.Problems, "; ")
	}
	return s
}

// CheckHealth reports whether the workloads in namespaces are available.
func CheckHealth(ctx context.Context, c client.Client, namespaces []string) (Health, error) {
	var h Health
	for _, ns := range namespaces {
		if err := waitingWorkloads(ctx, c, ns, &h); err != nil {
			return h, err
		}
		if err := podProblems(ctx, c, ns, &h); err != nil {
			return h, err
		}
	}
	sort.Strings(h.Waiting)
	h.Ready = len(h.Waiting) == 0
	return h, nil
}

func waitingWorkloads(ctx context.Context, c client.Client, ns string, h *Health) error {
	var deps appsv1.DeploymentList
	if err := c.List(ctx, &deps, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("list deployments in %s: %w", ns, err)
	}
	for _, d := range deps.Items {
		want := replicas(d.Spec.Replicas)
		if d.Status.ObservedGeneration < d.Generation || d.Status.AvailableReplicas < want || d.Status.UpdatedReplicas < want {
			h.Waiting = append(h.Waiting, fmt.Sprintf("Deployment %s/%s (%d/%d available)", ns, d.Name, d.Status.AvailableReplicas, want))
		}
	}
	var sts appsv1.StatefulSetList
	if err := c.List(ctx, &sts, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("list statefulsets in %s: %w", ns, err)
	}
	for _, s := range sts.Items {
		want := replicas(s.Spec.Replicas)
		if s.Status.ObservedGeneration < s.Generation || s.Status.AvailableReplicas < want {
			h.Waiting = append(h.Waiting, fmt.Sprintf("StatefulSet %s/%s (%d/%d available)", ns, s.Name, s.Status.AvailableReplicas, want))
		}
	}
	var dss appsv1.DaemonSetList
	if err := c.List(ctx, &dss, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("list daemonsets in %s: %w", ns, err)
	}
	for _, d := range dss.Items {
		if d.Status.ObservedGeneration < d.Generation || d.Status.NumberAvailable < d.Status.DesiredNumberScheduled {
			h.Waiting = append(h.Waiting, fmt.Sprintf("DaemonSet %s/%s (%d/%d available)", ns, d.Name, d.Status.NumberAvailable, d.Status.DesiredNumberScheduled))
		}
	}
	return nil
}

func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// podProblems names the pods that cannot start and why.
func podProblems(ctx context.Context, c client.Client, ns string, h *Health) error {
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("list pods in %s: %w", ns, err)
	}
	for _, p := range pods.Items {
		if why := podProblem(&p); why != "" {
			h.Problems = append(h.Problems, fmt.Sprintf("pod %s/%s: %s", ns, p.Name, why))
		}
	}
	return nil
}

// podProblem says why a pod cannot run, or "" when it is fine or still
// starting normally.
func podProblem(p *corev1.Pod) string {
	if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded {
		return ""
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable {
			return "Unschedulable: " + cond.Message
		}
	}
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil {
			switch w.Reason {
			case "ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "CreateContainerConfigError",
				"CreateContainerError", "InvalidImageName", "RunContainerError":
				msg := w.Reason
				if w.Message != "" {
					msg += ": " + w.Message
				}
				return fmt.Sprintf("container %s %s", cs.Name, msg)
			}
		}
	}
	if p.Status.Phase == corev1.PodFailed {
		return "Failed: " + p.Status.Message
	}
	return ""
}
