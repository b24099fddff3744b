//go:build e2e

package direct

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/test/harness"
)

// writeScript fills /data with what the copy must keep: contents, a
// subdirectory, a symlink, a private file owned by 1234:5678 and a file
// large enough to take the mover's large-file path.
const writeScript = `set -e
cd /data
echo hello > hello.txt
mkdir -p sub/deeper
echo nested > sub/deeper/n.txt
chmod 750 sub
ln -s hello.txt link
echo secret > secret.txt
chmod 600 secret.txt
chown 1234:5678 secret.txt
head -c 3000000 /dev/urandom > big.bin
`

// listScript prints what the test compares between source and destination.
const listScript = `set -e
cd /data
find . -mindepth 1 -path ./.ferry-mover -prune -o -print | sort | while read -r f; do stat -c '%a %u %g %Y %F %n' "$f"; done
echo "link -> $(readlink link)"
cat hello.txt sub/deeper/n.txt secret.txt
md5sum big.bin
`

func TestCopyBetweenClustersE2E(t *testing.T) {
	src, dst := harness.LocalOrSkip(t, "src"), harness.LocalOrSkip(t, "dst")
	copyAndCheck(t, src, dst, exposeNodePort)
}

func TestCopySameClusterE2E(t *testing.T) {
	c := harness.LocalOrSkip(t, "src")
	copyAndCheck(t, c, c, exposeSameCluster)
}

// TestCopyThroughLoadBalancerE2E exposes the receiver through a Service
// of type LoadBalancer. The test bed has no load-balancer provider, so
// the test plays one: it gives the Service the destination node's
// address, for which kube-proxy then forwards the mover port, as a
// cloud's controller would give it a cloud address.
func TestCopyThroughLoadBalancerE2E(t *testing.T) {
	src, dst := harness.LocalOrSkip(t, "src"), harness.LocalOrSkip(t, "dst")
	copyAndCheck(t, src, dst, exposeLoadBalancer)
}

// How a test exposes the receiver.
type exposure int

const (
	exposeNodePort exposure = iota
	exposeSameCluster
	exposeLoadBalancer
	exposeRoute
	exposeIngress
)

