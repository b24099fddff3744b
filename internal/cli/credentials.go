package cli

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/ops"
	"ferry.dev/ferry/internal/userconfig"
)

// credentialsFlags name the user's own kubeconfigs of a plan's clusters,
// with which `ferry plan create` and `ferry plan grant` grant Ferry the
// plan's namespaces.
type credentialsFlags struct {
	fromKubeconfig, fromContext, toKubeconfig, toContext string
}

func (f *credentialsFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.fromKubeconfig, "from-kubeconfig", "", "your kubeconfig of the source cluster, to grant Ferry its namespaces there (default: the one `ferry cluster add` used on this machine)")
	fs.StringVar(&f.fromContext, "from-context", "", "context in --from-kubeconfig")
	fs.StringVar(&f.toKubeconfig, "to-kubeconfig", "", "your kubeconfig of the destination cluster (default: the one `ferry cluster add` used on this machine)")
	fs.StringVar(&f.toContext, "to-context", "", "context in --to-kubeconfig")
}

// knownKey names a cluster of a Ferry installation in the record of
// userconfig.
func knownKey(h *host, cluster string) string {
	return userconfig.Key(h.cfg.Host, h.namespace, cluster)
}

// rememberKubeconfig records the kubeconfig a cluster was registered
// with, for the grants of later plans.
func rememberKubeconfig(h *host, cluster, kubeconfig, kubeContext string) error {
	return userconfig.Remember(knownKey(h, cluster), kubeconfig, kubeContext)
}

// userConfig returns the user's configuration of cluster name: the flag's
// kubeconfig, else the one recorded by `ferry cluster add`, else the
// host's own when the cluster is the host.
func userConfig(ctx context.Context, h *host, name, kubeconfig, kubeContext string) (*rest.Config, error) {
	if kubeconfig != "" || kubeContext != "" {
		return userconfig.Load(kubeconfig, kubeContext)
	}
	return userconfig.ForCluster(ctx, h.cfg, h.c, h.namespace, name)
}

// credentials returns the user's credentials of a plan's clusters: the
// flags' kubeconfigs, else those of userConfig.
func (f credentialsFlags) credentials(h *host) ops.CredentialsFunc {
	return func(ctx context.Context, p *ferryv1.Plan) (ops.PlanCredentials, error) {
		var creds ops.PlanCredentials
		var err error
		if creds.Source, err = userConfig(ctx, h, p.Spec.SourceCluster, f.fromKubeconfig, f.fromContext); err != nil {
			return creds, err
		}
		if p.Spec.DestinationCluster != p.Spec.SourceCluster || f.toKubeconfig != "" || f.toContext != "" {
			if creds.Destination, err = userConfig(ctx, h, p.Spec.DestinationCluster, f.toKubeconfig, f.toContext); err != nil {
				return creds, err
			}
		}
		return creds, nil
	}
}

// grantPlan grants Ferry the plan's namespaces on its clusters with the
// user's credentials and says what it did; createNamespaces creates the
// destination namespaces that do not exist yet.
func grantPlan(ctx context.Context, out io.Writer, h *host, p *ferryv1.Plan, f credentialsFlags, createNamespaces bool) error {
	creds, err := f.credentials(h)(ctx, p)
	if err != nil {
		return err
	}
	granted, err := h.ops.GrantPlan(ctx, p, creds, createNamespaces)
	if err != nil {
		return fmt.Errorf("grant Ferry the namespaces of plan %s: %w", p.Name, err)
	}
	printGranted(out, granted)
	return nil
}

// printGranted says what grants did, cluster by cluster.
func printGranted(out io.Writer, granted ops.PlanGranted) {
	names := make([]string, 0, len(granted))
	for name := range granted {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		g := granted[name]
		for _, ns := range g.CreatedNamespaces {
			fmt.Fprintf(out, "namespace %s created on cluster %s\n", ns, name)
		}
		for _, b := range g.Bound {
			fmt.Fprintf(out, "Ferry granted namespace %s on cluster %s\n", b, name)
		}
	}
}
