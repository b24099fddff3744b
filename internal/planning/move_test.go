package planning

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestMoveSupport(t *testing.T) {
	pv := func(src corev1.PersistentVolumeSource) *corev1.PersistentVolume {
		return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-1"}, Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: src}}
	}
	tests := []struct {
		name    string
		pv      *corev1.PersistentVolume
		problem string // substring; "" for none
		warning string // substring when there is no problem
	}{
		{"nfs", pv(corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.lan", Path: "/export/shop"}}), "",
			"NFS server nfs.lan (/export/shop); Ferry does not test"},
		{"host path", pv(corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/hostpath_pv/x"}}), "",
			"host path /tmp/hostpath_pv/x; it must be the same storage on the destination's nodes"},
		{"csi", pv(corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com"}}),
			"of type CSI (driver ebs.csi.aws.com), which Ferry cannot hand to another cluster", ""},
		{"local", pv(corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: "/mnt/disk"}}), "of type Local", ""},
		{"none", pv(corev1.PersistentVolumeSource{}), "of type unknown", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problem, warning := MoveSupport(tt.pv)
			if tt.problem == "" && problem != "" || !strings.Contains(problem, tt.problem) {
				t.Errorf("problem %q, want one containing %q", problem, tt.problem)
			}
			if tt.problem != "" && !strings.Contains(problem, "use action copy") {
				t.Errorf("problem %q does not say what to do", problem)
			}
			if !strings.Contains(warning, tt.warning) || tt.problem != "" && warning != "" {
				t.Errorf("warning %q, want one containing %q", warning, tt.warning)
			}
		})
	}
}

func TestMoveScopeProblem(t *testing.T) {
	tests := []struct {
		name     string
		spec     ferryv1.PlanSpec
		contains string
	}{
		{"full between clusters", ferryv1.PlanSpec{SourceCluster: "a", DestinationCluster: "b"}, ""},
		{"state between clusters", ferryv1.PlanSpec{Type: ferryv1.PlanState, SourceCluster: "a", DestinationCluster: "b"}, ""},
		{"within one cluster", ferryv1.PlanSpec{SourceCluster: "a", DestinationCluster: "a"}, "within one cluster use a StorageConversion plan"},
		{"conversion", ferryv1.PlanSpec{Type: ferryv1.PlanStorageConversion, SourceCluster: "a", DestinationCluster: "a"}, "a storage conversion cannot move claims"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := moveScopeProblem(&ferryv1.Plan{Spec: tt.spec})
			if tt.contains == "" && got != "" || !strings.Contains(got, tt.contains) {
				t.Errorf("moveScopeProblem = %q, want %q", got, tt.contains)
			}
		})
	}
}

func TestDecideMovedClaim(t *testing.T) {
	class := "standard"
	c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &class, VolumeName: "pvc-1"}}
	got := decideClaim(c, "shop2", map[string]string{"standard": "fast"}, ferryv1.PVCOverride{Action: ferryv1.PVCActionMove})
	if got.Action != ferryv1.PVCActionMove || got.SourceVolume != "pvc-1" || got.TargetStorageClass != "" || got.TargetNamespace != "shop2" {
		t.Errorf("decideClaim = %+v, want a move of PV pvc-1 into shop2 without a target class", got)
	}
	if missing := missingClasses([]ferryv1.PlanPVC{got}, nil, map[string]bool{}, ""); len(missing) > 0 {
		t.Errorf("a moved claim needs classes %v, want none", missing)
	}
}
