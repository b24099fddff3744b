//go:build envtest

package planctl_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/controller"
	"ferry.dev/ferry/internal/testenv"
)

// The test runs the whole controller against a real API server without
// nodes: measurement pods are created but never run, so the test plays
// the kubelet and writes their end into their status.

const (
	ferryNS     = "ferry-system"
	localName   = "local"
	waitTimeout = 60 * time.Second
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

func startController(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ferryNS}},
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, Provisioner: "kubernetes.io/host-path"},
		&ferryv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: localName}, Spec: ferryv1.ClusterSpec{IsHost: true}},
	} {
		if err := env.Client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create %T: %v", obj, err)
		}
	}
	mgr, err := controller.NewManager(env.Config, controller.Options{Namespace: ferryNS, MoverImage: "ferry:envtest", ReleaseOnCancel: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller: %v", err)
		}
	})
}

// sourceClaim creates a namespace with the claim data requesting 16Mi.
func sourceClaim(t *testing.T) string {
	t.Helper()
	ns := "usage-" + rand.String(6)
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "data"},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName: ptr.To("standard"),
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("16Mi")}}}},
	} {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	return ns
}

// waitPlan waits until the plan's Ready condition has the reason and
// returns the plan.
func waitPlan(t *testing.T, name, reason string) *ferryv1.Plan {
	t.Helper()
	var p ferryv1.Plan
	var cond *metav1.Condition
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ferryNS, Name: name}, &p); err != nil {
			return false, nil
		}
		cond = meta.FindStatusCondition(p.Status.Conditions, ferryv1.ConditionReady)
		return cond != nil && cond.Reason == reason && p.Status.ObservedGeneration == p.Generation, nil
	})
	if err != nil {
		t.Fatalf("plan %s: Ready %+v, want reason %s: %v", name, cond, reason, err)
	}
	return &p
}

// measurementPod waits for the one measurement pod of the plan in ns.
func measurementPod(t *testing.T, ns, plan string) *corev1.Pod {
	t.Helper()
	var l corev1.PodList
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		err := env.Client.List(ctx, &l, client.InNamespace(ns), client.MatchingLabels{ferryv1.LabelPlan: plan, "ferry.dev/mover-role": "usage"})
		return err == nil && len(l.Items) == 1, nil
	})
	if err != nil {
		t.Fatalf("no measurement pod of plan %s in %s (%d pods): %v", plan, ns, len(l.Items), err)
	}
	return &l.Items[0]
}

// finish ends the pod as the kubelet would, with phase and the
// container's termination message.
func finish(t *testing.T, pod *corev1.Pod, phase corev1.PodPhase, message string) {
	t.Helper()
	pod.Status.Phase = phase
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "mover", Image: pod.Spec.Containers[0].Image,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: map[bool]int32{true: 0, false: 1}[phase == corev1.PodSucceeded], Message: message}}}}
	if err := env.Client.Status().Update(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
}

// podGone waits until the pod is deleted.
func podGone(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(pod), &corev1.Pod{})), nil
	})
	if err != nil {
		t.Fatalf("measurement pod %s not deleted: %v", pod.Name, err)
	}
}

