// Package userconfig finds the user's own credentials of the clusters Ferry
// knows, on this machine: kubeconfig files loaded as kubectl does, and the
// record of which kubeconfig `ferry cluster add` registered each cluster
// with (paths only, never a secret). The CLI and the local web console
// (`ferry console`) both grant Ferry a plan's namespaces with them.
package userconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// DirEnv, when set, is the folder of the record instead of the user's
// configuration folder's ferry/.
const DirEnv = "FERRY_CONFIG_DIR"

// Load loads a kubeconfig as kubectl does: path, else $KUBECONFIG, else
// ~/.kube/config, at context (its current one when "").
func Load(path, context string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	return cfg, nil
}

// Known is the kubeconfig `ferry cluster add` registered a cluster with.
type Known struct {
	// Kubeconfig is the file's absolute path ("" for the default one).
	Kubeconfig string `json:"kubeconfig"`
	// Context in it ("" for its current one).
	Context string `json:"context,omitempty"`
}

// Config loads the kubeconfig k names.
func (k Known) Config() (*rest.Config, error) { return Load(k.Kubeconfig, k.Context) }

// Key names a cluster of one Ferry installation: the host's API URL,
// Ferry's namespace there and the Cluster's name.
func Key(hostURL, namespace, cluster string) string {
	return hostURL + " " + namespace + " " + cluster
}

// Path is where the record is kept: $FERRY_CONFIG_DIR, else the user's
// configuration folder, in ferry/kubeconfigs.json.
func Path() (string, error) {
	dir := os.Getenv(DirEnv)
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("find the configuration folder: %w", err)
		}
		dir = filepath.Join(base, "ferry")
	}
	return filepath.Join(dir, "kubeconfigs.json"), nil
}

// Read returns the record, by Key; empty when there is none yet.
func Read() (map[string]Known, error) {
	path, err := Path()
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Known{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	known := map[string]Known{}
	if err := json.Unmarshal(raw, &known); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return known, nil
}

// Lookup returns the kubeconfig recorded under key, if any.
func Lookup(key string) (Known, bool, error) {
	known, err := Read()
	if err != nil {
		return Known{}, false, err
	}
	k, ok := known[key]
	return k, ok, nil
}

// Remember records the kubeconfig a cluster was registered with (made
// absolute), for the grants of later plans.
func Remember(key, kubeconfig, kubeContext string) error {
	if kubeconfig != "" {
		abs, err := filepath.Abs(kubeconfig)
		if err != nil {
			return fmt.Errorf("kubeconfig path %s: %w", kubeconfig, err)
		}
		kubeconfig = abs
	}
	known, err := Read()
	if err != nil {
		return err
	}
	known[key] = Known{Kubeconfig: kubeconfig, Context: kubeContext}
	path, err := Path()
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

// ForCluster returns the user's configuration of the registered cluster
// name of the Ferry installation in namespace on the host that hostCfg
// and c reach: the kubeconfig `ferry cluster add` recorded on this
// machine, else hostCfg when the cluster is the host.
func ForCluster(ctx context.Context, hostCfg *rest.Config, c client.Reader, namespace, name string) (*rest.Config, error) {
	k, ok, err := Lookup(Key(hostCfg.Host, namespace, name))
	if err != nil {
		return nil, err
	}
	if ok {
		return k.Config()
	}
	var cl ferryv1.Cluster
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &cl); err == nil && cl.Spec.IsHost {
		return hostCfg, nil
	}
	return nil, fmt.Errorf("no kubeconfig of yours for cluster %s on this machine: give it with --from-kubeconfig or --to-kubeconfig (it grants Ferry the plan's namespaces there)", name)
}
