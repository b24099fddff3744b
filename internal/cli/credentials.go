package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/ops"
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

// knownKubeconfig is the kubeconfig `ferry cluster add` registered a
// cluster with, as recorded on this machine (a path, never a secret).
type knownKubeconfig struct {
	Kubeconfig string `json:"kubeconfig"`
	Context    string `json:"context,omitempty"`
}

// knownKubeconfigsPath is where they are recorded: $FERRY_CONFIG_DIR, else
// the user's configuration folder, in ferry/kubeconfigs.json.
func knownKubeconfigsPath() (string, error) {
	dir := os.Getenv("FERRY_CONFIG_DIR")
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("find the configuration folder: %w", err)
		}
		dir = filepath.Join(base, "ferry")
	}
	return filepath.Join(dir, "kubeconfigs.json"), nil
}

// knownKey names a cluster of a Ferry installation.
func knownKey(h *host, cluster string) string {
	return h.cfg.Host + " " + h.namespace + " " + cluster
}

func readKnownKubeconfigs() (map[string]knownKubeconfig, error) {
	path, err := knownKubeconfigsPath()
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]knownKubeconfig{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	known := map[string]knownKubeconfig{}
	if err := json.Unmarshal(raw, &known); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return known, nil
}

// rememberKubeconfig records the kubeconfig a cluster was registered
// with, for the grants of later plans.
func rememberKubeconfig(h *host, cluster, kubeconfig, kubeContext string) error {
	if kubeconfig != "" {
		abs, err := filepath.Abs(kubeconfig)
		if err != nil {
			return fmt.Errorf("kubeconfig path %s: %w", kubeconfig, err)
		}
		kubeconfig = abs
	}
	known, err := readKnownKubeconfigs()
	if err != nil {
		return err
	}
	known[knownKey(h, cluster)] = knownKubeconfig{Kubeconfig: kubeconfig, Context: kubeContext}
	path, err := knownKubeconfigsPath()
	if err != nil {
		return err
	}
	raw, err := json.MarshalIndent(known, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	return os.Rename(tmp, path)
}

// userConfig returns the user's configuration of cluster name: the flag's
// kubeconfig, else the one recorded by `ferry cluster add`, else the
// host's own when the cluster is the host.
func userConfig(ctx context.Context, h *host, name, kubeconfig, kubeContext string) (*rest.Config, error) {
	if kubeconfig != "" || kubeContext != "" {
		return loadConfig(kubeconfig, kubeContext)
	}
	known, err := readKnownKubeconfigs()
	if err != nil {
		return nil, err
	}
	if k, ok := known[knownKey(h, name)]; ok {
		return loadConfig(k.Kubeconfig, k.Context)
	}
	var c ferryv1.Cluster
	if err := h.c.Get(ctx, client.ObjectKey{Namespace: h.namespace, Name: name}, &c); err == nil && c.Spec.IsHost {
		return h.cfg, nil
	}
	return nil, fmt.Errorf("no kubeconfig of yours for cluster %s on this machine: give it with --from-kubeconfig or --to-kubeconfig (it grants Ferry the plan's namespaces there)", name)
}

// grantPlan grants Ferry the plan's namespaces on its clusters with the
// user's credentials and says what it did; createNamespaces creates the
// destination namespaces that do not exist yet.
func grantPlan(ctx context.Context, out io.Writer, h *host, p *ferryv1.Plan, f credentialsFlags, createNamespaces bool) error {
	var creds ops.PlanCredentials
	var err error
	if creds.Source, err = userConfig(ctx, h, p.Spec.SourceCluster, f.fromKubeconfig, f.fromContext); err != nil {
		return err
	}
	if p.Spec.DestinationCluster != p.Spec.SourceCluster || f.toKubeconfig != "" || f.toContext != "" {
		if creds.Destination, err = userConfig(ctx, h, p.Spec.DestinationCluster, f.toKubeconfig, f.toContext); err != nil {
			return err
		}
	}
	granted, err := h.ops.GrantPlan(ctx, p, creds, createNamespaces)
	if err != nil {
		return fmt.Errorf("grant Ferry the namespaces of plan %s: %w", p.Name, err)
	}
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
	return nil
}
