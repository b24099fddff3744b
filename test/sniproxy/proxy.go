// Package sniproxy plays, for tests on the local clusters, the
// TLS-passthrough fronts that receivers can sit behind, as tests play a
// cloud's load balancer: a Proxy listens on an address of the test
// process that the other cluster's pods reach, reads the server name
// (SNI) of each TLS ClientHello without terminating TLS, and forwards
// the connection, ClientHello included, to a ready endpoint of the
// Service that a Lookup names for that server name.
// [StartIngressController] plays an ingress controller with TLS
// passthrough (Ingresses of one class); test/openshift's Router plays
// OpenShift's router (Routes) with the same Proxy.
//
// # Caveats
//
// The test process must reach the pod network (the local clusters'
// routes give it that): the Proxy dials the endpoint's pod IP, not the
// Service's ClusterIP.
package sniproxy

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
	"k8s.io/client-go/kubernetes"
)

// PodRecordHost is a host name that a test bed cluster's DNS (CoreDNS's
// pod records in insecure mode) resolves to ip, under a namespace that
// exists on that cluster. CoreDNS answers the same for any one label in
// front of it (it reads the IP from the label before the namespace), so
// it also serves as a domain whose names all resolve to ip.
func PodRecordHost(ip, namespace string) string {
	return strings.ReplaceAll(ip, ".", "-") + "." + namespace + ".pod.cluster.local"
}

// Backend is the Service port a server name goes to.
type Backend struct {
	// Namespace and Service name the Service.
	Namespace, Service string
	// Port is the name of the Service's port; "" for its first.
	Port string
}

// Lookup returns the backend of a server name, or an error saying why
// there is none.
type Lookup func(ctx context.Context, serverName string) (Backend, error)

// Proxy forwards TLS connections by server name, untouched.
type Proxy struct {
	kube    kubernetes.Interface
	lookup  Lookup
	ln      net.Listener
	mu      sync.Mutex
	served  int
	lastErr error
}

// Start listens on addr (HOST:PORT) and forwards every connection to the
// backend lookup names for its server name. Close stops it.
func Start(kube kubernetes.Interface, addr string, lookup Lookup) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sni proxy: %w", err)
	}
	p := &Proxy{kube: kube, lookup: lookup, ln: ln}
	go p.serve()
	return p, nil
}

// Addr is the address the proxy listens on.
func (p *Proxy) Addr() net.Addr { return p.ln.Addr() }

// Close stops the proxy.
func (p *Proxy) Close() error { return p.ln.Close() }

// Served returns the number of connections forwarded and the last
// forwarding error.
func (p *Proxy) Served() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.served, p.lastErr
}

func (p *Proxy) serve() {
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			if err := p.forward(conn); err != nil {
				p.mu.Lock()
				p.lastErr = err
				p.mu.Unlock()
			}
		}()
	}
}

// forward reads the ClientHello's server name, finds its backend's
// endpoint and pipes the connection, ClientHello included, to it.
func (p *Proxy) forward(conn net.Conn) error {
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	sni, hello, err := readServerName(conn)
	if err != nil {
		return err
	}
	_ = conn.SetReadDeadline(time.Time{})
	ctx := context.Background()
	b, err := p.lookup(ctx, sni)
	if err != nil {
		return err
	}
	addr, err := p.endpoint(ctx, b)
	if err != nil {
		return fmt.Errorf("server name %s: %w", sni, err)
	}
	up, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return fmt.Errorf("dial %s for %s: %w", addr, sni, err)
	}
	defer up.Close()
	if _, err := up.Write(hello); err != nil {
		return err
	}
	p.mu.Lock()
	p.served++
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, conn); done <- struct{}{} }()
	go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
	<-done
	return nil
}

// endpoint is a ready endpoint of the backend's Service port: a pod IP
// and port.
func (p *Proxy) endpoint(ctx context.Context, b Backend) (string, error) {
	slices, err := p.kube.DiscoveryV1().EndpointSlices(b.Namespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + b.Service})
	if err != nil {
		return "", err
	}
	for _, s := range slices.Items {
		port := slicePort(s.Ports, b.Port)
		if port == 0 {
			continue
		}
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && *ep.Conditions.Ready && len(ep.Addresses) > 0 {
				return net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(port))), nil
			}
		}
	}
	return "", fmt.Errorf("service %s/%s has no ready endpoint for port %q", b.Namespace, b.Service, b.Port)
}

// slicePort is the number of the named port (the first for ""), 0 when
// there is none.
func slicePort(ports []discoveryv1.EndpointPort, name string) int32 {
	for _, pt := range ports {
		if pt.Port != nil && (name == "" || pt.Name != nil && *pt.Name == name) {
			return *pt.Port
		}
	}
	return 0
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
