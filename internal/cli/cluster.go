package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/ops"
)

func newClusterCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Short: "Register the clusters Ferry migrates between"}
	cmd.AddCommand(newClusterAddCommand())
	return cmd
}

type clusterAddOptions struct {
	host       hostOptions
	name       string
	kubeconfig string
	context    string
	role       string
	moverSvc   string
}

func newClusterAddCommand() *cobra.Command {
	o := &clusterAddOptions{}
	cmd := &cobra.Command{
		Use:   "add NAME --kubeconfig FILE [--context CONTEXT]",
		Short: "Register a cluster: create Ferry's service account there and store its token on the host",
		Long: `Register a cluster with Ferry. On the cluster, Ferry creates the namespace
ferry-system, a service account with Ferry's roles (ferry-source: read all
and quiesce workloads; ferry-destination: create what migrations bring) and
a token. On the host cluster (--host-kubeconfig, default the current
context) it stores the token in a Secret and creates the Cluster object.`,
		Example: `  ferry cluster add src --kubeconfig .localclusters/src/kubeconfig
  ferry cluster add dst --kubeconfig .localclusters/dst/kubeconfig --role destination
  ferry cluster add cloud --kubeconfig cloud.yaml --mover-service LoadBalancer`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(cmd.Context(), cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to register (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.context, "context", "", "context in that kubeconfig")
	f.StringVar(&o.role, "role", "both", "Ferry's role on the cluster: source, destination or both")
	f.StringVar(&o.moverSvc, "mover-service", ferryv1.MoverServiceNodePort, "how data movers on other clusters reach this cluster's receivers: NodePort, or LoadBalancer where nodes are not reachable")
	f.StringVar(&o.host.kubeconfig, "host-kubeconfig", "", "kubeconfig of the host cluster (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.host.context, "host-context", "", "context of the host cluster")
	f.StringVar(&o.host.namespace, "ferry-namespace", ops.Namespace(), "namespace of Ferry's objects on the host cluster (default from $FERRY_NAMESPACE, else ferry-system)")
	return cmd
}

// registration is what the flags ask for.
func (o *clusterAddOptions) registration() ops.ClusterRegistration {
	return ops.ClusterRegistration{Name: o.name, Role: o.role, MoverService: o.moverSvc}
}

func (o *clusterAddOptions) validate() error { return o.registration().Validate() }

func (o *clusterAddOptions) run(ctx context.Context, out io.Writer) error {
	target, err := loadConfig(o.kubeconfig, o.context)
	if err != nil {
		return err
	}
	h, err := o.host.connect()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	r := o.registration()
	r.Config, r.IsHost = target, target.Host == h.cfg.Host
	tok, err := h.ops.PrepareCluster(ctx, r)
	if err != nil {
		return err
	}
	if err := h.install(ctx); err != nil {
		return err
	}
	reg, err := h.ops.StoreCluster(ctx, r, tok)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "cluster %s registered (%s)\n", o.name, target.Host)
	return report(out, o.name, reg)
}

// report prints the Ready condition the check with the stored token
// found, as the controller will.
func report(out io.Writer, name string, reg *ops.ClusterRegistered) error {
	if p := reg.Problem; p != nil {
		fmt.Fprintf(out, "Ready: False (%s): %s\n", p.Reason, p.Message)
		return fmt.Errorf("cluster %s is not ready: %s", name, p.Reason)
	}
	facts := reg.Facts
	fmt.Fprintf(out, "Ready: True, Kubernetes %s, %d API versions, storage classes:", facts.Version, len(facts.APIVersions))
	for _, sc := range facts.StorageClasses {
		def := ""
		if sc.Default {
			def = " (default)"
		}
		fmt.Fprintf(out, " %s%s", sc.Name, def)
	}
	fmt.Fprintln(out)
	return nil
}