// provideLoadBalancers gives every LoadBalancer Service of the mover in ns
// without an address the destination node's address.
func provideLoadBalancers(ctx context.Context, t *testing.T, c *harness.Cluster, ns string) {
	t.Helper()
	svcs, err := c.Kube.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range svcs.Items {
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || len(svc.Status.LoadBalancer.Ingress) > 0 {
			continue
		}
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: c.NodeIP}}
		if _, err := c.Kube.CoreV1().Services(ns).UpdateStatus(ctx, &svc, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func copyAndCheck(t *testing.T, src, dst *harness.Cluster, how exposure) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	suffix := harness.Suffix()
	srcNS, dstNS := "ferry-vol-src-"+suffix, "ferry-vol-dst-"+suffix
	src.CreateNamespace(t, srcNS)
	dst.CreateNamespace(t, dstNS)
	src.CreateClaim(t, srcNS, "data", "standard")
	dst.CreateClaim(t, dstNS, "restored", "standard")

	srcList := runPod(t, src, srcNS, "writer", "data", writeScript+listScript)
	t.Logf("source:\n%s", srcList)

	o := Options{Source: src.Clients(t), Destination: dst.Clients(t), Migration: "e2e-vol-" + suffix, Image: src.Image(t, "ferry"),
		SameCluster: how == exposeSameCluster, LoadBalancer: how == exposeLoadBalancer}
	// Verified: once synced, the sender compares every file's checksum.
	transfers := []volumes.Transfer{{SourceNamespace: srcNS, SourceClaim: "data", DestinationNamespace: dstNS, DestinationClaim: "restored", Verify: true}}
	var pf *playedFront
	switch how {
	case exposeRoute:
		pf = playRouter(t, src, dst, dstNS, srcNS)
	case exposeIngress:
		pf = playIngressController(t, src, dst, srcNS)
	}
	if pf != nil {
		o.Front = pf.front
	}
	run := &syncer{o: o}
	t.Cleanup(func() {
		if err := cleanup(context.Background(), o); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	start := time.Now()
	var st volumes.State
	err := wait.PollUntilContextTimeout(ctx, 2*time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		var err error
		st, err = run.sync(ctx, t, transfers...)
		if err != nil {
			return false, err
		}
		if how == exposeLoadBalancer {
			provideLoadBalancers(ctx, t, dst, dstNS)
		}
		if pf != nil && pf.admit != nil {
			if err := pf.admit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		v := st.Volumes[0]
		t.Logf("%5.1fs %s: %s %s %d/%d bytes %d/%d files %s", time.Since(start).Seconds(), v.SourceClaim, v.Phase, v.MoverPhase,
			v.BytesDone, v.BytesTotal, v.FilesDone, v.FilesTotal, v.Message)
		return st.Done, nil
	})
	if err != nil {
		t.Fatalf("sync: %v (last state %+v)", err, st)
	}
	if v := st.Volumes[0]; v.BytesDone < 3000000 || v.FilesDone < 4 {
		t.Errorf("final progress %+v counts too little", v)
	}
	if !st.Volumes[0].Verified {
		t.Errorf("the verified copy is not reported verified")
	}
	sender, err := src.Kube.CoreV1().Pods(srcNS).Get(ctx, senderName(o.Migration, transfers[0]), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	args := sender.Spec.Containers[0].Args
	if !slices.Contains(args, "--verify") {
		t.Errorf("the sender did not verify: %v", args)
	}
	if how == exposeLoadBalancer && !strings.HasSuffix(args[3], ":8443") {
		t.Fatalf("the sender did not dial the load balancer's mover port: %v", args)
	}

	if pf != nil {
		host := pf.host(o.Migration, transfers[0])
		if args[3] != host+":443" {
			t.Fatalf("the sender did not dial the %s's host %s on 443: %v", pf.front.kind(), host, args)
		}
		served, lastErr := pf.proxy.Served()
		if served == 0 {
			t.Fatalf("the copy did not go through the %s's front (last error: %v)", pf.front.kind(), lastErr)
		}
		t.Logf("the front forwarded %d connections by SNI %s", served, host)
	}

	// Done stays done: another call starts no new copy.
	if again, err := run.sync(ctx, t, transfers...); err != nil || !again.Done {
		t.Fatalf("Sync after done = %+v, %v", again, err)
	}
	if p, err := src.Kube.CoreV1().Pods(srcNS).Get(ctx, sender.Name, metav1.GetOptions{}); err != nil || p.UID != sender.UID {
		t.Fatalf("sender replaced after done: %v", err)
	}

	dstList := runPod(t, dst, dstNS, "reader", "restored", listScript)
	t.Logf("destination:\n%s", dstList)
	if dstList != srcList {
		t.Errorf("destination differs from source:\n--- source\n%s--- destination\n%s", srcList, dstList)
	}
	for _, want := range []string{"600 1234 5678 ", "regular file ./secret.txt", "750 0 0 ", "directory ./sub\n", "link -> hello.txt", "hello\nnested\nsecret\n"} {
		if !strings.Contains(dstList, want) {
			t.Errorf("destination listing lacks %q", want)
		}
	}

	if err := cleanup(ctx, o); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	if err := cleanup(ctx, o); err != nil {
		t.Fatalf("second cleanup: %v", err)
	}
	sel := metav1.ListOptions{LabelSelector: ferryv1.LabelMigration + "=" + o.Migration}
	for _, c := range []*harness.Cluster{src, dst} {
		pods, err1 := c.Kube.CoreV1().Pods("").List(ctx, sel)
		svcs, err2 := c.Kube.CoreV1().Services("").List(ctx, sel)
		secrets, err3 := c.Kube.CoreV1().Secrets("").List(ctx, sel)
		ingresses, err4 := c.Kube.NetworkingV1().Ingresses("").List(ctx, sel)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			t.Fatal(err1, err2, err3, err4)
		}
		if n := len(pods.Items) + len(svcs.Items) + len(secrets.Items) + len(ingresses.Items); n != 0 {
			t.Errorf("cluster %s: %d pods, %d services, %d secrets, %d ingresses left", c.Name, len(pods.Items), len(svcs.Items), len(secrets.Items), len(ingresses.Items))
		}
	}
}

// cleanup runs the path's one-pass Cleanup until it is done, as the
// controller's reconciles would.
func cleanup(ctx context.Context, o Options) error {
	p, err := New(o)
	if err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		return p.Cleanup(ctx)
	})
}

// runPod runs script as root with the claim at /data, waits for it to
// succeed and returns its output.
func runPod(t *testing.T, c *harness.Cluster, ns, name, claim, script string) string {
	t.Helper()
	return c.RunPod(t, harness.NewPod(ns, name, c.Image(t, "tools"), "sh", "-c", script).RestartNever().AsRoot().Claim(claim, "/data").Pod())
}
