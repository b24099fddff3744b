package direct

import (
	"net"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/internal/volumes"
)

// Paths inside the mover containers: DataDir is where the claim is
// mounted.
const (
	DataDir = "/data"
	tlsDir  = "/tls"
)

// Default resources of a mover container. The memory request is about a
// sync's working set (a sync of 70,000 files, one directory of 50,000,
// peaked at 150 MiB on the sender and 110 MiB on the receiver). The
// memory limit makes the mover set its soft memory limit (GOMEMLIMIT) to
// 768 MiB, three quarters of it, above the most an authenticated but
// hostile peer can make it hold: on the receiver, 17 connections (one
// control, 16 data) of a 16 MiB frame, its decoded strings and 8 MiB of
// decoded lists, about 700 MiB; on the sender, a 256 MiB destination
// listing besides the source's. No CPU limit is set, so that a LimitRange default applies
// when the namespace has one.
var (
	defaultCPURequest    = resource.MustParse("50m")
	defaultMemoryRequest = resource.MustParse("128Mi")
	defaultMemoryLimit   = resource.MustParse("1Gi")
)

// receiverArgs are the arguments of the receiver's ferry command: it
// accepts only a client certificate naming identity, its transfer's.
func receiverArgs(identity string) []string {
	return []string{"mover", "serve", "--listen", ":" + strconv.Itoa(MoverPort), "--root", DataDir, "--tls-dir", tlsDir, "--once",
		"--peer-name", identity}
}

// ConnectTimeout is how long a sender keeps dialing a receiver that is
// still starting or cannot be reached, before it fails.
const ConnectTimeout = 3 * time.Minute

// senderArgs are the arguments of the sender's ferry command: it accepts
// only a server certificate naming identity, its transfer's.
func senderArgs(addr, identity string, final bool) []string {
	args := []string{"mover", "sync", "--to", addr, "--root", DataDir, "--tls-dir", tlsDir, "--delete", "--progress=json",
		"--connect-timeout", ConnectTimeout.String(), "--peer-name", identity}
	if final {
		args = append(args, "--final")
	}
	return args
}

// receiverPod is a transfer's receiver on the destination.
func receiverPod(o Options, t volumes.Transfer, res corev1.ResourceRequirements) *corev1.Pod {
	p := moverPod(o.Image, receiverName(o.Migration, t), t.DestinationNamespace, t.DestinationClaim,
		serverSecretName(o.Migration, t), false, receiverArgs(transferIdentity(o.Migration, t)), res)
	p.Labels = podLabels(o.Migration, t, RoleReceiver)
	p.Annotations = map[string]string{AnnotationClaim: t.DestinationNamespace + "/" + t.DestinationClaim}
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
func senderPod(o Options, t volumes.Transfer, addr, nodeName string, res corev1.ResourceRequirements) *corev1.Pod {
	p := moverPod(o.Image, senderName(o.Migration, t), t.SourceNamespace, t.SourceClaim,
		clientSecretName(o.Migration, t), true, senderArgs(addr, transferIdentity(o.Migration, t), o.Final), res)
	p.Labels = podLabels(o.Migration, t, RoleSender)
	p.Annotations = map[string]string{AnnotationClaim: t.SourceNamespace + "/" + t.SourceClaim}
	p.Spec.NodeName = nodeName
	return p
}

// moverPod is what both mover pods share: a [ClaimPod] with the
// transfer's own TLS Secret at /tls (the only place its key appears).
func moverPod(image, name, namespace, claim, secret string, readOnly bool, args []string, res corev1.ResourceRequirements) *corev1.Pod {
	p := ClaimPod(image, name, namespace, claim, readOnly, args, res)
	c := &p.Spec.Containers[0]
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "tls", MountPath: tlsDir, ReadOnly: true})
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "tls",
		VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret, DefaultMode: ptr.To[int32](0o400)}}})
	return p
}

// ClaimPod is a pod of the ferry image running "ferry ARGS..." on a
// claim, as every mover pod does: root without privilege escalation
// (numeric owners are kept), no service account token, the claim at
// [DataDir] (read-only when readOnly), no restarts, the container's
// termination message its result file or else the tail of its log.
func ClaimPod(image, name, namespace, claim string, readOnly bool, args []string, res corev1.ResourceRequirements) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			AutomountServiceAccountToken:  ptr.To(false),
			EnableServiceLinks:            ptr.To(false),
			TerminationGracePeriodSeconds: ptr.To[int64](10),
			SecurityContext:               &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](0), RunAsGroup: ptr.To[int64](0)},
			Containers: []corev1.Container{{
				Name:  "mover",
				Image: image,
				Args:  args,
				SecurityContext: &corev1.SecurityContext{
					RunAsUser:                ptr.To[int64](0),
					AllowPrivilegeEscalation: ptr.To(false),
				},
				Resources:                res,
				TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
				VolumeMounts:             []corev1.VolumeMount{{Name: "data", MountPath: DataDir, ReadOnly: readOnly}},
			}},
			Volumes: []corev1.Volume{
				{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim, ReadOnly: readOnly}}},
			},
		},
	}
}

