// Package controller assembles Ferry's controller: a controller-runtime
// manager with one reconciler per kind (Cluster, Repository, Plan, Migration), which
// runs in a cluster, as `ferry controller`, or inside the CLI.
package controller

import (
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/controller/clusterctl"
	"ferry.dev/ferry/internal/controller/migrationctl"
	"ferry.dev/ferry/internal/controller/planctl"
	"ferry.dev/ferry/internal/controller/repositoryctl"
)

// LeaderElectionID names the Lease the active controller holds; the CLI
// looks at it to tell whether a controller runs.
const LeaderElectionID = "ferry-controller"

// Leader election. The leader gives up (and `ferry controller` exits)
// when it cannot renew its Lease on the host for RenewDeadline; a
// successor takes over at most LeaseDuration after the last renewal of a
// leader that died (one that stops cleanly releases the Lease at once).
// The deadline is long enough to ride out a restart of the host's API
// server (often the destination's), so that a step under way carries on
// through its retry of errors that pass, instead of the controller
// exiting mid-step; Kubernetes' own 10 s would not.
const (
	LeaseDuration = 60 * time.Second
	RenewDeadline = 40 * time.Second
	RetryPeriod   = 4 * time.Second
)

// Options configure the manager.
type Options struct {
	// Namespace holds Ferry's objects on the host (ferry-system).
	Namespace string
	// MetricsAddr serves metrics; "0" turns them off.
	MetricsAddr string
	// HealthAddr serves /healthz and /readyz; "" turns them off.
	HealthAddr string
	// UnhealthyGrace is how long a cutover waits for failing pods on the
	// destination to recover before it fails (90s when zero).
	UnhealthyGrace time.Duration
	// MoverImage is the image of the data mover pods.
	MoverImage string
	// ReleaseOnCancel gives up leadership at once when the manager stops
	// (for the CLI's in-process controller).
	ReleaseOnCancel bool
	// Logger is the manager's and its controllers' logger; the zero value
	// means controller-runtime's global one (ctrl.SetLogger).
	Logger logr.Logger
}

// NewManager builds the manager with every reconciler registered. It
// watches only Ferry's namespace on the host and elects a leader, so that
// one controller acts at a time.
func NewManager(cfg *rest.Config, o Options) (ctrl.Manager, error) {
	lease, renew, retry := LeaseDuration, RenewDeadline, RetryPeriod
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  cluster.Scheme(),
		Cache:   cache.Options{DefaultNamespaces: map[string]cache.Config{o.Namespace: {}}},
		Metrics: metricsserver.Options{BindAddress: orDefault(o.MetricsAddr, "0")},
		// A process may build a manager more than once (tests, the CLI).
		Controller:                    config.Controller{SkipNameValidation: ptr.To(true)},
		HealthProbeBindAddress:        o.HealthAddr,
		LeaderElection:                true,
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionNamespace:       o.Namespace,
		LeaderElectionReleaseOnCancel: o.ReleaseOnCancel,
		LeaseDuration:                 &lease,
		RenewDeadline:                 &renew,
		RetryPeriod:                   &retry,
		Logger:                        o.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	reg := cluster.NewRegistry(cfg, mgr.GetClient()).Confine(o.Namespace)
	setups := []interface{ SetupWithManager(ctrl.Manager) error }{
		&clusterctl.Reconciler{Client: mgr.GetClient(), Registry: reg},
		&repositoryctl.Reconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("ferry")},
		&planctl.Reconciler{Client: mgr.GetClient(), Registry: reg, MoverImage: o.MoverImage},
		&migrationctl.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Registry: reg, Recorder: mgr.GetEventRecorder("ferry"),
			UnhealthyGrace: o.UnhealthyGrace, MoverImage: o.MoverImage},
	}
	for _, s := range setups {
		if err := s.SetupWithManager(mgr); err != nil {
			return nil, fmt.Errorf("set up controller: %w", err)
		}
	}
	if o.HealthAddr != "" {
		if err := mgr.AddHealthzCheck("healthz", func(_ *http.Request) error { return nil }); err != nil {
			return nil, err
		}
	}
	return mgr, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
