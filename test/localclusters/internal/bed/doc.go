// Package bed runs Ferry's local-cluster test bed: real single-node
// Kubernetes clusters on one Linux machine, without Docker.
//
// # Basics
//
// Each cluster has a control plane in the root network namespace (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, an image registry)
// and one node in its own network namespace (containerd, kubelet,
// kube-proxy and CoreDNS), joined to the root namespace by a veth pair.
// Cluster number N uses these addresses:
//
//	node namespace      ferry-<name>
//	veth                10.200.N.1/24 (root side) <-> 10.200.N.2/24 (node side)
//	pod CIDR            10.(87+N).0.0/16, routed in the root namespace via the node
//	service CIDR        10.(95+N).0.0/16
//	kube-apiserver      https://10.200.N.1:1644N
//	registry            10.200.N.1:5000 (plain HTTP)
//	DNS                 CoreDNS on 10.200.N.2:53
//
// # State
//
// Runtime state (data, logs, pid files, certificates) lives under one fixed
// folder, by default /var/lib/ferry-localclusters, never under a clone of
// the repository: a later run from another clone can always find and clean
// up what an interrupted run left behind. The user-facing files
// (kubeconfig, registry, node-ip, netns) are copied into the repository's
// .localclusters folder.
//
// # Faults
//
// StopComponent, StartComponent and RestartComponent stop and start one
// process of a running cluster, with the arguments Up gave it, for tests
// that break a cluster on purpose (an API server restarting). While a
// component is stopped the cluster counts as broken to Up.
//
// # Caveats
//
// The hostPath provisioner of kube-controller-manager always creates
// volumes under /tmp/hostpath_pv; the folder is shared by both clusters and
// removed when the last cluster goes down.
package bed
