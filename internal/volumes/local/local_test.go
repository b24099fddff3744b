package local

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

func boundClaim(name, volume string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{VolumeName: volume}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound}}
}

func appPod(node string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "app-0"},
		Spec: corev1.PodSpec{NodeName: node, Volumes: []corev1.Volume{{Name: "d", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

func newTestPath(t *testing.T, objs ...runtime.Object) (*Path, *fake.Clientset) {
	t.Helper()
	kube := fake.NewClientset(objs...)
	p, err := New(Options{Cluster: &cluster.Clients{Name: "src", Kube: kube}, Migration: "m1", Image: "ferry:test", Final: true})
	if err != nil {
		t.Fatal(err)
	}
	return p, kube
}

// TestDecideReads: Decide finds the node a running pod uses the source
// claim on and the destination volume's node affinity.
func TestDecideReads(t *testing.T) {
	n1, n2 := node("n1", nil), node("n2", nil)
	objs := []runtime.Object{&n1, &n2, appPod("n1"), boundClaim("data", "pv-a"), boundClaim("data-fast", "pv-b"), pv("pv-a")}
	for _, tt := range []struct {
		dstHost string
		want    Verdict
	}{{"n1", Local}, {"n2", Direct}} {
		kube := fake.NewClientset(append(slices.Clone(objs), pv("pv-b", onHost(tt.dstHost)))...)
		got, err := Decide(context.Background(), kube, testTransfer)
		if err != nil || got.Verdict != tt.want {
			t.Errorf("destination on %s: Decide = %+v, %v; want %s", tt.dstHost, got, err, tt.want)
		}
	}
}

// TestStartPod: the pod mounts the source read-only and the destination
// writable, runs "mover local" with --final, carries the mover labels,
// runs as the mover pods do, and is pinned by node affinity to the node
// where the source claim is in use.
func TestStartPod(t *testing.T) {
	p, kube := newTestPath(t, appPod("n1"))
	ctx := context.Background()
	if r, err := p.Prepare(ctx, []volumes.Transfer{testTransfer}); err != nil || !r.Ready {
		t.Fatalf("Prepare = %+v, %v", r, err)
	}
	if _, err := p.Start(ctx, testTransfer); err != nil {
		t.Fatal(err)
	}
	pod, err := kube.CoreV1().Pods("shop").Get(ctx, podName("m1", testTransfer), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := pod.Spec.Containers[0]
	wantArgs := []string{"mover", "local", "--source", "/source", "--destination", "/data", "--delete", "--progress=json", "--final"}
	if !slices.Equal(c.Args, wantArgs) || c.Image != "ferry:test" {
		t.Errorf("container %s %v, want ferry:test %v", c.Image, c.Args, wantArgs)
	}
	mounts := map[string]bool{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.ReadOnly
	}
	claims := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		claims[v.PersistentVolumeClaim.ClaimName] = v.PersistentVolumeClaim.ReadOnly
	}
	if len(mounts) != 2 || !mounts["/source"] || mounts["/data"] || !claims["data"] || claims["data-fast"] {
		t.Errorf("mounts %v, claims %v; want the source read-only, the destination writable", mounts, claims)
	}
	if !moverpod.IsMoverPod(pod.Labels) || pod.Labels[moverpod.LabelRole] != moverpod.RoleLocal {
		t.Errorf("labels %v", pod.Labels)
	}
	if sc := pod.Spec.SecurityContext; sc == nil || *sc.RunAsUser != 0 || *c.SecurityContext.AllowPrivilegeEscalation || *pod.Spec.AutomountServiceAccountToken {
		t.Errorf("security: %+v %+v", pod.Spec.SecurityContext, c.SecurityContext)
	}
	terms := pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if pod.Spec.NodeName != "" || len(terms) != 1 || terms[0].MatchFields[0].Values[0] != "n1" {
		t.Errorf("placement: nodeName %q, terms %+v; want affinity to n1", pod.Spec.NodeName, terms)
	}
	if msg, err := p.Start(ctx, testTransfer); err != nil || msg != "" {
		t.Errorf("second Start = %q, %v; want nothing to do", msg, err)
	}
}

// TestObserve: the round's state follows the pod's.
func TestObserve(t *testing.T) {
	terminated := func(code int32) corev1.PodStatus {
		return corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}}}
	}
	tests := []struct {
		name      string
		status    *corev1.PodStatus
		deleting  bool
		want      volumes.RoundState
		permanent bool
	}{
		{"no pod", nil, false, volumes.RoundNotStarted, false},
		{"pending", &corev1.PodStatus{Phase: corev1.PodPending}, false, volumes.RoundStarting, false},
		{"running", &corev1.PodStatus{Phase: corev1.PodRunning}, false, volumes.RoundRunning, false},
		{"succeeded", &corev1.PodStatus{Phase: corev1.PodSucceeded}, false, volumes.RoundDone, false},
		{"failed, a rerun may help", ptr.To(terminated(1)), false, volumes.RoundFailed, false},
		{"failed, destination full", ptr.To(terminated(3)), false, volumes.RoundFailed, true},
		{"deleted", &corev1.PodStatus{Phase: corev1.PodFailed}, true, volumes.RoundTerminating, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs []runtime.Object
			if tt.status != nil {
				pod := copyPod(Options{Migration: "m1", Image: "ferry:test"}, testTransfer, "", moverpod.Env{})
				pod.Status = *tt.status
				if tt.deleting {
					pod.DeletionTimestamp = ptr.To(metav1.Now())
					pod.Finalizers = []string{"test"}
				}
				objs = append(objs, pod)
			}
			p, _ := newTestPath(t, objs...)
			obs, err := p.Observe(context.Background(), testTransfer)
			if err != nil || obs.State != tt.want || obs.Failure.Permanent != tt.permanent {
				t.Errorf("Observe = %+v, %v; want %s, permanent %v", obs, err, tt.want, tt.permanent)
			}
		})
	}
}

// TestResetAndCleanup: Reset deletes the transfer's pod and says gone
// once it is; Cleanup deletes every pod of the migration and no other.
func TestResetAndCleanup(t *testing.T) {
	other := testTransfer
	other.SourceClaim = "logs"
	mine := copyPod(Options{Migration: "m1", Image: "i"}, testTransfer, "", moverpod.Env{})
	second := copyPod(Options{Migration: "m1", Image: "i"}, other, "", moverpod.Env{})
	foreign := copyPod(Options{Migration: "m2", Image: "i"}, testTransfer, "", moverpod.Env{})
	p, kube := newTestPath(t, mine, second, foreign)
	ctx := context.Background()
	if gone, err := p.Reset(ctx, testTransfer); err != nil || gone {
		t.Fatalf("Reset = %v, %v; want deleting", gone, err)
	}
	if gone, err := p.Reset(ctx, testTransfer); err != nil || !gone {
		t.Fatalf("second Reset = %v, %v; want gone", gone, err)
	}
	if done, err := p.Cleanup(ctx); err != nil || !done {
		t.Fatalf("Cleanup = %v, %v", done, err)
	}
	pods, _ := kube.CoreV1().Pods("shop").List(ctx, metav1.ListOptions{})
	if len(pods.Items) != 1 || pods.Items[0].Name != foreign.Name {
		t.Errorf("left %d pods, want only the other migration's", len(pods.Items))
	}
}
