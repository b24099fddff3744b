package usage

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
)

const gib = 1 << 30

func TestClaimFigures(t *testing.T) {
	node := &fsStats{CapacityBytes: ptr.To[int64](100 * gib), UsedBytes: ptr.To[int64](40 * gib)}
	vol := func(ns, name string, capacity, used int64) volumeStats {
		v := volumeStats{fsStats: fsStats{CapacityBytes: ptr.To(capacity), UsedBytes: ptr.To(used), InodesUsed: ptr.To[int64](12)}}
		v.PVCRef = &struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		}{ns, name}
		return v
	}
	tests := []struct {
		name     string
		volume   volumeStats
		capacity int64
		want     bool
	}{
		{"the volume's own file system", vol("shop", "data", 10*gib-100<<20, 3*gib), 10 * gib, true},
		{"a shared file system reports the node's disk", vol("shop", "data", 100*gib, 40*gib), 1 * gib, false},
		{"an export much larger than the claim", vol("shop", "data", 500*gib, 200*gib), 10 * gib, false},
		{"another claim", vol("shop", "other", 10*gib, gib), 10 * gib, false},
		{"no capacity figure", volumeStats{fsStats: fsStats{UsedBytes: ptr.To[int64](1)}, PVCRef: vol("shop", "data", 0, 0).PVCRef}, 10 * gib, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &summary{}
			s.Node.Fs = node
			s.Pods = append(s.Pods, struct {
				Volumes []volumeStats `json:"volume"`
			}{Volumes: []volumeStats{tt.volume}})
			f, ok := claimFigures(s, "shop", "data", tt.capacity)
			if ok != tt.want {
				t.Fatalf("figures taken = %v, want %v", ok, tt.want)
			}
			if ok && (*f.UsedBytes != *tt.volume.UsedBytes || *f.InodesUsed != 12) {
				t.Errorf("figures %+v", f)
			}
		})
	}
}

func TestReadPodOutcome(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	m := &Measurer{Now: func() time.Time { return now }}
	terminated := func(phase corev1.PodPhase, msg string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(now.Add(-time.Minute))},
			Status: corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{
				Terminated: &corev1.ContainerStateTerminated{Message: msg}}}}}}
	}
	pending := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(now.Add(-PodTimeout - time.Second))},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled,
			Status: corev1.ConditionFalse, Message: "0/1 nodes are available: 1 node(s) had volume node affinity conflict"}}}}
	tests := []struct {
		name        string
		pod         *corev1.Pod
		wantUsed    int64
		wantUnknown string
	}{
		{"result", terminated(corev1.PodSucceeded, `{"bytes":4096,"apparentBytes":10,"inodes":2,"skipped":0}`), 4096, ""},
		{"result that is not JSON", terminated(corev1.PodSucceeded, "hello"), 0, "is not the JSON of `ferry mover usage`"},
		{"failed", terminated(corev1.PodFailed, "Error: open source root: permission denied"), 0, "the measurement pod failed: Error: open source root: permission denied"},
		{"not scheduled in time", pending, 0, "did not finish within 3m0s: not scheduled: 0/1 nodes are available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.pod.Namespace, tt.pod.Name = "shop", "ferry-usage-x"
			kube := fake.NewClientset(tt.pod)
			m.Source = &cluster.Clients{Name: "src", Kube: kube}
			u, err := m.readPod(context.Background(), tt.pod)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := kube.CoreV1().Pods("shop").Get(context.Background(), tt.pod.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("pod not deleted after it was read (%v)", err)
			}
			if tt.wantUnknown != "" {
				if u.Known() || !strings.Contains(u.Unknown, tt.wantUnknown) {
					t.Errorf("usage %+v, want unknown with %q", u, tt.wantUnknown)
				}
				return
			}
			if !u.Known() || *u.UsedBytes != tt.wantUsed || *u.UsedInodes != 2 || u.Method != ferryv1.UsagePod || !u.MeasuredAt.Time.Equal(now) {
				t.Errorf("usage %+v, want %d bytes and 2 inodes by a pod at %s", u, tt.wantUsed, now)
			}
		})
	}
	running := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "ferry-usage-y", CreationTimestamp: metav1.NewTime(now)},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	m.Source = &cluster.Clients{Name: "src", Kube: fake.NewClientset(running)}
	if u, err := m.readPod(context.Background(), running); u != nil || err != nil {
		t.Errorf("a running pod gave %+v, %v; want nothing yet", u, err)
	}
}

func TestFresh(t *testing.T) {
	now := time.Now()
	m := &Measurer{Now: func() time.Time { return now }}
	at := func(ago time.Duration) metav1.Time { return metav1.NewTime(now.Add(-ago)) }
	tests := []struct {
		name   string
		u      ferryv1.VolumeUsage
		owners bool
		want   bool
	}{
		{"figures younger than MaxAge", ferryv1.VolumeUsage{UsedBytes: ptr.To[int64](1), MeasuredAt: at(MaxAge - time.Second)}, false, true},
		{"figures older than MaxAge", ferryv1.VolumeUsage{UsedBytes: ptr.To[int64](1), MeasuredAt: at(MaxAge + time.Second)}, false, false},
		{"a failure younger than RetryAfter", ferryv1.VolumeUsage{Unknown: "x", MeasuredAt: at(RetryAfter - time.Second)}, false, true},
		{"a failure older than RetryAfter", ferryv1.VolumeUsage{Unknown: "x", MeasuredAt: at(RetryAfter + time.Second)}, false, false},
		{"the kubelet's figures of a claim that needs no owners", ferryv1.VolumeUsage{UsedBytes: ptr.To[int64](1), Method: ferryv1.UsageKubelet, MeasuredAt: at(time.Second)}, false, true},
		{"the kubelet's figures of a claim that needs its owners", ferryv1.VolumeUsage{UsedBytes: ptr.To[int64](1), Method: ferryv1.UsageKubelet, MeasuredAt: at(time.Second)}, true, false},
		{"a pod's figures of a claim that needs its owners", ferryv1.VolumeUsage{UsedBytes: ptr.To[int64](1), Method: ferryv1.UsagePod, MeasuredAt: at(time.Second)}, true, true},
	}
	for _, tt := range tests {
		if got := m.fresh(Claim{Owners: tt.owners}, tt.u); got != tt.want {
			t.Errorf("%s: fresh = %v, want %v", tt.name, got, tt.want)
		}
	}
}
