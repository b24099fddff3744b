//go:build e2e

package direct

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/volumes"
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
find . -mindepth 1 | sort | while read -r f; do stat -c '%a %u %g %Y %F %n' "$f"; done
echo "link -> $(readlink link)"
cat hello.txt sub/deeper/n.txt secret.txt
md5sum big.bin
`

func TestCopyBetweenClustersE2E(t *testing.T) {
	src, dst := localClients(t, "src"), localClients(t, "dst")
	copyAndCheck(t, src, dst, exposeNodePort)
}

func TestCopySameClusterE2E(t *testing.T) {
	c := localClients(t, "src")
	copyAndCheck(t, c, c, exposeSameCluster)
}

// TestCopyThroughLoadBalancerE2E exposes the receiver through a Service
// of type LoadBalancer. The test bed has no load-balancer provider, so
// the test plays one: it gives the Service the destination node's
// address, for which kube-proxy then forwards the mover port, as a
// cloud's controller would give it a cloud address.
func TestCopyThroughLoadBalancerE2E(t *testing.T) {
	src, dst := localClients(t, "src"), localClients(t, "dst")
	copyAndCheck(t, src, dst, exposeLoadBalancer)
}

// How a test exposes the receiver.
type exposure int

const (
	exposeNodePort exposure = iota
	exposeSameCluster
	exposeLoadBalancer
)

// provideLoadBalancers gives every LoadBalancer Service of the mover in ns
// without an address the destination node's address.
func provideLoadBalancers(ctx context.Context, t *testing.T, c *cluster.Clients, ns string) {
	t.Helper()
	ip, err := os.ReadFile(filepath.Join(localDir(t, c.Name), "node-ip"))
	if err != nil {
		t.Fatal(err)
	}
	svcs, err := c.Kube.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range svcs.Items {
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || len(svc.Status.LoadBalancer.Ingress) > 0 {
			continue
		}
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: strings.TrimSpace(string(ip))}}
		if _, err := c.Kube.CoreV1().Services(ns).UpdateStatus(ctx, &svc, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func copyAndCheck(t *testing.T, src, dst *cluster.Clients, how exposure) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	images := localImages(t)
	suffix := randomSuffix(t)
	srcNS, dstNS := "ferry-vol-src-"+suffix, "ferry-vol-dst-"+suffix
	createNamespace(t, src, srcNS)
	createNamespace(t, dst, dstNS)
	createClaim(t, src, srcNS, "data")
	createClaim(t, dst, dstNS, "restored")

	srcList := runPod(t, src, srcNS, "writer", images["tools"], "data", writeScript+listScript)
	t.Logf("source:\n%s", srcList)

	o := Options{Source: src, Destination: dst, Migration: "e2e-vol-" + suffix, Image: images["ferry"],
		SameCluster: how == exposeSameCluster, LoadBalancer: how == exposeLoadBalancer}
	transfers := []volumes.Transfer{{SourceNamespace: srcNS, SourceClaim: "data", DestinationNamespace: dstNS, DestinationClaim: "restored"}}
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
	if how == exposeLoadBalancer {
		sender, err := src.Kube.CoreV1().Pods(srcNS).Get(ctx, senderName(o.Migration, transfers[0]), metav1.GetOptions{})
		if err != nil || !strings.HasSuffix(sender.Spec.Containers[0].Args[3], ":8443") {
			t.Fatalf("the sender did not dial the load balancer's mover port: %v", err)
		}
	}

	// Done stays done: another call starts no new copy.
	sender, err := src.Kube.CoreV1().Pods(srcNS).Get(ctx, senderName(o.Migration, transfers[0]), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := run.sync(ctx, t, transfers...); err != nil || !again.Done {
		t.Fatalf("Sync after done = %+v, %v", again, err)
	}
	if p, err := src.Kube.CoreV1().Pods(srcNS).Get(ctx, sender.Name, metav1.GetOptions{}); err != nil || p.UID != sender.UID {
		t.Fatalf("sender replaced after done: %v", err)
	}

	dstList := runPod(t, dst, dstNS, "reader", images["tools"], "restored", listScript)
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
	for _, c := range []*cluster.Clients{src, dst} {
		pods, err1 := c.Kube.CoreV1().Pods("").List(ctx, sel)
		svcs, err2 := c.Kube.CoreV1().Services("").List(ctx, sel)
		secrets, err3 := c.Kube.CoreV1().Secrets("").List(ctx, sel)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatal(err1, err2, err3)
		}
		if n := len(pods.Items) + len(svcs.Items) + len(secrets.Items); n != 0 {
			t.Errorf("cluster %s: %d pods, %d services, %d secrets left", c.Name, len(pods.Items), len(svcs.Items), len(secrets.Items))
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

func localDir(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join("..", "..", "..", ".localclusters", name)
}

func localClients(t *testing.T, name string) *cluster.Clients {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(localDir(t, name), "kubeconfig"))
	if err != nil {
		t.Skipf("cluster %s is not set up (%v): run make clusters-up images", name, err)
	}
	c, err := cluster.NewClients(name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func localImages(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(localDir(t, "src"), "images"))
	if err != nil {
		t.Fatalf("images not built (%v): run make images", err)
	}
	defer f.Close()
	images := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok {
			images[k] = v
		}
	}
	if images["ferry"] == "" || images["tools"] == "" {
		t.Fatalf("images file lacks ferry= or tools=: %v", images)
	}
	return images
}

func randomSuffix(t *testing.T) string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func createNamespace(t *testing.T, c *cluster.Clients, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := c.Kube.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Kube.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
			t.Logf("delete namespace %s: %v", name, err)
		}
	})
}

func createClaim(t *testing.T, c *cluster.Clients, ns, name string) {
	t.Helper()
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: ptr.To("standard"),
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	if _, err := c.Kube.CoreV1().PersistentVolumeClaims(ns).Create(context.Background(), pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// runPod runs script in busybox as root with the claim at /data, waits for
// it to succeed and returns its output.
func runPod(t *testing.T, c *cluster.Clients, ns, name, image, claim, script string) string {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			RestartPolicy:   corev1.RestartPolicyNever,
			SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](0)},
			Containers: []corev1.Container{{
				Name: "sh", Image: image, Command: []string{"sh", "-c", script},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
			}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}},
		},
	}
	if _, err := c.Kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var phase corev1.PodPhase
	err := wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		p, err := c.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		phase = p.Status.Phase
		return phase == corev1.PodSucceeded || phase == corev1.PodFailed, nil
	})
	out := podLog(t, c.Kube, ns, name)
	if err != nil || phase != corev1.PodSucceeded {
		t.Fatalf("pod %s/%s on cluster %s: phase %s, %v; log:\n%s", ns, name, c.Name, phase, err, out)
	}
	return out
}

func podLog(t *testing.T, kube kubernetes.Interface, ns, name string) string {
	t.Helper()
	b, err := kube.CoreV1().Pods(ns).GetLogs(name, &corev1.PodLogOptions{}).DoRaw(context.Background())
	if err != nil {
		return fmt.Sprintf("(log: %v)", err)
	}
	return string(b)
}
