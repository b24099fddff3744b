//go:build e2e

package direct

import (
	"context"
	"net/url"
	"testing"

	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/test/harness"
	"ferry.dev/ferry/test/openshift"
	"ferry.dev/ferry/test/sniproxy"
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

// playedFront is a TLS-passthrough front that a test plays.
type playedFront struct {
	front Front
	proxy *sniproxy.Proxy
	// host is the host the sender of a transfer must dial.
	host func(migration string, t volumes.Transfer) string
	// admit, when set, is called on every poll (the router's admission).
	admit func(ctx context.Context) error
}

// rootAddress is the root-namespace end of a cluster's node link, where
// its API server listens; both clusters' pods reach it.
func rootAddress(t *testing.T, c *harness.Cluster) string {
	t.Helper()
	u, err := url.Parse(c.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname()
}

// playRouter plays the router for the Routes of ns on the destination,
// on the destination side's address, under a host that srcNS's pod
// records resolve to it.
func playRouter(t *testing.T, _, dst *harness.Cluster, ns, srcNS string) *playedFront {
	t.Helper()
	ip := rootAddress(t, dst)
	r, err := openshift.StartRouter(dst.Kube, dst.Dynamic, ns, ip, sniproxy.PodRecordHost(ip, srcNS))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return &playedFront{front: Route{}, proxy: r.Proxy, admit: r.Admit,
		host: func(string, volumes.Transfer) string { return r.Host }}
}