// TestPlanMeasuresUsageEnvtest follows a plan whose claim holds more
// data than it requests: Measuring while its pod runs, refused with both
// figures once the pod reported, Ready with the proposal as the target
// capacity once spec.autoResize is set.
func TestPlanMeasuresUsageEnvtest(t *testing.T) {
	startController(t)
	ctx := context.Background()
	ns := sourceClaim(t)
	p := &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: "plan-" + rand.String(6)},
		Spec: ferryv1.PlanSpec{SourceCluster: localName, DestinationCluster: localName, Namespaces: []string{ns + ":" + ns + "-dst"}}}
	if err := env.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}

	got := waitPlan(t, p.Name, ferryv1.ReasonMeasuring)
	if c := meta.FindStatusCondition(got.Status.Conditions, ferryv1.ConditionReady); !strings.Contains(c.Message, "measuring used space of 1 claims") {
		t.Errorf("Ready message %q", c.Message)
	}
	pod := measurementPod(t, ns, p.Name)
	if v := pod.Spec.Volumes[0].PersistentVolumeClaim; v == nil || v.ClaimName != "data" || !v.ReadOnly {
		t.Errorf("pod volume %+v, want the claim data read-only", pod.Spec.Volumes[0])
	}
	if args := strings.Join(pod.Spec.Containers[0].Args, " "); args != "mover usage /data --result-file /dev/termination-log" {
		t.Errorf("pod args %q", args)
	}
	const used = 40 << 20
	finish(t, pod, corev1.PodSucceeded, fmt.Sprintf(`{"bytes":%d,"apparentBytes":%d,"inodes":3,"skipped":0}`, used, used))

	got = waitPlan(t, p.Name, ferryv1.ReasonInsufficientCapacity)
	podGone(t, pod)
	c := meta.FindStatusCondition(got.Status.Conditions, ferryv1.ConditionReady)
	for _, want := range []string{"claim " + ns + "/data data holds 40.0 MiB, destination capacity 16.0 MiB", "--auto-resize, proposed 1Gi"} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("Ready message %q does not say %q", c.Message, want)
		}
	}
	if len(got.Status.Usage) != 1 || got.Status.Usage[0].UsedBytes == nil || *got.Status.Usage[0].UsedBytes != used ||
		got.Status.Usage[0].Method != ferryv1.UsagePod {
		t.Errorf("status.usage = %+v, want 40 MiB measured by a pod", got.Status.Usage)
	}
	if len(got.Status.PersistentVolumeClaims) != 1 || got.Status.PersistentVolumeClaims[0].ProposedCapacity != "1Gi" {
		t.Errorf("claims = %+v, want data with the proposal 1Gi", got.Status.PersistentVolumeClaims)
	}

	patch := client.MergeFrom(got.DeepCopy())
	got.Spec.AutoResize = true
	if err := env.Client.Patch(ctx, got, patch); err != nil {
		t.Fatal(err)
	}
	got = waitPlan(t, p.Name, ferryv1.ReasonReady)
	if pvc := got.Status.PersistentVolumeClaims[0]; pvc.TargetCapacity != "1Gi" || pvc.Usage == nil || *pvc.Usage.UsedBytes != used {
		t.Errorf("claim %+v, want target capacity 1Gi from the figures measured before", pvc)
	}
}

// TestPlanMeasurementFailsEnvtest: a measurement pod that fails leaves
// the figures unknown, with why; that blocks only a plan that resizes by
// them, and the plan's deletion takes its measurement pods.
func TestPlanMeasurementFailsEnvtest(t *testing.T) {
	startController(t)
	ctx := context.Background()
	ns := sourceClaim(t)
	p := &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: "plan-" + rand.String(6)},
		Spec: ferryv1.PlanSpec{SourceCluster: localName, DestinationCluster: localName, Namespaces: []string{ns + ":" + ns + "-dst"}, AutoResize: true}}
	if err := env.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	pod := measurementPod(t, ns, p.Name)
	finish(t, pod, corev1.PodFailed, "Error: measure usage of /data: open source root: permission denied")
	got := waitPlan(t, p.Name, ferryv1.ReasonUsageUnknown)
	podGone(t, pod)
	c := meta.FindStatusCondition(got.Status.Conditions, ferryv1.ConditionReady)
	if !strings.Contains(c.Message, "the measurement pod failed: Error: measure usage of /data: open source root: permission denied") ||
		!strings.Contains(c.Message, "--pvc "+ns+"/data:capacity=SIZE") {
		t.Errorf("Ready message %q, want the pod's error and what to do", c.Message)
	}

	patch := client.MergeFrom(got.DeepCopy())
	got.Spec.AutoResize = false
	if err := env.Client.Patch(ctx, got, patch); err != nil {
		t.Fatal(err)
	}
	waitPlan(t, p.Name, ferryv1.ReasonReady)

	// Measured again once the failure is old: a new pod, which the
	// plan's deletion removes.
	got = waitPlan(t, p.Name, ferryv1.ReasonReady)
	got.Status.Usage[0].MeasuredAt = metav1.NewTime(time.Now().Add(-time.Hour))
	if err := env.Client.Status().Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	pod = measurementPod(t, ns, p.Name)
	if err := env.Client.Delete(ctx, got); err != nil {
		t.Fatal(err)
	}
	podGone(t, pod)
}
