package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
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
	// ingressClass and ingressDomain go with moverSvc Ingress.
	ingressClass, ingressDomain string
	registry                    registryFlags
	// clusterScoped binds the optional role of cluster-scoped writes.
	clusterScoped bool
	tokenTTL      time.Duration
	// asUser stores the user's own token (a namespace admin's).
	asUser bool
}

// registryFlags are the flags of a cluster's image registry.
type registryFlags struct {
	address, internal, secret, caFile, credentialsFile string
	insecure                                           bool
}

func (f *registryFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.address, "registry", "", "the cluster's internal image registry, HOST[:PORT] as Ferry's controller reaches it; its images are copied to the destination's registry")
	fs.StringVar(&f.internal, "registry-internal", "", "the registry's HOST[:PORT] as pods reference it, when it differs from --registry (e.g. a Service name)")
	fs.BoolVar(&f.insecure, "registry-insecure", false, "the registry speaks plain HTTP, or its certificate is not verified")
	fs.StringVar(&f.caFile, "registry-ca", "", "PEM file of the CA that signs the registry's certificate")
	fs.StringVar(&f.secret, "registry-secret", "", "existing Secret in Ferry's namespace with the registry's credentials (keys username and password, or token)")
	fs.StringVar(&f.credentialsFile, "registry-credentials-file", "", "file of KEY=VALUE lines (username and password, or token) that Ferry stores in the Secret registry-NAME")
}

// spec returns the registry spec and the credentials to store.
func (f *registryFlags) spec() (*ferryv1.RegistrySpec, map[string][]byte, error) {
	if f.address == "" {
		if f.internal != "" || f.secret != "" || f.caFile != "" || f.credentialsFile != "" || f.insecure {
			return nil, nil, fmt.Errorf("the --registry-* flags need --registry HOST[:PORT]")
		}
		return nil, nil, nil
	}
	if f.secret != "" && f.credentialsFile != "" {
		return nil, nil, fmt.Errorf("give --registry-secret or --registry-credentials-file, not both")
	}
	spec := &ferryv1.RegistrySpec{Address: f.address, InternalAddress: f.internal, Insecure: f.insecure}
	if f.caFile != "" {
		ca, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, nil, fmt.Errorf("registry CA: %w", err)
		}
		spec.CABundle = ca
	}
	if f.secret != "" {
		spec.CredentialsSecretRef = &ferryv1.SecretReference{Name: f.secret}
	}
	if f.credentialsFile == "" {
		return spec, nil, nil
	}
	creds, err := readCredentials(f.credentialsFile)
	return spec, creds, err
}

// readCredentials reads KEY=VALUE lines; blank lines and # comments are
// skipped.
func readCredentials(path string) (map[string][]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("registry credentials: %w", err)
	}
	out := map[string][]byte{}
	for i, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("registry credentials %s line %d: want KEY=VALUE (username=, password= or token=)", path, i+1)
		}
		out[strings.TrimSpace(k)] = []byte(strings.TrimSpace(v))
	}
	return out, nil
}

