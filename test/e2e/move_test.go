//go:build e2e

package e2e

import (
	"context"
	"crypto/md5"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// TestMoveSharedHostPath moves the writing app's claim, on a hostPath PV
// of the test bed's shared disk, to the destination: the stage copies
// nothing, the cutover hands the PV over (0 bytes sent) and the app on the
// destination goes on with the source's data in the same directory; the
// rollback deletes the destination's PV and claim, binds the source claim
// to its PV again and leaves the data in place.
func TestMoveSharedHostPath(t *testing.T) {
	withClusterWrites(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "move-e2e")
	plan := "move-e2e"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns); deletePlanPVs(t, plan, src, dst) })
	writingApp(t, src, ns)
	ctx := context.Background()
	claim, err := src.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pv := getPV(t, src, claim.Spec.VolumeName)
	if pv.Spec.HostPath == nil {
		t.Fatalf("the test bed's claim is not on a hostPath PV: %+v", pv.Spec.PersistentVolumeSource)
	}
	dir, policy := pv.Spec.HostPath.Path, pv.Spec.PersistentVolumeReclaimPolicy

	out := mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns,
		"--registry-rewrite", src.Registry+"/="+dst.Registry+"/", "--pvc", ns+"/data:action=move")
	if !strings.Contains(out, "must be the same storage on the destination's nodes") || !strings.Contains(out, "0 volumes to migrate, 1 to move") ||
		!strings.Contains(out, ns+"/data (PV "+pv.Name) {
		t.Errorf("the plan does not say it moves the claim to its PV, or does not warn that the host path must be shared:\n%s", out)
	}
	out = mustFerry(t, "stage", plan, "--wait")
	m := migration(t, createdMigration(t, out))
	if st := step(m, "CopyVolumes"); st == nil || !strings.Contains(st.Message, ns+"/data not copied: moved at cutover") || len(m.Status.Volumes) != 0 {
		t.Errorf("the stage's copy: %+v, volumes %+v", st, m.Status.Volumes)
	}
	if _, err := dst.Kube.CoreV1().PersistentVolumes().Get(ctx, pv.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the stage created the destination PV (%v)", err)
	}

	before := hostFile(t, filepath.Join(dir, "ticks.log"))
	out = mustFerry(t, "cutover", plan, "--wait")
	m = migration(t, createdMigration(t, out))
	if st := step(m, "MoveVolumes"); st == nil || st.Phase != ferryv1.StepSucceeded || !strings.Contains(st.Message, "moved 1 volumes, 0 B sent") {
		t.Errorf("MoveVolumes: %+v", st)
	}
	if len(m.Status.Volumes) != 1 || m.Status.Volumes[0].Phase != "Moved" || m.Status.Volumes[0].BytesSent != 0 {
		t.Errorf("volume status after the cutover: %+v", m.Status.Volumes)
	}
	assertMovedOver(t, src, dst, ns, pv.Name, dir)
	if got, want := volumeDigest(t, dst, ns, "data", len(before)), fmt.Sprintf("%d %x", len(before), md5.Sum(before)); got != want {
		t.Errorf("ticks.log on dst does not start with what the source wrote before the cutover: %s, want %s", got, want)
	}
	if after := hostFile(t, filepath.Join(dir, "ticks.log")); len(after) <= len(before) {
		t.Errorf("the app on dst did not append to the moved volume: %d bytes, %d before the cutover", len(after), len(before))
	}

	mustFerry(t, "rollback", plan, "--wait")
	assertMovedBack(t, src, dst, ns, pv.Name, policy)
	if after := hostFile(t, filepath.Join(dir, "ticks.log")); len(after) < len(before) || string(after[:len(before)]) != string(before) {
		t.Errorf("the host directory lost data in the rollback: %d bytes, %d before the cutover", len(after), len(before))
	}
	waitAvailable(t, src, ns, "web")
}

