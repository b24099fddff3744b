package sniproxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

// TestIngressController forwards a TLS connection to the Service of the
// passthrough Ingress of its class whose host is the server name, and
// refuses the others: the backend, not the controller, completes the
// handshake.
func TestIngressController(t *testing.T) {
	const host = "recv.movers.example"
	cert, pool := selfSigned(t, host)
	backend := tlsBackend(t, cert)
	_, port, _ := net.SplitHostPort(backend)
	kube := fake.NewClientset(
		ingress("ns1", "passthrough", "pass", host, "recv", true),
		ingress("ns1", "no-annotation", "pass", "plain.movers.example", "recv", false),
		ingress("ns1", "other-class", "other", "other.movers.example", "recv", true),
		endpointSlice("ns1", "recv", port),
	)
	ctx := context.Background()
	c, err := StartIngressController(ctx, kube, "127.0.0.1:0", "pass")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ic, err := kube.NetworkingV1().IngressClasses().Get(ctx, "pass", metav1.GetOptions{}); err != nil || ic.Spec.Controller != ControllerName {
		t.Fatalf("ingress class: %v %v", ic, err)
	}

	got, err := dialTLS(c.Addr().String(), host, pool)
	if err != nil || got != "hello from the backend" {
		t.Fatalf("through the controller: %q, %v", got, err)
	}
	if served, _ := c.Served(); served != 1 {
		t.Errorf("served %d connections, want 1", served)
	}

	for sni, want := range map[string]string{
		"plain.movers.example": "no TLS passthrough",
		"other.movers.example": "no Ingress of class pass",
		"none.movers.example":  "no Ingress of class pass",
	} {
		if _, err := dialTLS(c.Addr().String(), sni, pool); err == nil {
			t.Errorf("%s: the handshake succeeded", sni)
		}
		if _, lastErr := waitLastError(c.Proxy, sni); lastErr == nil || !strings.Contains(lastErr.Error(), want) {
			t.Errorf("%s: last error %v, want %q", sni, lastErr, want)
		}
	}
	if served, _ := c.Served(); served != 1 {
		t.Errorf("served %d connections after the refused ones, want 1", served)
	}
}

// waitLastError waits a moment for the proxy's last error to name want,
// a server name (the proxy records it after closing the connection).
func waitLastError(p *Proxy, want string) (int, error) {
	for i := 0; ; i++ {
		n, err := p.Served()
		if i == 50 || err != nil && strings.Contains(err.Error(), want) {
			return n, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func dialTLS(addr, serverName string, pool *x509.CertPool) (string, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
		&tls.Config{ServerName: serverName, RootCAs: pool, MinVersion: tls.VersionTLS13})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	b, err := io.ReadAll(conn)
	return string(b), err
}

// tlsBackend serves cert on 127.0.0.1 and writes a greeting on every
// connection; it returns its address.
func tlsBackend(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Write([]byte("hello from the backend"))
			_ = conn.Close()
		}
	}()
	return ln.Addr().String()
}

func selfSigned(t *testing.T, host string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func ingress(ns, name, class, host, svc string, passthrough bool) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: networkingv1.IngressSpec{
		IngressClassName: ptr.To(class),
		Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", Backend: networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: "mover"}}}}},
		}}}},
	}}
	if passthrough {
		ing.Annotations = map[string]string{PassthroughAnnotation: "true"}
	}
	return ing
}

func endpointSlice(ns, svc, port string) *discoveryv1.EndpointSlice {
	n, _ := net.LookupPort("tcp", port)
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: svc + "-x1", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("mover"), Port: ptr.To(int32(n))}},
	}
}
