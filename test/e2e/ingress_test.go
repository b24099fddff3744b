//go:build e2e

package e2e

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
	"ferry.dev/ferry/test/sniproxy"
)

// TestStageBehindIngress registers the destination with --mover-service
// Ingress and stages a namespace's claim through it. No ingress
// controller runs on the test bed, so the test plays one with TLS
// passthrough for its own class (sniproxy.IngressController, on 443 of
// the source side's address, which the source's pods reach; the
// OpenShift test's router holds 443 of the destination side's), and
// the Ingress domain is one whose every name the source's DNS resolves
// to that address (CoreDNS's pod records). The claim's data must arrive
// through the controller, and the stage's end must leave no Ingress.
// Registering with Ingress but without a domain is refused first.
func TestStageBehindIngress(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	out, err := ferry(t, "cluster", "add", "ing-bad", "--kubeconfig", dst.Kubeconfig, "--mover-service", "Ingress",
		"--mover-ingress-class", "nginx")
	if err == nil || !strings.Contains(out, "needs an ingress class and a domain") {
		t.Errorf("registration with mover service Ingress and no domain: %v\n%s", err, out)
	}

	ns := src.Namespace(t, "e2e-ingress")
	moved, plan := ns+"-ing", "e2e-ingress"
	u, err := url.Parse(src.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	ip := u.Hostname()
	ic, err := sniproxy.StartIngressController(context.Background(), dst.Kube, net.JoinHostPort(ip, "443"), "ferry-e2e-passthrough")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ic.Close() })
	mustFerry(t, "cluster", "add", "ing-dst", "--kubeconfig", dst.Kubeconfig, "--mover-service", "Ingress",
		"--mover-ingress-class", ic.Class, "--mover-ingress-domain", sniproxy.PodRecordHost(ip, ns))
	t.Cleanup(func() {
		deletePlan(t, plan)
		deleteNamespace(t, dst, moved)
		_ = hostClient(t).Delete(context.Background(), &ferryv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: "ing-dst"}})
	})
	src.CreateClaim(t, ns, "data", "standard")
	want := fillClaim(t, src, ns, "data", 2)

	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "ing-dst", "-n", ns+":"+moved)
	name := createdMigration(t, mustFerry(t, "stage", plan, "--wait"))
	if got := claimDigest(t, dst, moved, "data"); got != want {
		t.Errorf("claim data on dst after the stage: %q, want %q", got, want)
	}
	if served, lastErr := ic.Served(); served == 0 {
		t.Errorf("the claim's data did not go through the ingress controller (its last error: %v)", lastErr)
	} else {
		t.Logf("the ingress controller forwarded %d connections", served)
	}
	assertNoMovers(t, name, src, dst)
}
