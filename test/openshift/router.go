package openshift

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// Router plays OpenShift's router for the passthrough Routes of one
// namespace of a test bed cluster, as tests play a cloud's load balancer:
// it admits them under one host and forwards connections by the TLS
// server name (SNI) to a ready endpoint of the Route's Service, without
// terminating TLS.
type Router struct {
	// Host is the host it admits Routes under.
	Host    string
	kube    kubernetes.Interface
	dyn     dynamic.Interface
	ns      string
	ln      net.Listener
	mu      sync.Mutex
	served  int
	lastErr error
}

// StartRouter listens on addr's port 443 (an address of the test process
// that the other cluster's pods reach) for the Routes of namespace ns,
// and admits them under host. Close stops it.
func StartRouter(kube kubernetes.Interface, dyn dynamic.Interface, ns, addr, host string) (*Router, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, "443"))
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	r := &Router{Host: host, kube: kube, dyn: dyn, ns: ns, ln: ln}
	go r.serve()
	return r, nil
}

// PodRecordHost is a host name that a test bed cluster's DNS (CoreDNS's
// pod records in insecure mode) resolves to ip, under a namespace that
// exists on that cluster.
func PodRecordHost(ip, namespace string) string {
	return strings.ReplaceAll(ip, ".", "-") + "." + namespace + ".pod.cluster.local"
}

// Close stops the router.
func (r *Router) Close() error { return r.ln.Close() }

// Served returns the number of connections forwarded and the last
// forwarding error.
func (r *Router) Served() (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.served, r.lastErr
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

func (r *Router) serve() {
	for {
		conn, err := r.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			if err := r.forward(conn); err != nil {
				r.mu.Lock()
				r.lastErr = err
				r.mu.Unlock()
			}
		}()
	}
}

// forward reads the ClientHello's server name, finds the backend of the
// Route of that host and pipes the connection, ClientHello included, to
// it.
func (r *Router) forward(conn net.Conn) error {
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	sni, hello, err := readServerName(conn)
	if err != nil {
		return err
	}
	_ = conn.SetReadDeadline(time.Time{})
	backend, err := r.backend(context.Background(), sni)
	if err != nil {
		return err
	}
	up, err := net.DialTimeout("tcp", backend, 5*time.Second)
	if err != nil {
		return fmt.Errorf("dial %s for %s: %w", backend, sni, err)
	}
	defer up.Close()
	if _, err := up.Write(hello); err != nil {
		return err
	}
	r.mu.Lock()
	r.served++
	r.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, conn); done <- struct{}{} }()
	go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
	<-done
	return nil
}

// backend is a ready endpoint (pod IP and port; the test process reaches
// the pod network) of the Service of the Route whose host is sni.
func (r *Router) backend(ctx context.Context, sni string) (string, error) {
	l, err := r.dyn.Resource(Routes).Namespace(r.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, route := range l.Items {
		if h, _, _ := unstructured.NestedString(route.Object, "spec", "host"); h != sni {
			continue
		}
		svc, _, _ := unstructured.NestedString(route.Object, "spec", "to", "name")
		slices, err := r.kube.DiscoveryV1().EndpointSlices(r.ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
		if err != nil {
			return "", err
		}
		for _, s := range slices.Items {
			for _, ep := range s.Endpoints {
				if ep.Conditions.Ready != nil && *ep.Conditions.Ready && len(ep.Addresses) > 0 && len(s.Ports) > 0 && s.Ports[0].Port != nil {
					return net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(*s.Ports[0].Port))), nil
				}
			}
		}
		return "", fmt.Errorf("route %s: service %s has no ready endpoint", route.GetName(), svc)
	}
	return "", fmt.Errorf("no Route with host %q", sni)
}

// errHelloRead stops the handshake once the ClientHello is read.
var errHelloRead = errors.New("client hello read")

// readServerName reads a TLS ClientHello from conn and returns its server
// name and the bytes read, to be replayed to the backend.
func readServerName(conn net.Conn) (string, []byte, error) {
	var seen bytes.Buffer
	var sni string
	err := tls.Server(readOnly{io.TeeReader(conn, &seen)}, &tls.Config{
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			sni = h.ServerName
			return nil, errHelloRead
		},
	}).Handshake()
	if sni == "" {
		return "", nil, fmt.Errorf("no server name in the ClientHello: %v", err)
	}
	return sni, seen.Bytes(), nil
}

// readOnly is a net.Conn that only reads; writes (the handshake's alert)
// go nowhere.
type readOnly struct{ r io.Reader }

func (c readOnly) Read(p []byte) (int, error)     { return c.r.Read(p) }
func (readOnly) Write(p []byte) (int, error)      { return len(p), nil }
func (readOnly) Close() error                     { return nil }
func (readOnly) LocalAddr() net.Addr              { return nil }
func (readOnly) RemoteAddr() net.Addr             { return nil }
func (readOnly) SetDeadline(time.Time) error      { return nil }
func (readOnly) SetReadDeadline(time.Time) error  { return nil }
func (readOnly) SetWriteDeadline(time.Time) error { return nil }
