package moverpod

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestClaimNode(t *testing.T) {
	pod := func(name, node, claim string, phase corev1.PodPhase, mover bool) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
		p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}}
		if mover {
			p.Labels = CommonLabels("other")
		}
		return p
	}
	tests := []struct {
		name string
		pods []corev1.Pod
		want string
	}{
		{"none", nil, ""},
		{"running user", []corev1.Pod{pod("app-0", "n1", "data", corev1.PodRunning, false)}, "n1"},
		{"other claim", []corev1.Pod{pod("app-0", "n1", "logs", corev1.PodRunning, false)}, ""},
		{"not running", []corev1.Pod{pod("app-0", "n1", "data", corev1.PodSucceeded, false), pod("app-1", "n2", "data", corev1.PodPending, false)}, ""},
		{"mover ignored", []corev1.Pod{pod("ferry-mover-x-send", "n3", "data", corev1.PodRunning, true)}, ""},
		{"first by name", []corev1.Pod{pod("b", "n2", "data", corev1.PodRunning, false), pod("a", "n1", "data", corev1.PodRunning, false)}, "n1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClaimNode(tt.pods, "data"); got != tt.want {
				t.Errorf("claimNode = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMoverRequests(t *testing.T) {
	q := resource.MustParse
	lr := func(typ corev1.LimitType, def, maxL, minL corev1.ResourceList) corev1.LimitRange {
		return corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{Type: typ, Default: def, Max: maxL, Min: minL}}}}
	}
	tests := []struct {
		name        string
		ranges      []corev1.LimitRange
		cpu, memory string
	}{
		{"none", nil, "50m", "128Mi"},
		{"large defaults", []corev1.LimitRange{lr(corev1.LimitTypeContainer, corev1.ResourceList{"cpu": q("1"), "memory": q("1Gi")}, nil, nil)}, "50m", "128Mi"},
		{"small default limit", []corev1.LimitRange{lr(corev1.LimitTypeContainer, corev1.ResourceList{"memory": q("32Mi")}, nil, nil)}, "50m", "32Mi"},
		{"max", []corev1.LimitRange{lr(corev1.LimitTypePod, nil, corev1.ResourceList{"cpu": q("20m")}, nil)}, "20m", "128Mi"},
		{"min", []corev1.LimitRange{lr(corev1.LimitTypeContainer, nil, nil, corev1.ResourceList{"cpu": q("100m"), "memory": q("256Mi")})}, "100m", "256Mi"},
		{"pvc ignored", []corev1.LimitRange{lr(corev1.LimitTypePersistentVolumeClaim, nil, corev1.ResourceList{"memory": q("1Mi")}, nil)}, "50m", "128Mi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := requests(tt.ranges)
			if got.Cpu().String() != tt.cpu || got.Memory().String() != tt.memory {
				t.Errorf("requests cpu %s memory %s, want %s %s", got.Cpu(), got.Memory(), tt.cpu, tt.memory)
			}
		})
	}
}

// TestMoverResources checks the memory limit that bounds a mover (its
// soft memory limit is three quarters of it) and that it fits the
// namespace's LimitRanges.
func TestMoverResources(t *testing.T) {
	q := resource.MustParse
	item := func(maxL, minL, ratio corev1.ResourceList) []corev1.LimitRange {
		return []corev1.LimitRange{{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{
			{Type: corev1.LimitTypeContainer, Max: maxL, Min: minL, MaxLimitRequestRatio: ratio}}}}}
	}
	tests := []struct {
		name           string
		ranges         []corev1.LimitRange
		request, limit string
	}{
		{"none", nil, "128Mi", "1Gi"},
		{"max below the limit", item(corev1.ResourceList{"memory": q("512Mi")}, nil, nil), "128Mi", "512Mi"},
		{"max below the request", item(corev1.ResourceList{"memory": q("100Mi")}, nil, nil), "100Mi", "100Mi"},
		{"min above the limit", item(nil, corev1.ResourceList{"memory": q("2Gi")}, nil), "2Gi", "2Gi"},
		{"limit to request ratio", item(nil, nil, corev1.ResourceList{"memory": q("4")}), "128Mi", "512Mi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Resources(tt.ranges)
			if got.Requests.Memory().String() != tt.request || got.Limits.Memory().String() != tt.limit {
				t.Errorf("memory request %s limit %s, want %s %s", got.Requests.Memory(), got.Limits.Memory(), tt.request, tt.limit)
			}
			if _, ok := got.Limits[corev1.ResourceCPU]; ok {
				t.Error("a CPU limit is set; a LimitRange default should apply")
			}
		})
	}
}
