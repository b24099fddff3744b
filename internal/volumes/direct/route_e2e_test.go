//go:build e2e

package direct

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/test/harness"
	"ferry.dev/ferry/test/openshift"
)

// TestCopyThroughRouteE2E exposes the receiver through an OpenShift
// passthrough Route (the test bed's Route CRD, installed on the
// destination and left there). No OpenShift router runs, so the test
// plays one, as the LoadBalancer test plays the cloud controller: it
// admits the Route under a host that the source cluster's DNS resolves
// to the destination side's address (CoreDNS's pod records,
// A-B-C-D.<namespace>.pod.cluster.local), listens there on 443, reads
// the server name of each TLS ClientHello without terminating TLS, and
// forwards the connection to a ready endpoint of the Service of the
// Route with that host.
func TestCopyThroughRouteE2E(t *testing.T) {
	src, dst := harness.LocalOrSkip(t, "src"), harness.LocalOrSkip(t, "dst")
	if err := openshift.Install(context.Background(), dst.Dynamic); err != nil {
		t.Fatal(err)
	}
	copyAndCheck(t, src, dst, exposeRoute)
}

// routerAddress is the destination side's address that source pods
// reach: the root-namespace end of its node's link, where its API
// server listens.
func routerAddress(t *testing.T, c *harness.Cluster) string {
	t.Helper()
	u, err := url.Parse(c.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname()
}

// router plays OpenShift's router for the Routes of one namespace.
type router struct {
	t       *testing.T
	c       *harness.Cluster
	ns      string
	host    string // the host it admits Routes under
	ln      net.Listener
	mu      sync.Mutex
	served  int
	lastErr error
}

// startRouter listens on the router address's port 443 and admits the
// Routes of ns under a host in srcNS's pod records.
func startRouter(t *testing.T, c *harness.Cluster, ns, srcNS string) *router {
	t.Helper()
	ip := routerAddress(t, c)
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(RouterPort)))
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	r := &router{t: t, c: c, ns: ns, ln: ln, host: strings.ReplaceAll(ip, ".", "-") + "." + srcNS + ".pod.cluster.local"}
	t.Cleanup(func() { _ = ln.Close() })
	go r.serve()
	return r
}

// admit gives the passthrough Routes of the namespace without a host the
// router's host, as OpenShift's API server generates one.
func (r *router) admit(ctx context.Context) {
	ri := r.c.Dynamic.Resource(openshift.Routes).Namespace(r.ns)
	l, err := ri.List(ctx, metav1.ListOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	for i := range l.Items {
		route := &l.Items[i]
		if h, _, _ := unstructured.NestedString(route.Object, "spec", "host"); h != "" {
			continue
		}
		if term, _, _ := unstructured.NestedString(route.Object, "spec", "tls", "termination"); term != "passthrough" {
			r.t.Fatalf("Route %s is not passthrough: %v", route.GetName(), route.Object["spec"])
		}
		_ = unstructured.SetNestedField(route.Object, r.host, "spec", "host")
		if _, err := ri.Update(ctx, route, metav1.UpdateOptions{}); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *router) serve() {
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
func (r *router) forward(conn net.Conn) error {
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
func (r *router) backend(ctx context.Context, sni string) (string, error) {
	l, err := r.c.Dynamic.Resource(openshift.Routes).Namespace(r.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, route := range l.Items {
		if h, _, _ := unstructured.NestedString(route.Object, "spec", "host"); h != sni {
			continue
		}
		svc, _, _ := unstructured.NestedString(route.Object, "spec", "to", "name")
		slices, err := r.c.Kube.DiscoveryV1().EndpointSlices(r.ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
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
		return "", fmt.Errorf("Route %s: service %s has no ready endpoint", route.GetName(), svc)
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
