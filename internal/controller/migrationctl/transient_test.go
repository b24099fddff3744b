package migrationctl

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"ferry.dev/ferry/internal/volumes"
)

func TestTransient(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"conflict", fmt.Errorf("update: %w", apierrors.NewConflict(pods, "p", errors.New("changed"))), true},
		{"API server unavailable", apierrors.NewServiceUnavailable("restarting"), true},
		{"too many requests", apierrors.NewTooManyRequests("slow down", 1), true},
		{"connection refused", fmt.Errorf("list pods: %w", refused), true},
		{"one of several", errors.Join(errors.New("x"), apierrors.NewInternalError(errors.New("etcd"))), true},
		{"forbidden", apierrors.NewForbidden(pods, "p", errors.New("no")), false},
		{"not found", apierrors.NewNotFound(pods, "p"), false},
		{"mover failed", fmt.Errorf("copy: %w: %w", volumes.ErrTransferFailed, refused), false},
		{"plain", errors.New("plan is not valid"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transient(tt.err); got != tt.want {
				t.Errorf("transient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
