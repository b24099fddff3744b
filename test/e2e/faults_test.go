//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// Fault injection: each test breaks one thing while a migration runs and
// checks that the migration either succeeds after its retries or fails
// saying what is wrong, that nothing is lost and that nothing of Ferry is
// left behind.

// cutLength is how long TestNetworkCutDuringCopy keeps the clusters apart.
const cutLength = 30 * time.Second

// TestNetworkCutDuringCopy cuts the network between the two nodes for 30 s
// while a stage copies a volume: the copy stalls and then completes, or
// its round fails and a new one completes it; the destination then holds
// exactly the source's data and no mover object is left.
func TestNetworkCutDuringCopy(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-netcut")
	plan := "e2e-netcut"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns) })
	src.CreateClaim(t, ns, "data", "standard")
	begin := time.Now()
	want := fillClaim(t, src, ns, "data", 768)
	t.Logf("filled the claim in %s", time.Since(begin).Round(time.Second))

	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns)
	name := createdMigration(t, mustFerry(t, "stage", plan))
	var moved int64
	waitMigration(t, name, "the copy to move data", func(m *ferryv1.Migration) bool {
		if len(m.Status.Volumes) == 1 {
			moved = m.Status.Volumes[0].BytesDone
		}
		return moved > 0
	})
	t.Logf("cutting the network with %d of %d MiB copied", moved>>20, 768)
	heal := src.CutNetwork(t, dst)
	started := time.Now()
	time.Sleep(cutLength) // the fault itself, not a wait for a result
	dropped := src.DroppedByCut(t)
	heal()
	t.Logf("network cut for %s: %d packets dropped", time.Since(started).Round(time.Second), dropped)
	if left := src.CutRules(t); len(left) > 0 {
		t.Errorf("the cut's rules are still on the source node: %v", left)
	}
	if dropped == 0 {
		t.Fatal("the cut dropped no packet: the copy was not under way during it (make the volume larger)")
	}

	healed := time.Now()
	waitMigration(t, name, "the stage to end", func(m *ferryv1.Migration) bool { return m.Finished() || m.Stopped() })
	t.Logf("the stage ended %s after the network came back", time.Since(healed).Round(time.Second))
	m := migration(t, name)
	copyStep := step(m, "CopyVolumes")
	t.Logf("stage %s: %s; CopyVolumes: %s; volumes: %+v", name, m.Status.Phase, copyStep.Message, m.Status.Volumes)
	if m.Status.Phase != ferryv1.MigrationSucceeded {
		// A failure must name the endpoint the sender could not reach.
		if !strings.Contains(copyStep.Message, dst.NodeIP) {
			t.Fatalf("the stage failed without naming the receiver's endpoint (%s): %s", dst.NodeIP, copyStep.Message)
		}
		t.Fatalf("the stage failed after the network came back: %s", copyStep.Message)
	}
	if got := claimDigest(t, dst, ns, "data"); got != want {
		t.Fatalf("data on dst differs from the source's after the cut:\nsrc %s\ndst %s", want, got)
	}
	assertNoMovers(t, name, src, dst)
	mustFerry(t, "rollback", plan, "--wait")
}

// TestDestinationAPIServerRestart stops the destination's API server
// while a cutover applies thousands of objects there, and starts it again
// once the controller has seen the errors: the step's retry of errors
// that pass carries the migration to its end in the same attempt, and
// every object arrives. The destination is also the host, so the
// controller's leadership must survive the outage too.
func TestDestinationAPIServerRestart(t *testing.T) {
	ctrl := withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-apirestart")
	const n = 2000
	createConfigMaps(t, src, ns, n)
	plan := "e2e-apirestart"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns) })
	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns)
	name := createdMigration(t, mustFerry(t, "cutover", plan))
	waitMigration(t, name, "MigrateResources to be under way", func(m *ferryv1.Migration) bool {
		s := step(m, "MigrateResources")
		return s != nil && s.Phase == ferryv1.StepRunning && s.Progress != nil && s.Progress.Done > 0
	})
	logBefore := len(ctrl.log.String())
	dst.StopComponent(t, "kube-apiserver")
	// The controller must have hit the outage in MigrateResources before
	// the API server comes back.
	harness.Eventually(context.Background(), t, 200*time.Millisecond, time.Minute, "the controller to retry MigrateResources",
		func(context.Context) (bool, string, error) {
			return transientRetryLogged(ctrl.log.String()[logBefore:], "MigrateResources"), "", nil
		})
	dst.StartComponent(t, "kube-apiserver")

	waitMigration(t, name, "the cutover to end", func(m *ferryv1.Migration) bool { return m.Finished() || m.Stopped() })
	m := migration(t, name)
	s := step(m, "MigrateResources")
	if m.Status.Phase != ferryv1.MigrationSucceeded {
		t.Fatalf("cutover %s: %s; MigrateResources: %+v", name, m.Status.Phase, s)
	}
	if s.Attempts != 1 {
		t.Errorf("MigrateResources ran %d times, want 1: the transient retry, not a new attempt, should carry it", s.Attempts)
	}
	if log := strings.ToLower(ctrl.log.String()); strings.Contains(log, "leader election lost") {
		t.Errorf("the controller lost its leadership during the outage")
	}
	cms, err := dst.Kube.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "e2e=bulk"})
	if err != nil || len(cms.Items) != n {
		t.Fatalf("dst holds %d of %d ConfigMaps: %v", len(cms.Items), n, err)
	}
	mustFerry(t, "rollback", plan, "--wait")
}

