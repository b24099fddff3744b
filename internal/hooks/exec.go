package hooks

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/podexec"
)

// Target is one container an exec hook runs in.
type Target struct {
	Pod, Container string
}

// Targets returns the running pods an exec hook selects in namespace, in
// name order, each with the container to run in.
func Targets(ctx context.Context, kube kubernetes.Interface, namespace string, e *ferryv1.ExecHook) ([]Target, error) {
	var pods []corev1.Pod
	if e.PodName != "" {
		p, err := kube.CoreV1().Pods(namespace).Get(ctx, e.PodName, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("get pod %s/%s: %w", namespace, e.PodName, err)
		}
		pods = append(pods, *p)
	} else {
		sel, err := metav1.LabelSelectorAsSelector(e.Selector)
		if err != nil {
			return nil, fmt.Errorf("selector: %w", err)
		}
		l, err := kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			return nil, fmt.Errorf("list pods of %s: %w", namespace, err)
		}
		pods = l.Items
	}
	var out []Target
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil || len(p.Spec.Containers) == 0 {
			continue
		}
		c := e.Container
		if c == "" {
			c = p.Spec.Containers[0].Name
		}
		out = append(out, Target{Pod: p.Name, Container: c})
	}
	return out, nil
}

// Exec runs cmd in a container, like kubectl exec, and returns the end of
// its output (stdout and stderr together). The context is passed in the
// command's environment through `env NAME=VALUE... CMD`; in a container
// without an `env` program the command runs again with the assignments
// appended as its last arguments (see docs/hooks.md).
func Exec(ctx context.Context, cfg *rest.Config, kube kubernetes.Interface, namespace string, t Target, cmd []string, hc Context) (string, error) {
	out, err := execOnce(ctx, cfg, kube, namespace, t, append(append([]string{"env"}, hc.Assignments()...), cmd...))
	if err != nil && noEnv(err, out) {
		return execOnce(ctx, cfg, kube, namespace, t, append(append([]string{}, cmd...), hc.Assignments()...))
	}
	return out, err
}

// noEnv tells whether an exec failed because the container has no `env`.
func noEnv(err error, out string) bool {
	var ee *podexec.ExitError
	if errors.As(err, &ee) {
		return ee.Code == 127 && strings.TrimSpace(out) == ""
	}
	return strings.Contains(err.Error(), `"env": executable file not found`)
}

func execOnce(ctx context.Context, cfg *rest.Config, kube kubernetes.Interface, namespace string, t Target, cmd []string) (string, error) {
	return podexec.Run(ctx, cfg, kube, namespace, t.Pod, t.Container, cmd)
}
