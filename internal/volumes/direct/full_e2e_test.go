//go:build e2e

package direct

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/test/harness"
)

// TestCopyOntoFullVolumeE2E copies 3 MB onto a destination volume of
// 1 MiB (a tmpfs on this machine behind a static hostPath PV): the copy
// must fail at once, without retries, saying the volume is full, and
// leave no temporary files behind.
func TestCopyOntoFullVolumeE2E(t *testing.T) {
	src, dst := harness.LocalOrSkip(t, "src"), harness.LocalOrSkip(t, "dst")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	suffix := harness.Suffix()
	srcNS, dstNS := "ferry-full-src-"+suffix, "ferry-full-dst-"+suffix
	src.CreateNamespace(t, srcNS)
	dst.CreateNamespace(t, dstNS)
	src.CreateClaim(t, srcNS, "data", "standard")
	dir := tinyVolume(t, dst, dstNS, "tiny", suffix)
	runPod(t, src, srcNS, "writer", "data", writeScript)

	o := Options{Source: src.Clients(t), Destination: dst.Clients(t), Migration: "e2e-full-" + suffix, Image: src.Image(t, "ferry")}
	run := &syncer{o: o, pol: volumes.Policy{RetryPause: time.Second}}
	tr := volumes.Transfer{SourceNamespace: srcNS, SourceClaim: "data", DestinationNamespace: dstNS, DestinationClaim: "tiny"}
	t.Cleanup(func() {
		if err := cleanup(context.Background(), o); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	var syncErr error
	err := wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		st, err := run.sync(ctx, t, tr)
		if errors.Is(err, volumes.ErrTransferFailed) {
			syncErr = err
			return true, nil
		}
		if err != nil {
			return false, err
		}
		v := st.Volumes[0]
		t.Logf("%s %s %s", v.Phase, v.MoverPhase, v.Message)
		if v.Phase == volumes.PhaseRetrying || st.Done {
			t.Fatalf("a full volume must fail at once; state %+v", v)
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("waiting for the failure: %v", err)
	}
	t.Logf("copy failed: %v", syncErr)
	if !strings.Contains(syncErr.Error(), "destination volume is full") {
		t.Errorf("error %q does not say the volume is full", syncErr)
	}
	if n := run.prev[0].Attempt; n != 1 {
		t.Errorf("attempt = %d; want 1 (no retries)", n)
	}
	if err := cleanup(ctx, o); err != nil {
		t.Fatal(err)
	}
	names, err := os.ReadDir(filepath.Join(dir, safefs.ReservedName, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range names {
		t.Errorf("temporary file %s left on the full volume", e.Name())
	}
}

// tinyVolume makes claim name in ns bound to a 1 MiB tmpfs mounted on this
// machine, which the test bed's node uses as a hostPath, and returns the
// mount point. Everything is removed when the test ends.
func tinyVolume(t *testing.T, c *harness.Cluster, ns, name, suffix string) string {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(os.TempDir(), "ferry-e2e-tiny-"+suffix)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount a 1 MiB tmpfs on %s: %v", dir, err)
	}
	pvName := "ferry-e2e-tiny-" + suffix
	t.Cleanup(func() {
		ctx := context.Background()
		_ = c.Kube.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, name, metav1.DeleteOptions{})
		_ = c.Kube.CoreV1().PersistentVolumes().Delete(ctx, pvName, metav1.DeleteOptions{})
		if err := unix.Unmount(dir, 0); err != nil {
			t.Logf("unmount %s: %v; detaching", dir, err)
			_ = unix.Unmount(dir, unix.MNT_DETACH)
		}
		_ = os.Remove(dir)
	})
	size := resource.MustParse("1Mi")
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: pvName},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			StorageClassName:              "ferry-e2e-tiny",
			ClaimRef:                      &corev1.ObjectReference{Namespace: ns, Name: name},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: dir, Type: ptr.To(corev1.HostPathDirectory)}},
		},
	}
	if _, err := c.Kube.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: ptr.To("ferry-e2e-tiny"),
			VolumeName:       pvName,
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
		},
	}
	if _, err := c.Kube.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}
