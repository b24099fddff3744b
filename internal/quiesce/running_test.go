package quiesce

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func pod(name string, phase corev1.PodPhase, controller types.UID) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{Phase: phase}}
	if controller != "" {
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "X", Name: "x", UID: controller, Controller: ptr.To(true)}}
	}
	return p
}

func ferryPod(p corev1.Pod) corev1.Pod {
	p.Labels = map[string]string{ferryv1.LabelManagedBy: ferryv1.ManagedByValue}
	return p
}

func TestPodClassification(t *testing.T) {
	idx := index{
		"deploy":    {quiesced: true},
		"deploy-rs": {controller: "deploy"},
		"sts":       {quiesced: true},
		"other-sts": {},
		"cron":      {quiesced: true},
		"cron-job":  {controller: "cron"},
		"job":       {quiesced: true},
	}
	tests := []struct {
		name      string
		pod       corev1.Pod
		running   bool
		unmanaged bool
	}{
		{name: "pod of a quiesced deployment's replicaset", pod: pod("web-1", corev1.PodRunning, "deploy-rs"), running: true},
		{name: "pending pod of a quiesced statefulset", pod: pod("db-0", corev1.PodPending, "sts"), running: true},
		{name: "pod of a cronjob's job", pod: pod("nightly-1", corev1.PodRunning, "cron-job"), running: true},
		{name: "pod of a quiesced job", pod: pod("once-1", corev1.PodRunning, "job"), running: true},
		{name: "succeeded pod", pod: pod("once-2", corev1.PodSucceeded, "job")},
		{name: "failed pod", pod: pod("once-3", corev1.PodFailed, "job")},
		{name: "pod of a workload not quiesced", pod: pod("other-0", corev1.PodRunning, "other-sts")},
		{name: "bare pod", pod: pod("bare", corev1.PodRunning, ""), unmanaged: true},
		{name: "pod of an unknown controller", pod: pod("custom-0", corev1.PodRunning, "custom"), unmanaged: true},
		{name: "terminated bare pod", pod: pod("bare-done", corev1.PodSucceeded, "")},
		{name: "Ferry's own mover", pod: ferryPod(pod("ferry-mover-1-send", corev1.PodRunning, ""))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pods := []corev1.Pod{tt.pod}
			var wantRunning, wantUnmanaged []string
			if tt.running {
				wantRunning = []string{tt.pod.Name + " (" + string(tt.pod.Status.Phase) + ")"}
			}
			if tt.unmanaged {
				wantUnmanaged = []string{tt.pod.Name}
			}
			if got := quiescedPods(idx, pods); !reflect.DeepEqual(got, wantRunning) {
				t.Errorf("quiescedPods = %q, want %q", got, wantRunning)
			}
			if got := unmanagedPods(idx, pods); !reflect.DeepEqual(got, wantUnmanaged) {
				t.Errorf("unmanagedPods = %q, want %q", got, wantUnmanaged)
			}
		})
	}
}

func TestOwnerOf(t *testing.T) {
	deploy := controllerRef("apps/v1", "Deployment", "web")
	tests := []struct {
		name string
		kind kind
		obj  client.Object
		want owner
	}{
		{name: "quiesced deployment", kind: deploymentKind, obj: deployment(nil, quiesced(replicasKey, "2")), want: owner{quiesced: true}},
		{name: "deployment", kind: deploymentKind, obj: deployment(nil, nil), want: owner{}},
		{name: "standalone replicaset", kind: replicaSetKind, obj: replicaSet(nil, quiesced(replicasKey, "1")), want: owner{quiesced: true}},
		{
			name: "replicaset with annotations copied from its deployment",
			kind: replicaSetKind,
			obj:  replicaSet(nil, quiesced(replicasKey, "2"), deploy),
			want: owner{controller: deploy.UID},
		},
		{
			name: "quiesced job of a cronjob",
			kind: jobKind,
			obj:  withOwner(job(nil, quiesced(suspendKey, "false")), controllerRef("batch/v1", "CronJob", "nightly")),
			want: owner{quiesced: true, controller: "uid-nightly"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ownerOf(tt.kind, tt.obj); got != tt.want {
				t.Fatalf("ownerOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// withOwner sets the owner references of obj and returns it.
func withOwner(obj client.Object, refs ...metav1.OwnerReference) client.Object {
	obj.SetOwnerReferences(refs)
	return obj
}
