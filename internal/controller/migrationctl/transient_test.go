package migrationctl

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/resources/migrate"
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

// TestApplyFailedTransient: a run whose every object failed with an error
// that may pass is retried; one failure for another reason, or without
// its error, fails the step.
func TestApplyFailedTransient(t *testing.T) {
	cms := schema.GroupResource{Resource: "configmaps"}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cm := func(name string) ferryv1.ObjectResult {
		return ferryv1.ObjectResult{Kind: "ConfigMap", Namespace: "shop", Name: name}
	}
	tests := []struct {
		name string
		fill func(r *migrate.Report)
		want bool
	}{
		{"all refused", func(r *migrate.Report) {
			r.Fail(cm("a"), fmt.Errorf("apply: %w", refused))
			r.Fail(cm("b"), apierrors.NewServiceUnavailable("starting"))
		}, true},
		{"one forbidden", func(r *migrate.Report) {
			r.Fail(cm("a"), refused)
			r.Fail(cm("b"), apierrors.NewForbidden(cms, "b", errors.New("no")))
		}, false},
		{"one without its error", func(r *migrate.Report) {
			r.Fail(cm("a"), refused)
			r.Add(ferryv1.ObjectResult{Kind: "ConfigMap", Name: "b", Action: ferryv1.ObjectFailed, Reason: "?"})
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := migrate.NewReport()
			tt.fill(r)
			err := applyFailed(r.Failed(), r)
			if got := transient(err); got != tt.want {
				t.Errorf("transient(%v) = %v, want %v", err, got, tt.want)
			}
			if !strings.Contains(err.Error(), "2 objects failed to apply (ConfigMap shop/a: ") {
				t.Errorf("error %q does not count and name the failures", err)
			}
		})
	}
}
