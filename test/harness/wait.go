package harness

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// podTimeout bounds the waits for a single pod.
const podTimeout = 2 * time.Minute

// Eventually polls cond every interval, the first time at once, until it
// reports done, for at most timeout. It fails the test when time runs out,
// when ctx ends or when cond returns an error, with what it waited for and
// the last state cond described.
func Eventually(ctx context.Context, t testing.TB, interval, timeout time.Duration, what string,
	cond func(ctx context.Context) (done bool, state string, err error)) {
	t.Helper()
	var state string
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		done, s, err := cond(ctx)
		state = s
		return done, err
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v\nlast state: %s", what, err, state)
	}
}

// CreatePod creates the pod and returns it as the server stored it.
func (c *Cluster) CreatePod(t testing.TB, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	p, err := c.Kube.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod %s/%s on %s: %v", pod.Namespace, pod.Name, c.Name, err)
	}
	return p
}

// WaitPod waits up to two minutes until the pod is in one of the phases,
// and ready when the phase is Running; it fails the test with the pod's
// state otherwise.
func (c *Cluster) WaitPod(t testing.TB, ns, name string, phases ...corev1.PodPhase) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	Eventually(context.Background(), t, 250*time.Millisecond, podTimeout,
		fmt.Sprintf("pod %s/%s on %s to reach %v", ns, name, c.Name, phases),
		func(ctx context.Context) (bool, string, error) {
			if p, err := c.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
				pod = p
			}
			done := pod != nil && slices.ContainsFunc(phases, func(ph corev1.PodPhase) bool {
				return pod.Status.Phase == ph && (ph != corev1.PodRunning || PodReady(pod))
			})
			return done, PodStatus(pod), nil
		})
	return pod
}

// RunPod creates a pod that runs to completion, waits up to two minutes
// for it to end and returns its log; it fails the test with the pod's
// state and log unless the pod succeeded.
func (c *Cluster) RunPod(t testing.TB, pod *corev1.Pod) string {
	t.Helper()
	ctx := context.Background()
	p := c.CreatePod(t, pod)
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, podTimeout, true, func(ctx context.Context) (bool, error) {
		if got, err := c.Kube.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{}); err == nil {
			p = got
		}
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed, nil
	})
	out, logErr := c.Log(ctx, p.Namespace, p.Name)
	if err != nil || p.Status.Phase != corev1.PodSucceeded || logErr != nil {
		t.Fatalf("pod %s/%s on %s did not succeed: %v: %s\nlog (%v):\n%s", p.Namespace, p.Name, c.Name, err, PodStatus(p), logErr, out)
	}
	return out
}

// Log returns the log of the pod's first container.
func (c *Cluster) Log(ctx context.Context, ns, pod string) (string, error) {
	b, err := c.Kube.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil {
		return "", fmt.Errorf("log of pod %s/%s on %s: %w", ns, pod, c.Name, err)
	}
	return string(b), nil
}

// PodReady reports whether the pod's Ready condition is true.
func PodReady(p *corev1.Pod) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// PodStatus describes a pod's phase, waiting and terminated containers
// and unmet conditions, for failure messages; nil is "pod not found".
func PodStatus(p *corev1.Pod) string {
	if p == nil {
		return "pod not found"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "phase=%s", p.Status.Phase)
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			fmt.Fprintf(&b, " %s waiting: %s %s", cs.Name, w.Reason, w.Message)
		}
		if term := cs.State.Terminated; term != nil {
			fmt.Fprintf(&b, " %s terminated: %s exit %d", cs.Name, term.Reason, term.ExitCode)
		}
	}
	for _, cond := range p.Status.Conditions {
		if cond.Status != corev1.ConditionTrue {
			fmt.Fprintf(&b, " %s=%s %s", cond.Type, cond.Reason, cond.Message)
		}
	}
	return b.String()
}