// transientRetryLogged tells whether the controller's log says that step
// hit an error that passes and is being retried.
func transientRetryLogged(log, stepName string) bool {
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "step hit a transient error") && strings.Contains(line, stepName) {
			return true
		}
	}
	return false
}

// TestWriterAfterQuiesce runs a bare pod that keeps writing to the claim
// of a Deployment: the cutover quiesces the Deployment but not the pod,
// so its final copy keeps finding changes and fails naming the claim and
// the pod; a rollback then restores the source as it was and leaves
// nothing on the destination.
func TestWriterAfterQuiesce(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-writer")
	plan := "e2e-writer"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns) })
	writingApp(t, src, ns)
	// A large file that grows all the time: every read of it sees it change.
	rogue := src.CreatePod(t, harness.NewPod(ns, "rogue", src.Image(t, "tools"), "sh", "-c",
		"dd if=/dev/urandom of=/data/rogue.log bs=1M count=64 2>/dev/null; while true; do date >> /data/rogue.log; usleep 20000; done").
		Grace(0).Claim("data", "/data").Pod())
	src.WaitPod(t, ns, rogue.Name, corev1.PodRunning)

	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns,
		"--registry-rewrite", src.Registry+"/="+dst.Registry+"/")
	out, err := ferry(t, "cutover", plan, "--wait")
	if err == nil {
		t.Fatalf("the cutover succeeded although a pod kept writing to its claim:\n%s", out)
	}
	name := createdMigration(t, out)
	m := migration(t, name)
	failed := step(m, "CopyVolumes")
	if failed == nil || failed.Phase != ferryv1.StepFailed {
		t.Fatalf("CopyVolumes should fail: %+v", m.Status.Itinerary)
	}
	for _, want := range []string{"a pod still writes to claim " + ns + "/data", "pod " + ns + "/rogue mounts it", "ferry retry"} {
		if !strings.Contains(failed.Message, want) {
			t.Errorf("CopyVolumes message lacks %q: %s", want, failed.Message)
		}
	}
	if v := m.Status.Volumes; len(v) != 1 || v[0].Attempt < 2 {
		t.Errorf("the final copy should have run again before failing: %+v", v)
	}
	if strings.Contains(failed.Message, "pod "+ns+"/web-") {
		t.Errorf("the quiesced Deployment's pods are named as writers: %s", failed.Message)
	}

	mustFerry(t, "rollback", plan, "--wait")
	assertNoMovers(t, name, src, dst)
	if _, err := dst.Kube.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err == nil {
		waitGone(t, dst, ns)
	}
	d, err := src.Kube.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 1 {
		t.Errorf("source Deployment has %d replicas after the rollback, want 1", *d.Spec.Replicas)
	}
	for k := range d.Annotations {
		if strings.HasPrefix(k, "ferry.dev/") {
			t.Errorf("annotation %s left on the source Deployment", k)
		}
	}
	waitAvailable(t, src, ns, "web")
	if p, err := src.Kube.CoreV1().Pods(ns).Get(context.Background(), "rogue", metav1.GetOptions{}); err != nil || p.Status.Phase != corev1.PodRunning {
		t.Errorf("the bare pod on the source was touched: %v %v", err, p.Status.Phase)
	}
}

// fillClaim writes mib MiB of random data into a claim and returns its
// digest as claimDigest reads it.
func fillClaim(t *testing.T, c *harness.Cluster, ns, claim string, mib int) string {
	t.Helper()
	c.RunPod(t, harness.NewPod(ns, "fill", c.Image(t, "tools"), "sh", "-c",
		fmt.Sprintf("dd if=/dev/urandom of=/data/blob bs=1M count=%d 2>/dev/null && sync", mib)).RestartNever().Claim(claim, "/data").Pod())
	if err := c.Kube.CoreV1().Pods(ns).Delete(context.Background(), "fill", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	return claimDigest(t, c, ns, claim)
}

// claimDigest returns "SIZE MD5" of /blob in a claim, read by a pod.
func claimDigest(t *testing.T, c *harness.Cluster, ns, claim string) string {
	t.Helper()
	name := "digest-" + c.Name
	out := strings.TrimSpace(c.RunPod(t, harness.NewPod(ns, name, c.Image(t, "tools"), "sh", "-c",
		`f=/data/blob; echo "$(wc -c < $f) $(md5sum < $f | cut -d' ' -f1)"`).RestartNever().Claim(claim, "/data").Pod()))
	_ = c.Kube.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
	return out
}

// assertNoMovers checks that no mover pod, Service or Secret of the
// migration is left on the clusters.
func assertNoMovers(t *testing.T, migration string, clusters ...*harness.Cluster) {
	t.Helper()
	for _, c := range clusters {
		if left := moverObjects(t, c, migration); len(left) > 0 {
			t.Errorf("cluster %s keeps mover objects of %s: %s", c.Name, migration, strings.Join(left, ", "))
		}
	}
}

// waitGone waits until a namespace is gone.
func waitGone(t *testing.T, c *harness.Cluster, ns string) {
	t.Helper()
	harness.Eventually(context.Background(), t, 500*time.Millisecond, 2*time.Minute, "namespace "+ns+" to go from "+c.Name,
		func(ctx context.Context) (bool, string, error) {
			_, err := c.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			return apierrors.IsNotFound(err), fmt.Sprint(err), nil
		})
}

// waitAvailable waits until a Deployment has all its replicas available.
func waitAvailable(t *testing.T, c *harness.Cluster, ns, name string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		d, err := c.Kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && d.Spec.Replicas != nil && d.Status.AvailableReplicas == *d.Spec.Replicas, nil
	})
	if err != nil {
		t.Fatalf("deployment %s/%s not available on %s: %v", ns, name, c.Name, err)
	}
}