// assertMovedOver checks the cutover's handover: the source claim gone,
// its PV kept (Retain, the claim recorded), the destination claim bound
// to a PV of the same host path.
func assertMovedOver(t *testing.T, src, dst *harness.Cluster, ns, name, dir string) {
	t.Helper()
	ctx := context.Background()
	if _, err := src.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the source claim is still there after the cutover (%v)", err)
	}
	kept := getPV(t, src, name)
	if kept.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain || kept.Annotations[ferryv1.AnnotationMovedClaim] == "" {
		t.Errorf("source PV after the cutover: policy %s, annotations %v", kept.Spec.PersistentVolumeReclaimPolicy, kept.Annotations)
	}
	moved := getPV(t, dst, name)
	if moved.Spec.HostPath == nil || moved.Spec.HostPath.Path != dir || moved.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		t.Errorf("destination PV: %+v", moved.Spec)
	}
	c, err := dst.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{})
	if err != nil || c.Spec.VolumeName != name || c.Status.Phase != corev1.ClaimBound {
		t.Errorf("destination claim: %v %+v", err, c)
	}
	waitAvailable(t, dst, ns, "web")
}

// assertMovedBack checks the rollback: the destination's PV gone, the
// source claim bound to its PV again, whose policy and marks are restored.
func assertMovedBack(t *testing.T, src, dst *harness.Cluster, ns, name string, policy corev1.PersistentVolumeReclaimPolicy) {
	t.Helper()
	ctx := context.Background()
	if _, err := dst.Kube.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the destination PV is still there after the rollback (%v)", err)
	}
	if _, err := dst.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the destination claim is still there after the rollback (%v)", err)
	}
	c, err := src.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{})
	if err != nil || c.Spec.VolumeName != name || c.Status.Phase != corev1.ClaimBound {
		t.Fatalf("source claim after the rollback: %v %+v", err, c)
	}
	pv := getPV(t, src, name)
	if pv.Spec.PersistentVolumeReclaimPolicy != policy || pv.Annotations[ferryv1.AnnotationMovedClaim] != "" || pv.Labels[ferryv1.LabelPlan] != "" {
		t.Errorf("source PV after the rollback: policy %s (want %s), annotations %v, labels %v", pv.Spec.PersistentVolumeReclaimPolicy, policy, pv.Annotations, pv.Labels)
	}
}

func getPV(t *testing.T, c *harness.Cluster, name string) *corev1.PersistentVolume {
	t.Helper()
	pv, err := c.Kube.CoreV1().PersistentVolumes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get PV %s on %s: %v", name, c.Name, err)
	}
	return pv
}

// hostFile reads a file of the test bed's shared disk.
func hostFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the host path: %v", err)
	}
	return b
}

// deletePlanPVs deletes the PVs a failed test left labelled with the plan
// (a moved volume not brought back).
func deletePlanPVs(t *testing.T, plan string, clusters ...*harness.Cluster) {
	for _, c := range clusters {
		err := c.Kube.CoreV1().PersistentVolumes().DeleteCollection(context.Background(), metav1.DeleteOptions{},
			metav1.ListOptions{LabelSelector: ferryv1.LabelPlan + "=" + plan})
		if err != nil {
			t.Logf("delete the PVs of plan %s on %s: %v", plan, c.Name, err)
		}
	}
}

// TestMoveRefused asks to move what cannot move: a claim on a local PV
// (only its node reaches it) and a move within one cluster. Each plan is
// refused with a problem that names the cause and says what to do, and
// nothing changes on the source.
func TestMoveRefused(t *testing.T) {
	withClusterWrites(t)
	src := harness.Local(t, "src")
	ns := src.Namespace(t, "move-bad")
	ctx := context.Background()
	pvName := "local-" + ns
	local := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: pvName},
		Spec: corev1.PersistentVolumeSpec{
			PersistentVolumeSource: corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: "/tmp/" + pvName}},
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			ClaimRef:               &corev1.ObjectReference{Namespace: ns, Name: "pinned"},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpExists}}}}}},
		}}
	createOrFail(t, src, src.Kube.CoreV1().PersistentVolumes().Create, local)
	t.Cleanup(func() {
		_ = src.Kube.CoreV1().PersistentVolumes().Delete(context.Background(), pvName, metav1.DeleteOptions{})
	})
	pinned := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pinned"},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To(""), VolumeName: pvName,
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	createOrFail(t, src, src.Kube.CoreV1().PersistentVolumeClaims(ns).Create, pinned)
	src.CreateClaim(t, ns, "shared", "standard")

	tests := []struct {
		name, to, claim string
		want            []string
	}{
		{"local volume", "dst", "pinned", []string{"claim " + ns + "/pinned: its volume (PV " + pvName + ") is of type Local", "use action copy"}},
		{"within one cluster", "src", "shared", []string{"within one cluster use a StorageConversion plan"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := fmt.Sprintf("move-bad-%d", i)
			t.Cleanup(func() { deletePlan(t, plan) })
			args := []string{"plan", "create", plan, "--from", "src", "--to", tt.to, "-n", ns, "--pvc", ns + "/" + tt.claim + ":action=move"}
			if tt.to == "src" {
				args[8] = ns + ":" + ns + "-2"
			}
			if out, err := ferry(t, args...); err == nil {
				t.Fatalf("plan create succeeded:\n%s", out)
			}
			cond := planReady(t, plan)
			for _, w := range tt.want {
				if cond.Reason != ferryv1.ReasonInvalidSpec || !strings.Contains(cond.Message, w) {
					t.Errorf("Ready = %s %q, want InvalidSpec containing %q", cond.Reason, cond.Message, w)
				}
			}
		})
	}
	for _, name := range []string{"pinned", "shared"} {
		c, err := src.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil || c.DeletionTimestamp != nil {
			t.Errorf("claim %s after the refused plans: %v", name, err)
		}
	}
}

