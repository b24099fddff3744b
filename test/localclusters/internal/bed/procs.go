package bed

import (
	"strconv"
)

// Process names, in start order. Down stops them in reverse.
const (
	procRegistry   = "registry"
	procEtcd       = "etcd"
	procAPIServer  = "kube-apiserver"
	procContainerd = "containerd"
	procKCM        = "kube-controller-manager"
	procScheduler  = "kube-scheduler"
	procKubelet    = "kubelet"
	procKubeProxy  = "kube-proxy"
	procCoreDNS    = "coredns"
)

// allProcs lists every process of a cluster in start order.
var allProcs = []string{procRegistry, procEtcd, procAPIServer, procContainerd, procKCM, procScheduler, procKubelet, procKubeProxy, procCoreDNS}

func (e *Env) registryProc(c *Cluster) proc {
	return proc{name: procRegistry, argv: []string{"docker-registry", "serve", c.Path("registry", "config.yml")}}
}

func (e *Env) etcdProc(c *Cluster) proc {
	return proc{name: procEtcd, argv: []string{"etcd",
		"--name=" + c.Name,
		"--data-dir=" + c.Path("etcd"),
		"--listen-client-urls=" + c.EtcdClientURL(),
		"--advertise-client-urls=" + c.EtcdClientURL(),
		"--listen-peer-urls=" + c.EtcdPeerURL(),
		"--initial-advertise-peer-urls=" + c.EtcdPeerURL(),
		"--initial-cluster=" + c.Name + "=" + c.EtcdPeerURL(),
		"--log-level=warn",
	}}
}

func (e *Env) apiServerProc(c *Cluster) proc {
	p := c.pki()
	return proc{name: procAPIServer, argv: []string{e.Bin("kube-apiserver"),
		"--etcd-servers=" + c.EtcdClientURL(),
		"--secure-port=" + strconv.Itoa(c.APIPort()),
		"--bind-address=" + c.HostIP(),
		"--advertise-address=" + c.HostIP(),
		"--tls-cert-file=" + p.path("apiserver.crt"),
		"--tls-private-key-file=" + p.path("apiserver.key"),
		"--client-ca-file=" + p.path("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + p.path("sa.pub"),
		"--service-account-signing-key-file=" + p.path("sa.key"),
		"--token-auth-file=" + p.path("tokens.csv"),
		"--authorization-mode=Node,RBAC",
		"--service-cluster-ip-range=" + c.ServiceCIDR(),
		"--service-node-port-range=30000-32767",
		"--kubelet-preferred-address-types=InternalIP",
		"--allow-privileged=true",
		"--profiling=false",
		"--v=0",
	}}
}

func (e *Env) containerdProc(c *Cluster) proc {
	return proc{name: procContainerd, inNode: true, argv: []string{"containerd", "--config", c.Path("containerd", "config.toml")}}
}

func (e *Env) kcmProc(c *Cluster) proc {
	p := c.pki()
	return proc{name: procKCM, argv: []string{e.Bin("kube-controller-manager"),
		"--kubeconfig=" + c.Path("kubeconfig"),
		"--leader-elect=false",
		"--service-account-private-key-file=" + p.path("sa.key"),
		"--root-ca-file=" + p.path("ca.crt"),
		"--enable-hostpath-provisioner",
		"--secure-port=0",
		"--cluster-cidr=" + c.PodCIDR(),
		"--service-cluster-ip-range=" + c.ServiceCIDR(),
		"--concurrent-gc-syncs=20",
		"--kube-api-qps=200",
		"--kube-api-burst=400",
	}}
}

func (e *Env) schedulerProc(c *Cluster) proc {
	return proc{name: procScheduler, argv: []string{e.Bin("kube-scheduler"),
		"--kubeconfig=" + c.Path("kubeconfig"),
		"--leader-elect=false",
		"--secure-port=0",
	}}
}

func (e *Env) kubeletProc(c *Cluster) proc {
	return proc{name: procKubelet, inNode: true, argv: []string{e.Bin("kubelet"),
		"--config=" + c.Path("kubelet", "config.yaml"),
		"--kubeconfig=" + c.Path("kubeconfig"),
		"--root-dir=" + c.Path("kubelet", "root"),
		"--hostname-override=" + c.NodeName(),
		"--node-ip=" + c.NodeIP(),
	}}
}

func (e *Env) kubeProxyProc(c *Cluster) proc {
	return proc{name: procKubeProxy, inNode: true, argv: []string{e.Bin("kube-proxy"),
		"--kubeconfig=" + c.Path("kubeconfig"),
		"--hostname-override=" + c.NodeName(),
		"--cluster-cidr=" + c.PodCIDR(),
		"--conntrack-max-per-core=0",
		"--metrics-bind-address=127.0.0.1:10249",
	}}
}

func (e *Env) coreDNSProc(c *Cluster) proc {
	return proc{name: procCoreDNS, inNode: true, argv: []string{e.CoreDNSBin(), "-conf", c.Path("coredns", "Corefile")}}
}
