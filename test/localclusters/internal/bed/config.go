package bed

import (
	"fmt"
	"os"
	"path/filepath"
)

// Cluster describes one local cluster: its name, its number (which fixes
// all its addresses and ports) and where its files live.
type Cluster struct {
	// Name is the cluster's name, e.g. "src".
	Name string
	// Index is the cluster's number, 1 to 9.
	Index int
	// StateDir is the cluster's runtime folder.
	StateDir string
}

// Env holds the machine-wide settings of the test bed.
type Env struct {
	// StateRoot is the folder holding every cluster's runtime state.
	StateRoot string
	// CacheDir holds built binaries kept between runs.
	CacheDir string
	// OutDir is the repository's .localclusters folder.
	OutDir string
	// Clusters are the clusters of the test bed.
	Clusters []*Cluster
}

// DefaultClusters are the two clusters the test bed starts.
var DefaultClusters = []string{"src", "dst"}

// NewEnv builds the settings from the environment: FERRY_LOCALCLUSTERS_STATE
// overrides the state folder and FERRY_CACHE the cache folder.
func NewEnv(outDir string, names []string) (*Env, error) {
	state := os.Getenv("FERRY_LOCALCLUSTERS_STATE")
	if state == "" {
		state = "/var/lib/ferry-localclusters"
	}
	cache := os.Getenv("FERRY_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("find home folder for the cache: %w", err)
		}
		cache = filepath.Join(home, ".cache", "ferry")
	}
	out, err := filepath.Abs(outDir)
	if err != nil {
		return nil, fmt.Errorf("resolve output folder %q: %w", outDir, err)
	}
	e := &Env{StateRoot: state, CacheDir: cache, OutDir: out}
	for i, n := range names {
		e.Clusters = append(e.Clusters, &Cluster{Name: n, Index: i + 1, StateDir: filepath.Join(state, n)})
	}
	if len(e.Clusters) > 9 {
		return nil, fmt.Errorf("at most 9 clusters are supported, got %d", len(e.Clusters))
	}
	return e, nil
}

// NetNS is the name of the node's network namespace.
func (c *Cluster) NetNS() string { return "ferry-" + c.Name }

// HostVeth is the root-namespace end of the node's veth pair.
func (c *Cluster) HostVeth() string { return "ferry-" + c.Name + "-h" }

// HostIP is the root-namespace address of the veth pair; the control plane
// and the registry listen on it.
func (c *Cluster) HostIP() string { return fmt.Sprintf("10.200.%d.1", c.Index) }

// NodeIP is the node's address inside its namespace.
func (c *Cluster) NodeIP() string { return fmt.Sprintf("10.200.%d.2", c.Index) }

// NodeName is the name the kubelet registers.
func (c *Cluster) NodeName() string { return c.Name + "-node" }

// PodCIDR is the range pods of this cluster get addresses from.
func (c *Cluster) PodCIDR() string { return fmt.Sprintf("10.%d.0.0/16", 87+c.Index) }

// ServiceCIDR is the range of ClusterIPs.
func (c *Cluster) ServiceCIDR() string { return fmt.Sprintf("10.%d.0.0/16", 95+c.Index) }

// APIServiceIP is the ClusterIP of the `kubernetes` Service.
func (c *Cluster) APIServiceIP() string { return fmt.Sprintf("10.%d.0.1", 95+c.Index) }

// APIPort is kube-apiserver's secure port.
func (c *Cluster) APIPort() int { return 16440 + c.Index }

// APIServer is the URL of kube-apiserver.
func (c *Cluster) APIServer() string { return fmt.Sprintf("https://%s:%d", c.HostIP(), c.APIPort()) }

// EtcdClientURL is where etcd serves clients.
func (c *Cluster) EtcdClientURL() string { return fmt.Sprintf("http://127.0.0.1:%d", 23790+c.Index) }

// EtcdPeerURL is etcd's peer URL.
func (c *Cluster) EtcdPeerURL() string { return fmt.Sprintf("http://127.0.0.1:%d", 23800+c.Index) }

// Registry is host:port of the cluster's internal image registry.
func (c *Cluster) Registry() string { return c.HostIP() + ":5000" }

// CgroupRoot is the kubelet's cgroup root, distinct per cluster.
func (c *Cluster) CgroupRoot() string { return "/ferry-" + c.Name }

// Path joins elements under the cluster's state folder.
func (c *Cluster) Path(elem ...string) string {
	return filepath.Join(append([]string{c.StateDir}, elem...)...)
}

// ContainerdSocket is the path of the node's containerd socket.
func (c *Cluster) ContainerdSocket() string { return c.Path("containerd", "containerd.sock") }

// Cluster returns the cluster named name.
func (e *Env) Cluster(name string) (*Cluster, error) {
	for _, c := range e.Clusters {
		if c.Name == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no cluster named %q", name)
}

// K8sBinDir is where the Kubernetes components are cached.
func (e *Env) K8sBinDir() string { return filepath.Join(e.CacheDir, "k8s-"+KubernetesVersion) }

// CoreDNSBin is the cached CoreDNS binary.
func (e *Env) CoreDNSBin() string {
	return filepath.Join(e.CacheDir, "coredns-"+CoreDNSVersion, "coredns")
}

// Bin returns the path of a cached Kubernetes component.
func (e *Env) Bin(name string) string { return filepath.Join(e.K8sBinDir(), name) }
