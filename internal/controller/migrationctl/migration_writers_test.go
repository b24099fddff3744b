package migrationctl

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// pod is a pod in namespace shop with the given phase and labels that
// mounts the claims.
func pod(name string, phase corev1.PodPhase, labels map[string]string, claims ...string) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Labels: labels}, Status: corev1.PodStatus{Phase: phase}}
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	for _, c := range claims {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: c, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
	}
	return p
}

func TestWriters(t *testing.T) {
	mover := map[string]string{ferryv1.LabelManagedBy: ferryv1.ManagedByValue}
	tests := []struct {
		name string
		pods []corev1.Pod
		want []string
	}{
		{"none", nil, nil},
		{"running pods of the claim, sorted", []corev1.Pod{
			pod("rogue", corev1.PodRunning, nil, "data"),
			pod("cron-1", corev1.PodPending, nil, "logs", "data"),
		}, []string{"shop/cron-1", "shop/rogue"}},
		{"other claims, ended pods and Ferry's movers are no writers", []corev1.Pod{
			pod("other", corev1.PodRunning, nil, "logs"),
			pod("job-1", corev1.PodSucceeded, nil, "data"),
			pod("crashed", corev1.PodFailed, nil, "data"),
			pod("ferry-sender", corev1.PodRunning, mover, "data"),
			pod("rogue", corev1.PodRunning, nil, "data"),
		}, []string{"shop/rogue"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := writers(tt.pods, "data"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("writers = %v, want %v", got, tt.want)
			}
		})
	}
}
