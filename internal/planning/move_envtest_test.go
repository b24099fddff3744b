//go:build envtest

package planning

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// TestCheckMovesEnvtest validates plans that move claims bound to PVs of
// several volume types: hostPath and NFS pass with a warning, other
// types, unbound claims, overrides of a moved claim's size and a taken PV
// name on the destination are refused, and a claim a cutover moved away
// (kept on its PV) stays in the claim list.
func TestCheckMovesEnvtest(t *testing.T) {
	src, dst := clients(t)
	shop := namespace(t, srcEnv, "shop")
	hostPath := boundClaim(t, shop, "host", corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/hostpath_pv/" + shop}})
	nfs := boundClaim(t, shop, "nfs", corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.lan", Path: "/export"}})
	boundClaim(t, shop, "csi", corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: "vol-1"}})
	taken := boundClaim(t, shop, "taken", corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/taken"}})
	create(t, dstEnv, volume(taken, corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/other"}}))
	create(t, srcEnv, claim(shop, "unbound", nil))

	move := func(name string, change ...func(*ferryv1.PVCOverride)) ferryv1.PVCOverride {
		o := ferryv1.PVCOverride{Namespace: shop, Name: name, Action: ferryv1.PVCActionMove}
		for _, c := range change {
			c(&o)
		}
		return o
	}
	tests := []struct {
		name        string
		dest        string // the destination cluster's name; "dst" unless set
		overrides   []ferryv1.PVCOverride
		wantMessage []string // problems; none when empty
		wantWarning []string
	}{
		{name: "host path and NFS", overrides: []ferryv1.PVCOverride{move("host"), move("nfs")},
			wantWarning: []string{"PV " + hostPath + " is the host path /tmp/hostpath_pv/" + shop + "; it must be the same storage", "NFS server nfs.lan (/export); Ferry does not test"}},
		{name: "CSI volume", overrides: []ferryv1.PVCOverride{move("csi")},
			wantMessage: []string{"claim " + shop + "/csi: its volume (PV pv-" + shop + "-csi) is of type CSI (driver ebs.csi.aws.com)", "use action copy"}},
		{name: "unbound claim", overrides: []ferryv1.PVCOverride{move("unbound")}, wantMessage: []string{shop + "/unbound is not bound to a volume"}},
		{name: "capacity override", overrides: []ferryv1.PVCOverride{move("host", func(o *ferryv1.PVCOverride) { q := resource.MustParse("5Gi"); o.TargetCapacity = &q })},
			wantMessage: []string{"a moved volume keeps its storage, size and access modes"}},
		{name: "PV name taken on the destination", overrides: []ferryv1.PVCOverride{move("taken")},
			wantMessage: []string{"cluster dst has a PV named " + taken + " already, not Ferry's"}},
		{name: "within one cluster", dest: "src", overrides: []ferryv1.PVCOverride{move("host")},
			wantMessage: []string{"within one cluster use a StorageConversion plan"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan(shop)
			p.Spec.PersistentVolumeClaims = tt.overrides
			if tt.dest != "" {
				p.Spec.DestinationCluster = tt.dest
			}
			want := ""
			if len(tt.wantMessage) > 0 {
				want = ferryv1.ReasonInvalidSpec
			}
			res := checkResult(t, p, src, dst, want, tt.wantMessage, listClaims, checkClaimOverrides, checkMoves)
			warnings := strings.Join(res.Warnings, "\n")
			for _, w := range tt.wantWarning {
				if !strings.Contains(warnings, w) {
					t.Errorf("warnings %q do not contain %q", warnings, w)
				}
			}
			if want == "" && len(res.Moved()) != len(tt.overrides) {
				t.Errorf("claims to move: %+v, want %d", res.Moved(), len(tt.overrides))
			}
		})
	}

	t.Run("claim moved away", func(t *testing.T) {
		ctx := context.Background()
		p := plan(shop)
		p.Spec.PersistentVolumeClaims = []ferryv1.PVCOverride{move("nfs")}
		c, err := srcEnv.Kube.CoreV1().PersistentVolumeClaims(shop).Get(ctx, "nfs", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		record, _ := json.Marshal(&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: shop, Name: "nfs"}, Spec: c.Spec})
		pv, err := srcEnv.Kube.CoreV1().PersistentVolumes().Get(ctx, nfs, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pv.Labels = map[string]string{ferryv1.LabelPlan: p.Name}
		pv.Annotations = map[string]string{ferryv1.AnnotationMovedClaim: string(record)}
		if _, err := srcEnv.Kube.CoreV1().PersistentVolumes().Update(ctx, pv, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		// Deleted as MoveVolumes does; envtest runs no pvc-protection
		// controller to remove its finalizer.
		claims := srcEnv.Kube.CoreV1().PersistentVolumeClaims(shop)
		if err := claims.Delete(ctx, "nfs", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := claims.Patch(ctx, "nfs", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		if _, err := claims.Get(ctx, "nfs", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("claim still there after its deletion (%v)", err)
		}
		res := checkResult(t, p, src, dst, "", nil, listClaims, checkClaimOverrides, checkMoves)
		moved := res.Moved()
		if len(moved) != 1 || moved[0].Name != "nfs" || moved[0].SourceVolume != nfs {
			t.Errorf("claims to move after the claim went: %+v", moved)
		}
	})
}

// boundClaim creates claim name in ns bound (by name: envtest runs no
// binder) to a new PV of source s, and returns the PV's name.
func boundClaim(t *testing.T, ns, name string, s corev1.PersistentVolumeSource) string {
	t.Helper()
	pvName := "pv-" + ns + "-" + name
	create(t, srcEnv, volume(pvName, s))
	c := claim(ns, name, nil)
	c.Spec.VolumeName = pvName
	create(t, srcEnv, c)
	return pvName
}

// volume is a PV of 1Gi, ReadWriteOnce.
func volume(name string, s corev1.PersistentVolumeSource) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"test": rand.String(4)}},
		Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: s, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}
}
