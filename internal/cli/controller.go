package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	"ferry.dev/ferry/internal/controller"
)

type controllerOptions struct {
	host        hostOptions
	metricsAddr string
	healthAddr  string
	install     bool
	grace       time.Duration
	moverImage  string
}

func newControllerCommand() *cobra.Command {
	o := &controllerOptions{}
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Run Ferry's controller against the host cluster",
		Long: `Run Ferry's controller: it checks Clusters, validates Plans and runs
Migrations. Run it in the host cluster (config/manager) or from anywhere
that reaches the host and the registered clusters. Only one controller acts
at a time (leader election).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := o.host.connect()
			if err != nil {
				return err
			}
			if o.install {
				if err := h.install(cmd.Context()); err != nil {
					return err
				}
			}
			ctrl.SetLogger(controllerLoggerAt(true))
			mgr, err := controller.NewManager(h.cfg, controller.Options{Namespace: h.namespace,
				MetricsAddr: o.metricsAddr, HealthAddr: o.healthAddr, UnhealthyGrace: o.grace, ReleaseOnCancel: true, MoverImage: o.moverImage})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "controller starting for namespace %s on %s\n", h.namespace, h.cfg.Host)
			return mgr.Start(cmd.Context())
		},
	}
	o.host.bindFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.metricsAddr, "metrics-bind-address", "0", "address of the metrics endpoint; 0 turns it off")
	cmd.Flags().StringVar(&o.healthAddr, "health-probe-bind-address", "", "address of /healthz and /readyz")
	cmd.Flags().DurationVar(&o.grace, "unhealthy-grace", 90*time.Second, "how long a cutover waits for failing pods on the destination before it fails")
	cmd.Flags().StringVar(&o.moverImage, "mover-image", os.Getenv("FERRY_MOVER_IMAGE"), "image of the data mover pods (the ferry image); default $FERRY_MOVER_IMAGE")
	cmd.Flags().BoolVar(&o.install, "install-crds", true, "install or update Ferry's CRDs on the host before starting")
	return cmd
}
