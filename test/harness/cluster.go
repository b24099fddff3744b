package harness

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/internal/cluster"
)

// mainModule is the module whose root holds .localclusters.
const mainModule = "ferry.dev/ferry"

// Cluster is one running local cluster of the test bed, as tests see it.
type Cluster struct {
	// Name is the cluster's name in the test bed, e.g. "src".
	Name string
	// Kubeconfig is the path of its admin kubeconfig.
	Kubeconfig string
	// Config is the REST configuration read from Kubeconfig.
	Config *rest.Config
	// Kube is the typed clientset.
	Kube kubernetes.Interface
	// Dynamic reads and writes any kind.
	Dynamic dynamic.Interface
	// Client is a controller-runtime client without a cache, with the
	// kinds of cluster.Scheme (Kubernetes, CRDs and Ferry's).
	Client client.Client
	// NodeIP is the address of the cluster's only node, where NodePorts
	// answer.
	NodeIP string
	// Registry is the host:port of the cluster's image registry.
	Registry string
	// Images maps an image's short name ("ferry", "tools", "sampleapp")
	// to its pinned reference in Registry.
	Images map[string]string
}

// Local loads the running cluster name; it fails the test with the make
// targets to run when the cluster or its images are not set up.
func Local(t testing.TB, name string) *Cluster {
	t.Helper()
	c, err := load(t, name)
	if err != nil {
		t.Fatalf("cluster %s is not set up (%v): run make clusters-up images", name, err)
	}
	return c
}

// LocalOrSkip is Local, but skips the test when the cluster or its
// images are not set up.
func LocalOrSkip(t testing.TB, name string) *Cluster {
	t.Helper()
	c, err := load(t, name)
	if err != nil {
		t.Skipf("cluster %s is not set up (%v): run make clusters-up images", name, err)
	}
	return c
}

// Dir is the folder where the test bed writes cluster name's files.
func Dir(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(RepoRoot(t), ".localclusters", name)
}

// Kubeconfig is the path of cluster name's admin kubeconfig, for
// commands run against it; it does not check that the cluster runs.
func Kubeconfig(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(Dir(t, name), "kubeconfig")
}

// RepoRoot is the root of the Ferry repository: the nearest folder, from
// the test's working directory up, whose go.mod is the main module's.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("find the repository root: %v", err)
	}
	for {
		if isMainModule(filepath.Join(dir, "go.mod")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("find the repository root: no go.mod of module %s above the working directory", mainModule)
		}
		dir = parent
	}
}

// isMainModule reports whether the go.mod at path declares mainModule.
func isMainModule(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if m, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`) == mainModule
		}
	}
	return false
}

// Image returns the pinned reference of the image with the short name
// name; it fails the test when `make images` did not push it.
func (c *Cluster) Image(t testing.TB, name string) string {
	t.Helper()
	ref, ok := c.Images[name]
	if !ok {
		t.Fatalf("no image %q pushed to %s: run make images", name, c.Name)
	}
	return ref
}

// Clients builds Ferry's own clients for the cluster, as the controller
// would for a registered Cluster, for tests that call Ferry's packages.
func (c *Cluster) Clients(t testing.TB) *cluster.Clients {
	t.Helper()
	cl, err := cluster.NewClients(c.Name, c.Config)
	if err != nil {
		t.Fatalf("clients for cluster %s: %v", c.Name, err)
	}
	return cl
}

// load reads cluster name's files and builds its clients. It returns an
// error only for missing files; a kubeconfig that cannot be used fails t.
func load(t testing.TB, name string) (*Cluster, error) {
	t.Helper()
	dir := Dir(t, name)
	files := map[string]string{}
	for _, f := range []string{"kubeconfig", "node-ip", "registry", "images"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		files[f] = strings.TrimSpace(string(b))
	}
	c := &Cluster{Name: name, Kubeconfig: filepath.Join(dir, "kubeconfig"), NodeIP: files["node-ip"],
		Registry: files["registry"], Images: parseImages(files["images"])}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		t.Fatalf("load kubeconfig of cluster %s: %v", name, err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	c.Config = cfg
	if c.Kube, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatalf("clientset for cluster %s: %v", name, err)
	}
	if c.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		t.Fatalf("dynamic client for cluster %s: %v", name, err)
	}
	if c.Client, err = client.New(cfg, client.Options{Scheme: cluster.Scheme()}); err != nil {
		t.Fatalf("client for cluster %s: %v", name, err)
	}
	return c, nil
}

// parseImages reads the images file: one name=reference per line.
func parseImages(s string) map[string]string {
	images := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok {
			images[k] = v
		}
	}
	return images
}