// TestMoveCancelAfterRestart keeps the source claim in use by a bare pod
// (which quiesce leaves running) so that MoveVolumes waits for the claim
// to go, kills the controller there, and cancels the cutover with a new
// controller: the new controller picks the waiting step up, the cancel
// waits for the claim to go (the pod deleted then), recreates it bound to
// its PV, restores the PV's reclaim policy and starts the app again.
func TestMoveCancelAfterRestart(t *testing.T) {
	p := startController(t)
	defer func() { p.stop() }()
	mustFerry(t, "cluster", "add", "src", "--kubeconfig", harness.Kubeconfig(t, "src"), "--cluster-scoped-writes")
	mustFerry(t, "cluster", "add", "dst", "--kubeconfig", harness.Kubeconfig(t, "dst"), "--cluster-scoped-writes")
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "move-cancel")
	plan := "move-cancel"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns); deletePlanPVs(t, plan, src, dst) })
	writingApp(t, src, ns)
	ctx := context.Background()
	holder := harness.NewPod(ns, "holder", src.Image(t, "tools"), "sleep", "3600").Claim("data", "/data").Pod()
	createOrFail(t, src, src.Kube.CoreV1().Pods(ns).Create, holder)
	claim, err := src.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pv := getPV(t, src, claim.Spec.VolumeName)
	dir := pv.Spec.HostPath.Path
	before := hostFile(t, filepath.Join(dir, "ticks.log"))

	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns,
		"--registry-rewrite", src.Registry+"/="+dst.Registry+"/", "--pvc", ns+"/data:action=move")
	name := createdMigration(t, mustFerry(t, "cutover", plan))
	waitMigration(t, name, "MoveVolumes to wait for the source claim", func(m *ferryv1.Migration) bool {
		s := step(m, "MoveVolumes")
		return s != nil && s.Phase == ferryv1.StepRunning && strings.Contains(s.Message, "on cluster src to go")
	})
	p.kill()
	if kept := getPV(t, src, pv.Name); kept.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		t.Fatalf("the source PV's policy while its claim goes: %s", kept.Spec.PersistentVolumeReclaimPolicy)
	}
	p = startController(t)
	out, err := ferry(t, "cancel", name)
	if err != nil {
		t.Fatalf("cancel: %v\n%s", err, out)
	}
	waitMigration(t, name, "the cancel to wait for the claim to go", func(m *ferryv1.Migration) bool {
		s := step(m, "CancelMoveVolumesBack")
		return s != nil && s.Phase == ferryv1.StepRunning && strings.Contains(s.Message, "to go before it is recreated")
	})
	if err := src.Kube.CoreV1().Pods(ns).Delete(ctx, "holder", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitMigration(t, name, "the cancel to end", func(m *ferryv1.Migration) bool {
		return m.Status.Phase == ferryv1.MigrationCanceled || m.Status.Phase == ferryv1.MigrationFailed
	})
	if m := migration(t, name); m.Status.Phase != ferryv1.MigrationCanceled {
		t.Fatalf("migration %s: %s %v", name, m.Status.Phase, m.Status.Errors)
	}
	assertMovedBack(t, src, dst, ns, pv.Name, pv.Spec.PersistentVolumeReclaimPolicy)
	if after := hostFile(t, filepath.Join(dir, "ticks.log")); len(after) < len(before) || string(after[:len(before)]) != string(before) {
		t.Errorf("the host directory lost data in the cancel: %d bytes, %d before", len(after), len(before))
	}
	waitAvailable(t, src, ns, "web")
}
