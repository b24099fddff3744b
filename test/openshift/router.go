package openshift

import (
	"context"
	"fmt"
	"net"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/test/sniproxy"
)

// Router plays OpenShift's router for the passthrough Routes of one
// namespace of a test bed cluster, as tests play a cloud's load balancer:
// it admits them under one host and forwards connections by the TLS
// server name (SNI) to a ready endpoint of the Route's Service, without
// terminating TLS (a sniproxy.Proxy).
type Router struct {
	*sniproxy.Proxy
	// Host is the host it admits Routes under.
	Host string
	dyn  dynamic.Interface
	ns   string
}

// StartRouter listens on addr's port 443 (an address of the test process
// that the other cluster's pods reach) for the Routes of namespace ns,
// and admits them under host. Close stops it.
func StartRouter(kube kubernetes.Interface, dyn dynamic.Interface, ns, addr, host string) (*Router, error) {
	r := &Router{Host: host, dyn: dyn, ns: ns}
	p, err := sniproxy.Start(kube, net.JoinHostPort(addr, "443"), r.backend)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	r.Proxy = p
	return r, nil
}

// Admit gives the passthrough Routes of the namespace without a host the
// router's host, as OpenShift's API server generates one. Other Routes
// (an application's) are left alone.
func (r *Router) Admit(ctx context.Context) error {
	ri := r.dyn.Resource(Routes).Namespace(r.ns)
	l, err := ri.List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range l.Items {
		route := &l.Items[i]
		if h, _, _ := unstructured.NestedString(route.Object, "spec", "host"); h != "" {
			continue
		}
		if term, _, _ := unstructured.NestedString(route.Object, "spec", "tls", "termination"); term != "passthrough" {
			continue
		}
		_ = unstructured.SetNestedField(route.Object, r.Host, "spec", "host")
		if _, err := ri.Update(ctx, route, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// backend is the Service of the Route whose host is sni.
func (r *Router) backend(ctx context.Context, sni string) (sniproxy.Backend, error) {
	l, err := r.dyn.Resource(Routes).Namespace(r.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return sniproxy.Backend{}, err
	}
	for _, route := range l.Items {
		if h, _, _ := unstructured.NestedString(route.Object, "spec", "host"); h != sni {
			continue
		}
		svc, _, _ := unstructured.NestedString(route.Object, "spec", "to", "name")
		return sniproxy.Backend{Namespace: r.ns, Service: svc}, nil
	}
	return sniproxy.Backend{}, fmt.Errorf("no Route with host %q", sni)
}