// receiverService exposes a transfer's receiver: a NodePort or
// LoadBalancer Service across clusters, a ClusterIP one within a cluster.
func receiverService(o Options, t volumes.Transfer) *corev1.Service {
	typ := corev1.ServiceTypeNodePort
	switch {
	case o.SameCluster:
		typ = corev1.ServiceTypeClusterIP
	case o.LoadBalancer:
		typ = corev1.ServiceTypeLoadBalancer
	}
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: serviceName(o.Migration, t), Namespace: t.DestinationNamespace,
			Labels: commonLabels(o.Migration),
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

// moverResources are the resources of a mover container in a namespace
// with the given LimitRanges: the defaults, fitted so that admission
// accepts them.
func moverResources(ranges []corev1.LimitRange) corev1.ResourceRequirements {
	req := moverRequests(ranges)
	limit := moverMemoryLimit(ranges, req[corev1.ResourceMemory])
	if limit.Cmp(req[corev1.ResourceMemory]) < 0 {
		req[corev1.ResourceMemory] = limit.DeepCopy()
	}
	return corev1.ResourceRequirements{Requests: req, Limits: corev1.ResourceList{corev1.ResourceMemory: limit}}
}

// moverRequests are the requests of a mover container in a namespace with
// the given LimitRanges: the defaults, lowered to a default or maximum
// limit and raised to a minimum so that admission accepts them.
func moverRequests(ranges []corev1.LimitRange) corev1.ResourceList {
	req := corev1.ResourceList{
		corev1.ResourceCPU:    defaultCPURequest.DeepCopy(),
		corev1.ResourceMemory: defaultMemoryRequest.DeepCopy(),
	}
	for _, item := range containerLimits(ranges) {
		for name, q := range req {
			if lim, ok := item.Max[name]; ok && lim.Cmp(q) < 0 {
				q = lim.DeepCopy()
			}
			if lim, ok := item.Default[name]; ok && item.Type == corev1.LimitTypeContainer && lim.Cmp(q) < 0 {
				q = lim.DeepCopy()
			}
			if lim, ok := item.Min[name]; ok && lim.Cmp(q) > 0 {
				q = lim.DeepCopy()
			}
			req[name] = q
		}
	}
	return req
}

// moverMemoryLimit is the default memory limit lowered to a maximum,
// raised to a minimum, and lowered so that a maximum ratio of limit to
// request holds.
func moverMemoryLimit(ranges []corev1.LimitRange, request resource.Quantity) resource.Quantity {
	limit := defaultMemoryLimit.DeepCopy()
	for _, item := range containerLimits(ranges) {
		if lim, ok := item.Max[corev1.ResourceMemory]; ok && lim.Cmp(limit) < 0 {
			limit = lim.DeepCopy()
		}
		if lim, ok := item.Min[corev1.ResourceMemory]; ok && lim.Cmp(limit) > 0 {
			limit = lim.DeepCopy()
		}
		if ratio, ok := item.MaxLimitRequestRatio[corev1.ResourceMemory]; ok && ratio.Value() > 0 {
			if most := request.Value() * ratio.Value(); most < limit.Value() {
				limit = *resource.NewQuantity(most, resource.BinarySI)
			}
		}
	}
	return limit
}

// containerLimits are the LimitRange items that constrain a container.
func containerLimits(ranges []corev1.LimitRange) []corev1.LimitRangeItem {
	var items []corev1.LimitRangeItem
	for _, lr := range ranges {
		for _, item := range lr.Spec.Limits {
			if item.Type == corev1.LimitTypeContainer || item.Type == corev1.LimitTypePod {
				items = append(items, item)
			}
		}
	}
	return items
}

// ClaimNode is the node of a running pod (not a mover) that mounts the
// claim, or "" when there is none; with several, the first by name.
func ClaimNode(pods []corev1.Pod, claim string) string {
	var names []string
	nodes := map[string]string{}
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil || p.Spec.NodeName == "" || isMoverPod(p.Labels) {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
				names = append(names, p.Name)
				nodes[p.Name] = p.Spec.NodeName
				break
			}
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	return nodes[names[0]]
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
// cluster, host:nodePort across clusters, or the load balancer's
// address and the mover port.
func senderAddress(o Options, t volumes.Transfer, host string, nodePort int32) string {
	switch {
	case o.SameCluster:
		return net.JoinHostPort(serviceHosts(o.Migration, t)[0], strconv.Itoa(MoverPort))
	case o.LoadBalancer:
		return net.JoinHostPort(host, strconv.Itoa(MoverPort))
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

// podReady tells whether a pod runs and passes its readiness probe.
func podReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
