//go:build e2e

package direct

import (
	"context"
	"net"
	"strings"
	"testing"

	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/test/harness"
	"ferry.dev/ferry/test/sniproxy"
)

// TestCopyThroughIngressE2E exposes the receiver through an Ingress with
// TLS passthrough. No ingress controller runs on the test bed, so the
// test plays one (sniproxy.IngressController, for its own ingress
// class): it listens on 443 and forwards each connection by its server
// name to the Service of the passthrough Ingress of that host. The
// Ingress domain is one whose every name the source's DNS resolves to
// the controller's address (CoreDNS's pod records:
// <any>.A-B-C-D.<namespace>.pod.cluster.local).
func TestCopyThroughIngressE2E(t *testing.T) {
	src, dst := harness.LocalOrSkip(t, "src"), harness.LocalOrSkip(t, "dst")
	copyAndCheck(t, src, dst, exposeIngress)
}

// TestIngressClassMissingE2E: a destination whose ingress class does not
// exist is refused in Prepare with a message naming the class, before
// anything is created.
func TestIngressClassMissingE2E(t *testing.T) {
	src, dst := harness.LocalOrSkip(t, "src"), harness.LocalOrSkip(t, "dst")
	o := Options{Source: src.Clients(t), Destination: dst.Clients(t), Migration: "e2e-noclass", Image: "unused",
		Front: Ingress{Class: "ferry-e2e-no-such-class", Domain: "movers.example"}}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	tr := volumes.Transfer{SourceNamespace: "a", SourceClaim: "data", DestinationNamespace: "b", DestinationClaim: "data"}
	_, err = p.Prepare(context.Background(), []volumes.Transfer{tr})
	if err == nil || !strings.Contains(err.Error(), "no IngressClass ferry-e2e-no-such-class") || !strings.Contains(err.Error(), "--mover-ingress-class") {
		t.Fatalf("Prepare with a missing ingress class: %v", err)
	}
}

// testIngressClass is the ingress class of the ingress controller the
// tests play.
const testIngressClass = "ferry-e2e-passthrough"

// playIngressController plays an ingress controller with TLS
// passthrough for the destination's Ingresses of testIngressClass. It
// listens on the source side's address, which the source's pods reach
// as well as the destination side's: the Route tests' router listens on
// 443 of the destination side's address. Only one test at a time can
// play either (Ferry's front port is 443): make e2e runs the tests that
// do in one shard (hack/e2e.sh).
func playIngressController(t *testing.T, src, dst *harness.Cluster, srcNS string) *playedFront {
	t.Helper()
	ip := rootAddress(t, src)
	c, err := sniproxy.StartIngressController(context.Background(), dst.Kube, net.JoinHostPort(ip, "443"), testIngressClass)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	domain := sniproxy.PodRecordHost(ip, srcNS)
	return &playedFront{front: Ingress{Class: c.Class, Domain: domain}, proxy: c.Proxy,
		host: func(migration string, t volumes.Transfer) string { return serviceName(migration, t) + "." + domain }}
}
