// Package podexec runs a command in a running container through the
// cluster's API server, like kubectl exec: over websockets, or SPDY where
// websockets are not served. Hooks run their exec commands with it, and
// the direct data path releases the senders it armed ahead of a cutover.
package podexec

import (
	"context"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream"
)

// maxOutput bounds the output kept of one command: its end.
const maxOutput = 64 << 10

// ExitError is a command that ran and exited with a non-zero code.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exited with code %d", e.Code) }

// Run runs cmd in a container of a pod and returns the end of its output
// (stdout and stderr together, the last 64 KiB). A command that exits
// non-zero returns an *ExitError; a canceled or expired context, its
// error.
func Run(ctx context.Context, cfg *rest.Config, kube kubernetes.Interface, namespace, pod, container string, cmd []string) (string, error) {
	req := kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
	if err != nil {
		return "", fmt.Errorf("exec in %s/%s: %w", namespace, pod, err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
	if err != nil {
		return "", fmt.Errorf("exec in %s/%s: %w", namespace, pod, err)
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return "", fmt.Errorf("exec in %s/%s: %w", namespace, pod, err)
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
	return out.String(), fmt.Errorf("exec in %s/%s container %s: %w", namespace, pod, container, err)
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