func newClusterAddCommand() *cobra.Command {
	o := &clusterAddOptions{}
	cmd := &cobra.Command{
		Use:   "add NAME --kubeconfig FILE [--context CONTEXT]",
		Short: "Register a cluster: create Ferry's service account there and store its token on the host",
		Long: `Register a cluster with Ferry. On the cluster, Ferry creates a namespace
named as its own on the host (ferry-system), a service account bound
cluster-wide to ferry-reader (read what plans discover, Secrets excepted),
the ClusterRoles that plans grant in their namespaces (ferry-source-namespace,
ferry-destination-namespace; granted by ` + "`ferry plan create`" + ` with your
credentials), with --cluster-scoped-writes the optional ferry-cluster-writes
(CRDs, ClusterRoles, ClusterRoleBindings, SCCs, moved PVs), and a bound token
that expires after --token-ttl (the controller renews it at half of that).
On the host cluster (--host-kubeconfig, default the current context) it
stores the token in a Secret and creates the Cluster object. Every role and
rule: docs/rbac.md.`,
		Example: `  ferry cluster add src --kubeconfig .localclusters/src/kubeconfig
  ferry cluster add dst --kubeconfig .localclusters/dst/kubeconfig --role destination
  ferry cluster add dst --kubeconfig dst.yaml --cluster-scoped-writes --token-ttl 12h
  ferry cluster add cloud --kubeconfig cloud.yaml --mover-service LoadBalancer
  ferry cluster add edge --kubeconfig edge.yaml --mover-service Ingress \
      --mover-ingress-class nginx-passthrough --mover-ingress-domain movers.edge.example
  ferry cluster add ocp --kubeconfig ocp.yaml --registry registry.ocp.example:443 \
      --registry-internal image-registry.openshift-image-registry.svc:5000 \
      --registry-ca ca.pem --registry-credentials-file ocp-registry.env`,
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
	f.StringVar(&o.moverSvc, "mover-service", ferryv1.MoverServiceNodePort, "how data movers on other clusters reach this cluster's receivers: NodePort, LoadBalancer where nodes are not reachable, Route (OpenShift: a passthrough Route on the router's port 443) or Ingress (an Ingress with TLS passthrough on port 443; needs --mover-ingress-class and --mover-ingress-domain)")
	f.StringVar(&o.ingressClass, "mover-ingress-class", "", "with --mover-service Ingress: the ingress class of the receivers' Ingresses, one whose controller does TLS passthrough (ingress-nginx with --enable-ssl-passthrough, HAProxy)")
	f.StringVar(&o.ingressDomain, "mover-ingress-domain", "", "with --mover-service Ingress: the DNS domain of the receivers' hosts (<receiver>.DOMAIN), whose names resolve to the ingress controller from the other clusters' pods")
	o.registry.bind(f)
	f.BoolVar(&o.clusterScoped, "cluster-scoped-writes", false, "also grant Ferry's optional role ferry-cluster-writes: create and delete CRDs, ClusterRoles, ClusterRoleBindings, SCCs and the PVs of moved claims (plans that have such objects say so when they need it)")
	f.BoolVar(&o.asUser, "as-user", false, "store your own token of the kubeconfig instead of creating Ferry's service account: for a namespace admin, whose rights alone Ferry then uses on the cluster (no roles, no grants; cluster-scoped objects are left to an admin). Give --ferry-namespace your own namespace on the host")
	f.DurationVar(&o.tokenTTL, "token-ttl", cluster.DefaultTokenTTL, "lifetime of Ferry's token on the cluster (at least 10m); the controller renews it when half of it has passed")
	f.StringVar(&o.host.kubeconfig, "host-kubeconfig", "", "kubeconfig of the host cluster (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.host.context, "host-context", "", "context of the host cluster")
	f.StringVar(&o.host.namespace, "ferry-namespace", ops.Namespace(), "namespace of Ferry's objects on the host cluster (default from $FERRY_NAMESPACE, else ferry-system)")
	return cmd
}

// registration is what the flags ask for.
func (o *clusterAddOptions) registration() (ops.ClusterRegistration, error) {
	r := ops.ClusterRegistration{Name: o.name, Role: o.role, MoverService: o.moverSvc,
		MoverIngressClass: o.ingressClass, MoverIngressDomain: o.ingressDomain,
		ClusterScopedWrites: o.clusterScoped, TokenTTL: o.tokenTTL, AsUser: o.asUser}
	var err error
	r.Registry, r.RegistryCredentials, err = o.registry.spec()
	return r, err
}

func (o *clusterAddOptions) validate() error {
	r, err := o.registration()
	if err != nil {
		return err
	}
	return r.Validate()
}

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
	r, err := o.registration()
	if err != nil {
		return err
	}
	r.Config, r.IsHost = target, target.Host == h.cfg.Host
	tok, err := h.ops.PrepareCluster(ctx, r)
	if err != nil {
		return err
	}
	if !o.asUser {
		// A namespace admin may not install CRDs: an admin did (`ferry
		// install`, or a first `ferry cluster add`).
		if err := h.install(ctx); err != nil {
			return err
		}
	}
	reg, err := h.ops.StoreCluster(ctx, r, tok)
	if err != nil {
		return err
	}
	if err := rememberKubeconfig(h, o.name, o.kubeconfig, o.context); err != nil {
		return err
	}
	if o.asUser {
		fmt.Fprintf(out, "cluster %s registered (%s) with your own token: Ferry does there only what you may do\n", o.name, target.Host)
	} else {
		fmt.Fprintf(out, "cluster %s registered (%s), token expires %s\n", o.name, target.Host, tok.Expires.UTC().Format(time.RFC3339))
	}
	if err := report(out, o.name, reg); err != nil {
		return err
	}
	return reportRegistry(out, o.name, r.Registry, reg)
}

// reportRegistry prints the RegistryReady condition the check found.
func reportRegistry(out io.Writer, name string, spec *ferryv1.RegistrySpec, reg *ops.ClusterRegistered) error {
	if spec == nil {
		return nil
	}
	if p := reg.RegistryProblem; p != nil {
		fmt.Fprintf(out, "RegistryReady: False (%s): %s\n", p.Reason, p.Message)
		return fmt.Errorf("the registry of cluster %s is not ready: %s", name, p.Reason)
	}
	fmt.Fprintf(out, "RegistryReady: True, registry %s\n", spec.Address)
	return nil
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
