//go:build e2e

package direct

import (
	"context"
	"net/url"
	"testing"

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

// startRouter plays the router for the Routes of ns on the destination,
// under a host that srcNS's pod records resolve to the router's address.
func startRouter(t *testing.T, c *harness.Cluster, ns, srcNS string) *openshift.Router {
	t.Helper()
	ip := routerAddress(t, c)
	r, err := openshift.StartRouter(c.Kube, c.Dynamic, ns, ip, openshift.PodRecordHost(ip, srcNS))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}
