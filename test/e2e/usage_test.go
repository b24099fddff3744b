//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// TestUsageAutoResize is the resize test: a claim requesting
// 16Mi holds 40 MiB (the host-path provisioner does not enforce
// capacity). The plan is refused before any data moves, with both
// figures; with --auto-resize it proposes 1Gi, the stage creates the
// destination claim with it and the copy succeeds.
func TestUsageAutoResize(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "usage-e2e")
	plan := "usage-e2e"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns) })
	ctx := context.Background()
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To("standard"),
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("16Mi")}}}}
	if _, err := src.Kube.CoreV1().PersistentVolumeClaims(ns).Create(ctx, claim, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	fill := `dd if=/dev/urandom of=/data/blob bs=1M count=40 2>/dev/null && sync && md5sum < /data/blob | cut -d' ' -f1`
	want := strings.TrimSpace(src.RunPod(t, harness.NewPod(ns, "fill", src.Image(t, "tools"), "sh", "-c", fill).RestartNever().Claim("data", "/data").Pod()))
	_ = src.Kube.CoreV1().Pods(ns).Delete(ctx, "fill", metav1.DeleteOptions{})

	out, err := ferry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns)
	if err == nil {
		t.Fatalf("plan create succeeded with 40 MiB of data for a 16Mi destination:\n%s", out)
	}
	for _, w := range []string{ferryv1.ReasonInsufficientCapacity, "claim " + ns + "/data data holds 40.", "destination capacity 16.0 MiB",
		"--auto-resize, proposed 1Gi", "--pvc " + ns + "/data:capacity=1Gi"} {
		if !strings.Contains(out, w) {
			t.Errorf("refused plan does not say %q:\n%s", w, out)
		}
	}

	out = mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns, "--auto-resize")
	if !strings.Contains(out, "auto-resize on") || !strings.Contains(out, "16Mi     1Gi") || !strings.Contains(out, "(pod)") {
		t.Errorf("plan description does not show the measured claim with request 16Mi and proposal 1Gi:\n%s", out)
	}
	pods, err := src.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: ferryv1.LabelPlan + "=" + plan})
	if err != nil || len(pods.Items) > 0 {
		t.Errorf("measurement pods left after the figures came in: %v %d", err, len(pods.Items))
	}

	mustFerry(t, "stage", plan, "--wait")
	got, err := dst.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if q := got.Spec.Resources.Requests[corev1.ResourceStorage]; q.Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("destination claim requests %s, want the proposal 1Gi", q.String())
	}
	check := `md5sum < /data/blob | cut -d' ' -f1`
	if h := strings.TrimSpace(dst.RunPod(t, harness.NewPod(ns, "check", dst.Image(t, "tools"), "sh", "-c", check).RestartNever().Claim("data", "/data").Pod())); h != want {
		t.Errorf("destination blob %s, want %s", h, want)
	}
}
