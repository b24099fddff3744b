package direct

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// Prepare ensures the Services of type LoadBalancer (their addresses go
// into the transfers' server certificates), lists the destination nodes for node
// ports, and ensures the certificates of all transfers. The direct path
// is always ready once this succeeded; a load balancer still without an
// address holds only its own transfer back, in Start.
func (p *Path) Prepare(ctx context.Context, transfers []volumes.Transfer) (volumes.Readiness, error) {
	if p.o.Image == "" {
		return volumes.Readiness{}, errors.New("direct path: the mover image is required")
	}
	var allIPs, readyIPs []string
	lbs, err := p.loadBalancers(ctx, transfers)
	if err != nil {
		return volumes.Readiness{}, err
	}
	fronted, err := p.ensureFronts(ctx, transfers)
	if err != nil {
		return volumes.Readiness{}, err
	}
	hosts := map[volumes.Transfer][]string{}
	for _, t := range transfers {
		hosts[t] = serviceHosts(p.o.Migration, t)
		if svc := lbs[t]; svc != nil && loadBalancerAddress(svc) != "" {
			hosts[t] = appendUnique(hosts[t], loadBalancerAddress(svc))
		}
		if h := fronted[t]; h != "" {
			hosts[t] = appendUnique(hosts[t], h)
		}
	}
	if p.useNodePorts() {
		nodes, err := p.o.Destination.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		switch {
		case apierrors.IsForbidden(err) && p.o.Destination.AsUser:
			p.atReceiverNode = true
		case err != nil:
			return volumes.Readiness{}, fmt.Errorf("list nodes of cluster %s: %w", p.o.Destination.Name, err)
		default:
			allIPs, readyIPs = nodeIPs(nodes.Items)
			if len(allIPs) == 0 {
				return volumes.Readiness{}, fmt.Errorf("cluster %s has no node with an InternalIP address", p.o.Destination.Name)
			}
		}
	}
	tls, err := ensureCerts(ctx, p.o, transfers, hosts, allIPs, readyIPs)
	if err != nil {
		return volumes.Readiness{}, err
	}
	p.prepared, p.tls, p.readyIPs, p.lbs, p.hosts = true, tls, readyIPs, lbs, fronted
	return volumes.Readiness{Ready: true}, nil
}

// loadBalancers ensures the transfers' Services when they are of type
// LoadBalancer and returns them by transfer; the certificate must name
// their addresses before any receiver starts.
func (p *Path) loadBalancers(ctx context.Context, transfers []volumes.Transfer) (map[volumes.Transfer]*corev1.Service, error) {
	out := map[volumes.Transfer]*corev1.Service{}
	if !p.useLoadBalancer() {
		return out, nil
	}
	for _, t := range transfers {
		svc, err := ensureService(ctx, p.o, t)
		if err != nil {
			return nil, err
		}
		out[t] = svc
	}
	return out, nil
}

func (p *Path) useLoadBalancer() bool { return p.o.LoadBalancer && !p.o.SameCluster }

// useNodePorts: across clusters, neither behind load balancers nor a
// front.
func (p *Path) useNodePorts() bool { return !p.o.SameCluster && !p.o.LoadBalancer && p.o.Front == nil }

// Start creates what a transfer misses: its Service, its receiver and
// its sender, all at once. The sender retries its connection until the
// receiver answers (for up to ConnectTimeout), so nobody waits for the
// receiver's readiness first. Prepare must have run in the same pass.
func (p *Path) Start(ctx context.Context, t volumes.Transfer) (string, error) {
	if !p.prepared {
		return "", errors.New("direct path: Start before Prepare")
	}
	s, rc, err := p.pods(ctx, t)
	if err != nil {
		return "", err
	}
	if s != nil && rc != nil {
		if !p.o.Hold && held(s) && s.Status.Phase == corev1.PodRunning {
			return p.release(ctx, s)
		}
		return "", nil
	}
	if p.tls.renewed && s == nil && rc != nil {
		// The receiver loaded the certificates that were replaced.
		return "restarting the receiver with new certificates", deletePods(ctx, p.o, s, rc)
	}
	svc := p.lbs[t]
	if p.useLoadBalancer() && loadBalancerAddress(svc) == "" {
		return fmt.Sprintf("waiting for the load balancer of service %s/%s to get an address",
			t.DestinationNamespace, serviceName(p.o.Migration, t)), nil
	}
	if p.useFront() && p.hosts[t] == "" {
		return fmt.Sprintf("waiting for the router to admit %s %s/%s and give it a host",
			p.o.Front.kind(), t.DestinationNamespace, serviceName(p.o.Migration, t)), nil
	}
	if svc == nil {
		if svc, err = ensureService(ctx, p.o, t); err != nil {
			return "", err
		}
	}
	msg := ""
	if rc == nil {
		pod := receiverPod(p.o, t, moverpod.NamespaceEnv(ctx, p.o.Destination.Kube, t.DestinationNamespace).WithRunAs(t.RunAs))
		if err := moverpod.CreatePod(ctx, p.o.Destination.Kube, pod); err != nil {
			return "", err
		}
		msg = "starting the receiver"
	}
	if s != nil {
		return msg, nil
	}
	return p.startSender(ctx, t, rc, svc)
}

// startSender creates a transfer's sender, dialing the receiver behind
// svc, once there is an address to dial.
func (p *Path) startSender(ctx context.Context, t volumes.Transfer, rc *corev1.Pod, svc *corev1.Service) (string, error) {
	host, nodePort := loadBalancerAddress(svc), int32(0)
	if p.useFront() {
		host = p.hosts[t]
	}
	serverName := ""
	if p.useNodePorts() {
		hostIP := ""
		if rc != nil {
			hostIP = rc.Status.HostIP
		}
		host = receiverHost(hostIP, p.tls.certIPs, p.readyIPs)
		if p.atReceiverNode {
			host, serverName = hostIP, serviceHosts(p.o.Migration, t)[0]
		}
		if len(svc.Spec.Ports) > 0 {
			nodePort = svc.Spec.Ports[0].NodePort
		}
		if host == "" || nodePort == 0 {
			return "waiting for a ready destination node and a node port", nil
		}
	}
	pods, err := p.o.Source.Kube.CoreV1().Pods(t.SourceNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("list pods in %s: %w", t.SourceNamespace, err)
	}
	pod := senderPod(p.o, t, senderAddress(p.o, t, host, nodePort), serverName, moverpod.ClaimNode(pods.Items, t.SourceClaim),
		moverpod.NamespaceEnv(ctx, p.o.Source.Kube, t.SourceNamespace).WithRunAs(t.RunAs))
	if err := moverpod.CreatePod(ctx, p.o.Source.Kube, pod); err != nil {
		return "", err
	}
	return "starting the movers", nil
}

func ensureService(ctx context.Context, o Options, t volumes.Transfer) (*corev1.Service, error) {
	want := receiverService(o, t)
	svcs := o.Destination.Kube.CoreV1().Services(want.Namespace)
	svc, err := svcs.Get(ctx, want.Name, metav1.GetOptions{})
	if err == nil {
		return svc, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("get service %s/%s: %w", want.Namespace, want.Name, err)
	}
	svc, err = svcs.Create(ctx, want, metav1.CreateOptions{FieldManager: fieldManager})
	if err != nil {
		return nil, fmt.Errorf("create service %s/%s: %w", want.Namespace, want.Name, err)
	}
	return svc, nil
}
