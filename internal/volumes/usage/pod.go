package usage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// RoleUsage is the moverpod.LabelRole of a measurement pod.
const RoleUsage = "usage"

// AnnotationClaim on a measurement pod names the claim it measures.
const AnnotationClaim = moverpod.AnnotationClaim

// podName is the name of the pod measuring claim c for plan:
// ferry-usage-<hash of the plan and the claim>.
func podName(plan string, c Claim) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{plan, c.Namespace, c.Name}, "\x00")))
	return "ferry-usage-" + hex.EncodeToString(sum[:])[:10]
}

// podLabels are the labels of a plan's measurement pods: the mover's
// (so that the direct path and the planning checks take them for Ferry's
// own, not the application's), the plan's, and the role usage.
func podLabels(plan string) map[string]string {
	return map[string]string{
		ferryv1.LabelPlan:       plan,
		ferryv1.LabelManagedBy:  ferryv1.ManagedByValue,
		moverpod.LabelComponent: moverpod.ComponentMover,
		moverpod.LabelRole:      RoleUsage,
	}
}

// measurePod is the pod measuring claim c: `ferry mover usage` on the
// claim mounted read-only, its JSON result in the termination message,
// on node when it is set (a claim mounted there may be ReadWriteOnce).
func (m *Measurer) measurePod(c Claim, node string, env moverpod.Env) *corev1.Pod {
	p := moverpod.Pod(m.Image, podName(m.Plan, c), c.Namespace,
		[]string{"mover", "usage", moverpod.DataDir, "--result-file", corev1.TerminationMessagePathDefault}, env,
		moverpod.Mount{Name: "data", Path: moverpod.DataDir, Claim: c.Name, ReadOnly: true})
	p.Labels = podLabels(m.Plan)
	p.Annotations = map[string]string{AnnotationClaim: c.Namespace + "/" + c.Name}
	p.Spec.NodeName = node
	p.Spec.ActiveDeadlineSeconds = ptr.To(int64(PodTimeout.Seconds()))
	return p
}

// startPod creates the pod measuring claim c; it returns figures only
// when the pod is refused (admission, a quota, Pod Security): those are
// Unknown, with the refusal. In a namespace enforcing the restricted Pod
// Security Standard the pod runs as the identity the last figures (prev)
// chose, else the default one, and counts what that cannot read.
func (m *Measurer) startPod(ctx context.Context, c Claim, node string, prev *ferryv1.VolumeUsage) (*ferryv1.VolumeUsage, error) {
	pod := m.measurePod(c, node, moverpod.NamespaceEnv(ctx, m.Source.Kube, c.Namespace).WithRunAs(moverpod.RunAs(prev)))
	_, err := m.Source.Kube.CoreV1().Pods(c.Namespace).Create(ctx, pod, metav1.CreateOptions{FieldManager: ferryv1.FieldManager})
	switch {
	case err == nil || apierrors.IsAlreadyExists(err):
		return nil, nil
	case apierrors.IsForbidden(err) || apierrors.IsInvalid(err):
		return m.unknown("the measurement pod was refused: " + clip(err.Error())), nil
	}
	return nil, fmt.Errorf("create measurement pod %s/%s on cluster %s: %w", c.Namespace, pod.Name, m.Source.Name, err)
}

// readPod reads the figures of a measurement pod that ended, or that
// took longer than PodTimeout, and deletes it; it returns nil while the
// pod runs.
func (m *Measurer) readPod(ctx context.Context, pod *corev1.Pod) (*ferryv1.VolumeUsage, error) {
	if pod.DeletionTimestamp != nil {
		return nil, nil // a pod read before: measured again once it is gone
	}
	var u *ferryv1.VolumeUsage
	switch {
	case pod.Status.Phase == corev1.PodSucceeded:
		u = m.parseResult(terminationMessage(pod))
	case pod.Status.Phase == corev1.PodFailed:
		u = m.unknown("the measurement pod failed: " + failure(pod))
	case m.now().Sub(pod.CreationTimestamp.Time) > PodTimeout:
		u = m.unknown(fmt.Sprintf("the measurement pod did not finish within %s: %s", PodTimeout, failure(pod)))
	default:
		return nil, nil
	}
	err := m.Source.Kube.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("delete measurement pod %s/%s on cluster %s: %w", pod.Namespace, pod.Name, m.Source.Name, err)
	}
	return u, nil
}

// parseResult turns the JSON line of `ferry mover usage` into figures.
func (m *Measurer) parseResult(msg string) *ferryv1.VolumeUsage {
	var r mover.Usage
	if err := json.Unmarshal([]byte(strings.TrimSpace(msg)), &r); err != nil {
		return m.unknown(fmt.Sprintf("the measurement pod's result %q is not the JSON of `ferry mover usage`: is the mover image as new as the controller?", clip(msg)))
	}
	u := &ferryv1.VolumeUsage{UsedBytes: ptr.To(r.Bytes), UsedInodes: ptr.To(r.Inodes), MeasuredAt: metav1.NewTime(m.now()),
		Method: ferryv1.UsagePod, OtherOwners: int32(r.OtherOwners), OtherOwnerFiles: r.OtherOwnerFiles,
		NonRoot: r.NonRoot.String(), UnreadableFiles: r.Unreadable, UnreadableExample: r.UnreadableExample}
	for _, o := range r.Owners {
		u.Owners = append(u.Owners, ferryv1.VolumeOwner{UID: int64(o.UID), GID: int64(o.GID), Bytes: o.Bytes, Files: o.Files})
	}
	return u
}

// terminationMessage is the message of the pod's terminated container.
func terminationMessage(pod *corev1.Pod) string {
	for _, s := range pod.Status.ContainerStatuses {
		if t := s.State.Terminated; t != nil {
			return t.Message
		}
	}
	return ""
}

// failure says why a measurement pod did not give figures: its
// container's message or waiting reason, else why it is not scheduled
// (a claim that cannot be mounted where the pod can run), else its phase.
func failure(pod *corev1.Pod) string {
	for _, s := range pod.Status.ContainerStatuses {
		if t := s.State.Terminated; t != nil && t.Message != "" {
			return clip(t.Message)
		}
		if w := s.State.Waiting; w != nil && w.Reason != "" {
			return strings.TrimSpace(w.Reason + " " + w.Message)
		}
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status != corev1.ConditionTrue && c.Message != "" {
			return "not scheduled: " + c.Message
		}
	}
	if pod.Status.Message != "" {
		return pod.Status.Message
	}
	return "pod " + strings.ToLower(string(pod.Status.Phase))
}

// clip shortens a message for a condition.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		return s[len(s)-300:]
	}
	return s
}

// Cleanup deletes every measurement pod of the plan on the cluster, in
// its namespaces there (those a namespace admin's token lists one by
// one; see cluster.Clients.ListIn); it is idempotent.
func Cleanup(ctx context.Context, c *cluster.Clients, plan string, namespaces []string) error {
	for _, ns := range c.ListIn(namespaces) {
		if err := cleanupIn(ctx, c, plan, ns); err != nil {
			return err
		}
	}
	return nil
}

func cleanupIn(ctx context.Context, c *cluster.Clients, plan, namespace string) error {
	sel := labels.SelectorFromSet(podLabels(plan)).String()
	l, err := c.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return fmt.Errorf("list measurement pods of plan %s on cluster %s: %w", plan, c.Name, err)
	}
	for _, p := range l.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		err := c.Kube.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete measurement pod %s/%s on cluster %s: %w", p.Namespace, p.Name, c.Name, err)
		}
	}
	return nil
}
