package prepull

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestImages(t *testing.T) {
	a := &corev1.PodSpec{InitContainers: []corev1.Container{{Image: "reg/init:1"}}, Containers: []corev1.Container{{Image: "reg/app:1"}, {Image: ""}},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "pull"}}}
	b := &corev1.PodSpec{Containers: []corev1.Container{{Image: "reg/app:1"}}, EphemeralContainers: []corev1.EphemeralContainer{
		{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Image: "reg/debug"}}},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "other"}, {Name: "pull"}}}
	got := Images("shop", []*corev1.PodSpec{a, b})
	want := []Want{
		{Namespace: "shop", Image: "reg/app:1", PullSecrets: []string{"other", "pull"}},
		{Namespace: "shop", Image: "reg/debug", PullSecrets: []string{"other", "pull"}},
		{Namespace: "shop", Image: "reg/init:1", PullSecrets: []string{"pull"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Images:\n got %+v\nwant %+v", got, want)
	}
}

func TestObserve(t *testing.T) {
	status := func(s corev1.ContainerStatus) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{s}}}
	}
	waiting := func(reason string) corev1.ContainerState {
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "m"}}
	}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"no status yet", &corev1.Pod{}, ""},
		{"creating", status(corev1.ContainerStatus{State: waiting("ContainerCreating")}), ""},
		{"failed to start after the pull", status(corev1.ContainerStatus{ImageID: "sha256:1",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "StartError", ExitCode: 128}}}), pulled},
		{"start error while waiting, image there", status(corev1.ContainerStatus{ImageID: "sha256:1", State: waiting("RunContainerError")}), pulled},
		{"pull failed", status(corev1.ContainerStatus{State: waiting("ErrImagePull")}), "ErrImagePull: m"},
		{"back-off", status(corev1.ContainerStatus{State: waiting("ImagePullBackOff")}), "ImagePullBackOff: m"},
		{"deadline", &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "DeadlineExceeded"}}, "the puller failed: DeadlineExceeded "},
	}
	for _, tt := range tests {
		if got := observe(tt.pod); got != tt.want {
			t.Errorf("%s: observe = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestPuller(t *testing.T) {
	p := puller("ferry-pull-x", "m1", map[string]string{"ferry.dev/plan": "p"}, Want{Namespace: "shop", Image: "reg/app:1"}, "node-a", nil)
	c := p.Spec.Containers[0]
	if p.Spec.NodeName != "node-a" || c.Image != "reg/app:1" || len(c.Command) != 1 || c.Command[0] != noCommand || len(c.Args) != 0 {
		t.Errorf("puller runs something or lands elsewhere: %+v", p.Spec)
	}
	if *p.Spec.AutomountServiceAccountToken || p.Labels[LabelComponent] != ComponentPuller || p.Labels["ferry.dev/migration"] != "m1" || p.Labels["ferry.dev/plan"] != "p" {
		t.Errorf("puller labels or token: %+v %v", p.Labels, *p.Spec.AutomountServiceAccountToken)
	}
	if a, b := pullerName("m1", Want{Namespace: "shop", Image: "x"}, "n"), pullerName("m1", Want{Namespace: "shop", Image: "x"}, "n2"); a == b || len(a) > 63 {
		t.Errorf("puller names %q %q", a, b)
	}
}
