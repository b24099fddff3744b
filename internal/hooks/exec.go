package hooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// maxOutput bounds the output kept of one exec: its end.
const maxOutput = 64 << 10

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

// ExitError is a command that ran and exited with a non-zero code.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exited with code %d", e.Code) }

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
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code == 127 && strings.TrimSpace(out) == ""
	}
	return strings.Contains(err.Error(), `"env": executable file not found`)
}

func execOnce(ctx context.Context, cfg *rest.Config, kube kubernetes.Interface, namespace string, t Target, cmd []string) (string, error) {
	req := kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(t.Pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: t.Container, Command: cmd, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
	if err != nil {
		return "", fmt.Errorf("exec in %s/%s: %w", namespace, t.Pod, err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
	if err != nil {
		return "", fmt.Errorf("exec in %s/%s: %w", namespace, t.Pod, err)
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return "", fmt.Errorf("exec in %s/%s: %w", namespace, t.Pod, err)
	}
	out := &tailBuffer{}
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: out, Stderr: out})
	var code utilexec.CodeExitError
	switch {
	case err == nil:
		return out.String(), nil
	case errors.As(err, &code):
		return out.String(), &ExitError{Code: code.Code}
	case ctx.Err() != nil:
		return out.String(), ctx.Err()
	}
	return out.String(), fmt.Errorf("exec in %s/%s container %s: %w", namespace, t.Pod, t.Container, err)
}

// tailBuffer keeps the last maxOutput bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > maxOutput {
		b.buf = append([]byte{}, b.buf[len(b.buf)-maxOutput:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
