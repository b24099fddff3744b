package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/internal/console"
	"ferry.dev/ferry/internal/controller"
)

// controllerContainer is the container of Ferry's controller in its pod
// (config/manager), whose image the data movers run by default.
const controllerContainer = "controller"

type controllerOptions struct {
	host        hostOptions
	metricsAddr string
	healthAddr  string
	install     bool
	grace       time.Duration
	moverImage  string
	// console serves the web console (ModeToken) when set; consoleCert
	// and consoleKey make it speak TLS.
	console, consoleCert, consoleKey string
}

func newControllerCommand() *cobra.Command {
	o := &controllerOptions{}
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Run Ferry's controller against the host cluster",
		Long: `Run Ferry's controller: it checks Clusters, validates Plans and runs
Migrations. Run it in the host cluster (config/manager) or from anywhere
that reaches the host and the registered clusters. Only one controller acts
at a time (leader election).

The data movers run --mover-image (default $FERRY_MOVER_IMAGE), else the
host's mover-image setting (ferry config set mover-image IMAGE), else,
in the host cluster, the controller's own image (read from its pod, named
by $POD_NAMESPACE and $POD_NAME).`,
		Annotations: map[string]string{annotationLogLevel: "info"},
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd)
		},
	}
	o.bindFlags(cmd.Flags())
	return cmd
}

func (o *controllerOptions) bindFlags(f *pflag.FlagSet) {
	o.host.bindFlags(f)
	f.StringVar(&o.metricsAddr, "metrics-bind-address", "0", "address of the metrics endpoint; 0 turns it off")
	f.StringVar(&o.healthAddr, "health-probe-bind-address", "", "address of /healthz and /readyz")
	f.DurationVar(&o.grace, "unhealthy-grace", 90*time.Second, "how long a cutover waits for failing pods on the destination before it fails")
	f.StringVar(&o.moverImage, "mover-image", os.Getenv("FERRY_MOVER_IMAGE"), "image of the data mover pods (the ferry image); default $FERRY_MOVER_IMAGE, else the host's mover-image setting, else the controller's own image in its pod")
	f.BoolVar(&o.install, "install-crds", true, "install or update Ferry's CRDs on the host before starting")
	f.StringVar(&o.console, "console", "", "serve the web console on this address (e.g. :8443): users sign in with a bearer token of the host and act with their own RBAC rights on Ferry's objects (docs/console.md)")
	f.StringVar(&o.consoleCert, "console-tls-cert", "", "PEM certificate of the console's TLS (with --console-tls-key); plain HTTP without")
	f.StringVar(&o.consoleKey, "console-tls-key", "", "PEM private key of --console-tls-cert")
}

func (o *controllerOptions) run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	h, err := o.host.connect()
	if err != nil {
		return err
	}
	if o.install {
		if err := h.install(ctx); err != nil {
			return err
		}
	}
	image, err := h.moverImage(ctx, o.moverImage, func() string { return ownImage(ctx, h.c, os.Getenv("POD_NAMESPACE"), os.Getenv("POD_NAME")) })
	if err != nil {
		return err
	}
	mgr, err := controller.NewManager(h.cfg, controller.Options{Namespace: h.namespace,
		MetricsAddr: o.metricsAddr, HealthAddr: o.healthAddr, UnhealthyGrace: o.grace, ReleaseOnCancel: true, MoverImage: image,
		Logger: logr.FromContextOrDiscard(ctx)})
	if err != nil {
		return err
	}
	if o.console != "" {
		if err := o.addConsole(ctx, mgr, h); err != nil {
			return err
		}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "controller starting for namespace %s on %s\n", h.namespace, h.cfg.Host)
	// The manager stops after the stop is marked, so that what its parts
	// report while shutting down is not logged as errors.
	mctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	go func() {
		select {
		case <-ctx.Done():
			beginStop(ctx)
			cancel()
		case <-mctx.Done():
		}
	}()
	return mgr.Start(mctx)
}

// ownImage is the image of the controller container of the pod
// namespace/name (the pod this process runs in, from the downward API), or
// "" outside a pod or when the pod cannot be read (with a warning).
func ownImage(ctx context.Context, c client.Reader, namespace, name string) string {
	if namespace == "" || name == "" {
		return ""
	}
	var pod corev1.Pod
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &pod); err != nil {
		slog.Warn("cannot read the controller's own pod for its image", "pod", namespace+"/"+name, "err", err)
		return ""
	}
	return containerImage(pod.Spec.Containers)
}

// containerImage is the image of the controller container: the one named
// controllerContainer, or the only one.
func containerImage(cs []corev1.Container) string {
	for _, c := range cs {
		if c.Name == controllerContainer {
			return c.Image
		}
	}
	if len(cs) == 1 {
		return cs[0].Image
	}
	return ""
}

// addConsole adds the web console (token mode) to the manager: it serves
// on every replica, leader or not, from the manager's cache.
func (o *controllerOptions) addConsole(ctx context.Context, mgr ctrl.Manager, h *host) error {
	if (o.consoleCert == "") != (o.consoleKey == "") {
		return fmt.Errorf("give both --console-tls-cert and --console-tls-key, or neither")
	}
	var tlsConfig *tls.Config
	if o.consoleCert != "" {
		pair, err := tls.LoadX509KeyPair(o.consoleCert, o.consoleKey)
		if err != nil {
			return fmt.Errorf("console TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	srv, err := console.New(console.Options{Mode: console.ModeToken, Namespace: h.namespace, Host: h.cfg, Client: h.c,
		Informers: mgr.GetCache(), Secure: tlsConfig != nil, Logger: logr.FromContextOrDiscard(ctx).WithName("console")})
	if err != nil {
		return err
	}
	return mgr.Add(&consoleRunnable{addr: o.console, srv: srv, tls: tlsConfig})
}

// consoleRunnable serves the console while the manager runs.
type consoleRunnable struct {
	addr string
	srv  *console.Server
	tls  *tls.Config
}

// NeedLeaderElection is false: every replica serves the console.
func (r *consoleRunnable) NeedLeaderElection() bool { return false }

// Start serves until ctx ends.
func (r *consoleRunnable) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		return fmt.Errorf("console: listen on %s: %w", r.addr, err)
	}
	if err := r.srv.Start(ctx); err != nil {
		_ = ln.Close()
		return err
	}
	logr.FromContextOrDiscard(ctx).Info("console serving", "address", ln.Addr().String(), "tls", r.tls != nil)
	return serveConsole(ctx, ln, r.srv, r.tls)
}
