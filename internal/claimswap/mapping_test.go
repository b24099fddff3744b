package claimswap

import (
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestOrdinalClaim(t *testing.T) {
	tests := []struct {
		name, set, tpl, ord string
		ok                  bool
	}{
		{"data-db-0", "db", "data", "0", true},
		{"data-fast-db-12", "db", "data-fast", "12", true},
		{"data-db-x", "db", "", "", false},
		{"data-web-0", "db", "", "", false},
		{"db-0", "db", "", "", false},
		{"data-db-", "db", "", "", false},
	}
	for _, tt := range tests {
		tpl, ord, ok := ordinalClaim(tt.name, tt.set)
		if tpl != tt.tpl || ord != tt.ord || ok != tt.ok {
			t.Errorf("ordinalClaim(%q, %q) = %q, %q, %v; want %q, %q, %v", tt.name, tt.set, tpl, ord, ok, tt.tpl, tt.ord, tt.ok)
		}
	}
}

func TestTemplateRenames(t *testing.T) {
	set := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: appsv1.StatefulSetSpec{
		VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}, {ObjectMeta: metav1.ObjectMeta{Name: "logs"}}}}}
	claims := []string{"data-db-0", "data-db-1", "logs-db-0", "other"}
	tests := []struct {
		name     string
		m        Mapping
		complete bool
		want     map[string]string
		problem  string
	}{
		{"both claims of a template", Mapping{"data-db-0": "data-fast-db-0", "data-db-1": "data-fast-db-1"}, true,
			map[string]string{"data": "data-fast"}, ""},
		{"not the StatefulSet's claims", Mapping{"other": "other-fast"}, true, map[string]string{}, ""},
		{"part of a template", Mapping{"data-db-0": "data-fast-db-0"}, true, map[string]string{}, "are not converted while"},
		{"part of a template, undo", Mapping{"data-db-0": "data-fast-db-0"}, false, map[string]string{"data": "data-fast"}, ""},
		{"two new names", Mapping{"data-db-0": "data-fast-db-0", "data-db-1": "data-ssd-db-1"}, true, map[string]string{}, "renamed the same way"},
		{"ordinal changed", Mapping{"data-db-0": "data-fast-db-1", "data-db-1": "data-fast-db-0"}, true, map[string]string{}, "must get a name of the form"},
		{"not of the form", Mapping{"data-db-0": "mydata", "data-db-1": "data-fast-db-1"}, true, map[string]string{}, "must get a name of the form"},
		{"invalid volume name", Mapping{"logs-db-0": "logs.x-db-0"}, true, map[string]string{}, "not a valid volume name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, probs := templateRenames(set, tt.m, claims, tt.complete)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("renames %v, want %v", got, tt.want)
			}
			joined := strings.Join(probs, "; ")
			if (tt.problem == "") != (len(probs) == 0) || !strings.Contains(joined, tt.problem) {
				t.Errorf("problems %q, want one with %q", joined, tt.problem)
			}
		})
	}
}

func TestSwapVolumesAndMounts(t *testing.T) {
	spec := &corev1.PodSpec{
		Volumes: []corev1.Volume{
			{Name: "a", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "old"}}},
			{Name: "b", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "keep"}}},
			{Name: "c", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		},
		InitContainers: []corev1.Container{{VolumeMounts: []corev1.VolumeMount{{Name: "data"}}}},
		Containers:     []corev1.Container{{VolumeMounts: []corev1.VolumeMount{{Name: "data"}, {Name: "a"}}, VolumeDevices: []corev1.VolumeDevice{{Name: "data"}}}},
	}
	m := Mapping{"old": "new"}
	if got := m.uses(spec); !reflect.DeepEqual(got, []string{"old"}) {
		t.Errorf("uses %v", got)
	}
	if got := m.swapVolumes(spec); !reflect.DeepEqual(got, []string{"old->new"}) || spec.Volumes[0].PersistentVolumeClaim.ClaimName != "new" || spec.Volumes[1].PersistentVolumeClaim.ClaimName != "keep" {
		t.Errorf("swapVolumes %v: %+v", got, spec.Volumes)
	}
	if got := m.Inverse().swapVolumes(spec); len(got) != 1 || spec.Volumes[0].PersistentVolumeClaim.ClaimName != "old" {
		t.Errorf("inverse swap %v", got)
	}
	renameMounts(spec, "data", "data-fast")
	if spec.InitContainers[0].VolumeMounts[0].Name != "data-fast" || spec.Containers[0].VolumeMounts[0].Name != "data-fast" ||
		spec.Containers[0].VolumeMounts[1].Name != "a" || spec.Containers[0].VolumeDevices[0].Name != "data-fast" {
		t.Errorf("renameMounts: %+v %+v", spec.InitContainers, spec.Containers)
	}
}
