package migrate

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestPodProblem(t *testing.T) {
	waiting := func(reason, msg string) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}}}
	}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"image pull", waiting("ImagePullBackOff", "no such image"), "container app ImagePullBackOff: no such image"},
		{"crash loop", waiting("CrashLoopBackOff", ""), "container app CrashLoopBackOff"},
		{"still creating", waiting("ContainerCreating", ""), ""},
		{"unschedulable", &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/1 nodes are available"}}}},
			"Unschedulable: 0/1 nodes are available"},
		{"running", &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}, ""},
		{"succeeded", &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}, ""},
	}
	for _, tt := range tests {
		if got := podProblem(tt.pod); got != tt.want {
			t.Errorf("%s: podProblem = %q, want %q", tt.name, got, tt.want)
		}
	}
	h := Health{Waiting: []string{"Deployment a/b (0/1 available)"}, Problems: []string{"pod a/b-1: x"}}
	if s := h.Summary(); !strings.Contains(s, "unhealthy pods: pod a/b-1: x") {
		t.Errorf("summary %q", s)
	}
}
