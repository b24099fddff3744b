package bed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// PauseImage is the sandbox image, built locally and pushed by Up.
const PauseImage = "pause:3.10"

// writeConfigs renders every configuration file of the cluster. mirrors
// are the host:port of every registry the node may pull from over HTTP.
func (c *Cluster) writeConfigs(mirrors []string) error {
	files := map[string]string{
		"containerd/config.toml":     c.containerdConfig(mirrors),
		"cni/conf/10-ferry.conflist": c.cniConfig(),
		"kubelet/config.yaml":        c.kubeletConfig(),
		"coredns/Corefile":           c.corefile(),
		"registry/config.yml":        c.registryConfig(),
	}
	for name, content := range files {
		p := c.Path(name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("create folder for %s: %w", name, err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	kc, err := c.kubeconfig()
	if err != nil {
		return err
	}
	return os.WriteFile(c.Path("kubeconfig"), []byte(kc), 0o600)
}

func (c *Cluster) containerdConfig(mirrors []string) string {
	var m strings.Builder
	for _, r := range mirrors {
		fmt.Fprintf(&m, "\n[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.%q]\n  endpoint = [\"http://%s\"]\n", r, r)
	}
	return fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q

[grpc]
  address = %[3]q

[ttrpc]
  address = %[4]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[5]q
  restrict_oom_score_adj = true
  enable_selinux = false

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = %[6]q

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = %[7]q
%[8]s`, c.Path("containerd", "root"), c.Path("containerd", "state"), c.ContainerdSocket(),
		c.Path("containerd", "ttrpc.sock"), c.Registry()+"/"+PauseImage, c.Path("cni", "conf"),
		c.Path("containerd", "runc"), m.String())
}

func (c *Cluster) cniConfig() string {
	return fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "ferry",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": %q,
        "ranges": [[{"subnet": %q}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
`, c.Path("cni", "data"), c.PodCIDR())
}

func (c *Cluster) kubeletConfig() string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
cgroupRoot: %[1]s
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://%[2]s
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
healthzPort: 0
readOnlyPort: 0
enforceNodeAllocatable: []
localStorageCapacityIsolation: false
evictionHard: {}
resolvConf: ""
clusterDomain: cluster.local
clusterDNS: [%[3]q]
podLogsDir: %[4]q
serializeImagePulls: false
registerNode: true
address: %[3]q
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
`, c.CgroupRoot(), c.ContainerdSocket(), c.NodeIP(), c.Path("pod-logs"))
}

func (c *Cluster) corefile() string {
	return fmt.Sprintf(`.:53 {
    bind %[1]s
    errors
    health %[1]s:8080
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %[2]s %[3]s
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
`, c.NodeIP(), c.Path("kubeconfig"), c.Name)
}

func (c *Cluster) registryConfig() string {
	return fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
http:
  addr: %s
`, c.Path("registry", "data"), c.Registry())
}
