package direct

import (
	"net"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// tlsDir is where the direct path's mover pods mount their transfer's
// TLS Secret; the claim is at moverpod.DataDir.
const tlsDir = "/tls"

// receiverArgs are the arguments of the receiver's ferry command: it
// accepts only a client certificate naming identity, its transfer's.
func receiverArgs(identity string) []string {
	return []string{"mover", "serve", "--listen", ":" + strconv.Itoa(MoverPort), "--root", moverpod.DataDir, "--tls-dir", tlsDir, "--once",
		"--peer-name", identity}
}

// ConnectTimeout is how long a sender keeps dialing a receiver that is
// still starting or cannot be reached, before it fails.
const ConnectTimeout = 3 * time.Minute

// senderArgs are the arguments of the sender's ferry command: it accepts
// only a server certificate naming identity, its transfer's, and valid
// for serverName when given (else for the host of addr); with verify it
// compares every file's checksum once the sync is done.
func senderArgs(addr, serverName, identity string, final, verify bool) []string {
	args := []string{"mover", "sync", "--to", addr, "--root", moverpod.DataDir, "--tls-dir", tlsDir, "--delete", "--progress=json",
		"--connect-timeout", ConnectTimeout.String(), "--peer-name", identity}
	if serverName != "" {
		args = append(args, "--server-name", serverName)
	}
	if final {
		args = append(args, "--final")
	}
	if verify {
		args = append(args, "--verify")
	}
	return args
}

// receiverPod is a transfer's receiver on the destination.
func receiverPod(o Options, t volumes.Transfer, env moverpod.Env) *corev1.Pod {
	p := moverPod(o.Image, receiverName(o.Migration, t), t.DestinationNamespace, t.DestinationClaim,
		serverSecretName(o.Migration, t), false, receiverArgs(transferIdentity(o.Migration, t)), env)
	p.Labels = moverpod.PodLabels(o.Migration, t, moverpod.RoleReceiver)
	p.Annotations = map[string]string{moverpod.AnnotationClaim: t.DestinationNamespace + "/" + t.DestinationClaim}
	c := &p.Spec.Containers[0]
	c.Ports = []corev1.ContainerPort{{Name: "mover", ContainerPort: MoverPort, Protocol: corev1.ProtocolTCP}}
	// A TCP connection that never says hello is rejected by the server
	// without ending its one session; one closed before it sent a byte,
	// as this probe's, is logged at debug level only, so the receiver's
	// log shows no warning per probe. The data port stays TLS-only.
	c.ReadinessProbe = &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(MoverPort)}},
		PeriodSeconds:    1,
		FailureThreshold: 3,
	}
	return p
}

// senderPod is a transfer's sender on the source, dialing addr, pinned to
// nodeName when it is set.
func senderPod(o Options, t volumes.Transfer, addr, serverName, nodeName string, env moverpod.Env) *corev1.Pod {
	p := moverPod(o.Image, senderName(o.Migration, t), t.SourceNamespace, t.SourceClaim,
		clientSecretName(o.Migration, t), true, senderArgs(addr, serverName, transferIdentity(o.Migration, t), o.Final, t.Verify), env)
	p.Labels = moverpod.PodLabels(o.Migration, t, moverpod.RoleSender)
	p.Annotations = map[string]string{moverpod.AnnotationClaim: t.SourceNamespace + "/" + t.SourceClaim}
	p.Spec.NodeName = nodeName
	if o.Hold {
		holdSender(p)
	}
	return p
}

// moverPod is a mover pod of the direct path: the claim at /data, the
// transfer's own TLS Secret at /tls (the only place its key appears).
func moverPod(image, name, namespace, claim, secret string, readOnly bool, args []string, env moverpod.Env) *corev1.Pod {
	return moverpod.Pod(image, name, namespace, args, env,
		moverpod.Mount{Name: "data", Path: moverpod.DataDir, Claim: claim, ReadOnly: readOnly},
		moverpod.Mount{Name: "tls", Path: tlsDir, Secret: secret})
}

// receiverService exposes a transfer's receiver: a NodePort or
// LoadBalancer Service across clusters, a ClusterIP one within a cluster
// or behind a front.
func receiverService(o Options, t volumes.Transfer) *corev1.Service {
	typ := corev1.ServiceTypeNodePort
	switch {
	case o.SameCluster:
		typ = corev1.ServiceTypeClusterIP
	case o.LoadBalancer:
		typ = corev1.ServiceTypeLoadBalancer
	case o.Front != nil:
		typ = corev1.ServiceTypeClusterIP
	}
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: serviceName(o.Migration, t), Namespace: t.DestinationNamespace,
			Labels: moverpod.CommonLabels(o.Migration),
		},
		Spec: corev1.ServiceSpec{
			Type:     typ,
			Selector: receiverSelector(o.Migration, t),
			Ports: []corev1.ServicePort{{
				Name: "mover", Port: MoverPort, TargetPort: intstr.FromInt32(MoverPort), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}

// nodeIPs returns the InternalIPs of all nodes and of the ready ones.
func nodeIPs(nodes []corev1.Node) (all, ready []string) {
	for _, n := range nodes {
		isReady := false
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				isReady = true
			}
		}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && a.Address != "" {
				all = append(all, a.Address)
				if isReady {
					ready = append(ready, a.Address)
				}
			}
		}
	}
	return all, ready
}

// receiverHost picks the destination node IP the sender dials: the
// receiver's own node when the server certificate names it (no extra
// hop), else a ready node the certificate names. It returns "" when
// there is none.
func receiverHost(hostIP string, certIPs, readyIPs []string) string {
	if hostIP != "" && slices.Contains(certIPs, hostIP) {
		return hostIP
	}
	for _, ip := range readyIPs {
		if slices.Contains(certIPs, ip) {
			return ip
		}
	}
	return ""
}

// senderAddress is what the sender dials: the Service DNS name within a
// cluster, host:nodePort across clusters, the load balancer's address
// and the mover port, or the front's host and FrontPort.
func senderAddress(o Options, t volumes.Transfer, host string, nodePort int32) string {
	switch {
	case o.SameCluster:
		return net.JoinHostPort(serviceHosts(o.Migration, t)[0], strconv.Itoa(MoverPort))
	case o.LoadBalancer:
		return net.JoinHostPort(host, strconv.Itoa(MoverPort))
	case o.Front != nil:
		return net.JoinHostPort(host, strconv.Itoa(FrontPort))
	}
	return net.JoinHostPort(host, strconv.Itoa(int(nodePort)))
}

// loadBalancerAddress is the first address of a LoadBalancer Service, an
// IP or a host name, or "" before the load balancer is provisioned.
func loadBalancerAddress(svc *corev1.Service) string {
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			return in.IP
		}
		if in.Hostname != "" {
			return in.Hostname
		}
	}
	return ""
}
