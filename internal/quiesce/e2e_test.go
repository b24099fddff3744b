//go:build e2e

package quiesce

// Tests against a real API server: the src cluster of the local test bed
// (make clusters-up images), reached through test/harness; they skip when
// it is not set up. Run with
//
//	go test -tags e2e -count=1 ./internal/quiesce/

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// e2eEnv is a client of the test cluster and a fresh namespace in it.
type e2eEnv struct {
	c     client.Client
	ns    string
	image string
}

// setup connects to the test cluster, or skips the test when there is none,
// and creates a namespace that is deleted when the test ends.
func setup(t *testing.T) (context.Context, *e2eEnv) {
	t.Helper()
	c := harness.LocalOrSkip(t, "src")
	ctx := log.IntoContext(t.Context(), testr.New(t))
	return ctx, &e2eEnv{c: c.Client, ns: c.Namespace(t, "quiesce-e2e"), image: c.Image(t, "tools")}
}

// podTemplate runs sleep in the tools image. With a short grace period
// the pods go quickly: sleep, as PID 1, ignores SIGTERM.
func (e *e2eEnv) podTemplate(app string, grace int64, restart corev1.RestartPolicy) corev1.PodTemplateSpec {
	return harness.NewPod(e.ns, app, e.image, "sleep", "3600").Restart(restart).Grace(grace).PullIfNotPresent().Template()
}

func (e *e2eEnv) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: e.ns}
}

func selector(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

// workloads returns one workload of every case Quiesce handles, by "Kind/name".
func (e *e2eEnv) workloads() map[string]client.Object {
	always := corev1.RestartPolicyAlways
	never := corev1.RestartPolicyNever
	agentSel := e.podTemplate("agent-sel", 1, always)
	agentSel.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
	// A schedule that does not come during the test.
	const schedule = "0 0 1 1 *"
	jobTemplate := batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: e.podTemplate("cron", 1, never)}}
	return map[string]client.Object{
		"Deployment/web": &appsv1.Deployment{ObjectMeta: e.meta("web"), Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2), Selector: selector("web"), Template: e.podTemplate("web", 1, always)}},
		"StatefulSet/db": &appsv1.StatefulSet{ObjectMeta: e.meta("db"), Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](1), ServiceName: "db", Selector: selector("db"), Template: e.podTemplate("db", 1, always)}},
		"StatefulSet/db-unset": &appsv1.StatefulSet{ObjectMeta: e.meta("db-unset"), Spec: appsv1.StatefulSetSpec{
			ServiceName: "db-unset", Selector: selector("db-unset"), Template: e.podTemplate("db-unset", 1, always)}},
		"ReplicaSet/standalone": &appsv1.ReplicaSet{ObjectMeta: e.meta("standalone"), Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To[int32](1), Selector: selector("standalone"), Template: e.podTemplate("standalone", 1, always)}},
		"DaemonSet/agent": &appsv1.DaemonSet{ObjectMeta: e.meta("agent"), Spec: appsv1.DaemonSetSpec{
			Selector: selector("agent"), Template: e.podTemplate("agent", 1, always)}},
		"DaemonSet/agent-sel": &appsv1.DaemonSet{ObjectMeta: e.meta("agent-sel"), Spec: appsv1.DaemonSetSpec{
			Selector: selector("agent-sel"), Template: agentSel}},
		"CronJob/nightly": &batchv1.CronJob{ObjectMeta: e.meta("nightly"), Spec: batchv1.CronJobSpec{
			Schedule: schedule, JobTemplate: jobTemplate}},
		"CronJob/hourly": &batchv1.CronJob{ObjectMeta: e.meta("hourly"), Spec: batchv1.CronJobSpec{
			Schedule: schedule, Suspend: ptr.To(false), JobTemplate: jobTemplate}},
		"Job/once": &batchv1.Job{ObjectMeta: e.meta("once"), Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](0), Template: e.podTemplate("once", 1, never)}},
	}
}

// get fetches the current state of every workload.
func (e *e2eEnv) get(ctx context.Context, t *testing.T, objs map[string]client.Object) map[string]client.Object {
	t.Helper()
	out := map[string]client.Object{}
	for ref, obj := range objs {
		fresh := obj.DeepCopyObject().(client.Object)
		if err := e.c.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
			t.Fatalf("get %s: %v", ref, err)
		}
		out[ref] = fresh
	}
	return out
}

// runningPods returns the names of the pods in the namespace that are
// running and not being deleted.
func (e *e2eEnv) runningPods(ctx context.Context) ([]string, error) {
	var pods corev1.PodList
	if err := e.c.List(ctx, &pods, client.InNamespace(e.ns)); err != nil {
		return nil, err
	}
	var names []string
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// waitPods waits until n pods run whose names start with one of prefixes.
func (e *e2eEnv) waitPods(ctx context.Context, t *testing.T, n int, prefixes ...string) {
	t.Helper()
	harness.Eventually(ctx, t, time.Second, 3*time.Minute, "pods to run", func(ctx context.Context) (bool, string, error) {
		names, err := e.runningPods(ctx)
		if err != nil {
			return false, "", err
		}
		got := 0
		for _, name := range names {
			for _, p := range prefixes {
				if strings.HasPrefix(name, p) {
					got++
					break
				}
			}
		}
		return got >= n, fmt.Sprintf("%d of %d running: %v", got, n, names), nil
	})
}

// spec returns the spec of a workload.
func spec(obj client.Object) any {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return o.Spec
	case *appsv1.StatefulSet:
		return o.Spec
	case *appsv1.ReplicaSet:
		return o.Spec
	case *appsv1.DaemonSet:
		return o.Spec
	case *batchv1.CronJob:
		return o.Spec
	case *batchv1.Job:
		return o.Spec
	}
	panic(fmt.Sprintf("no spec for %T", obj))
}

// kindOf returns the kind that handles the workload named ref.
func kindOf(ref string) kind {
	name, _, _ := strings.Cut(ref, "/")
	for _, k := range quiesceOrder {
		if k.name == name {
			return k
		}
	}
	panic("no kind " + name)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestQuiesceUnquiesce(t *testing.T) {
	ctx, e := setup(t)
	objs := e.workloads()
	for ref, obj := range objs {
		if err := e.c.Create(ctx, obj); err != nil {
			t.Fatalf("create %s: %v", ref, err)
		}
	}
	bare := &corev1.Pod{ObjectMeta: e.meta("bare"), Spec: e.podTemplate("bare", 1, corev1.RestartPolicyAlways).Spec}
	if err := e.c.Create(ctx, bare); err != nil {
		t.Fatalf("create bare pod: %v", err)
	}
	// web 2, db 1, db-unset 1, standalone 1, agent 1, agent-sel 1, once 1.
	e.waitPods(ctx, t, 8, "web-", "db-", "standalone-", "agent-", "once-")
	before := e.get(ctx, t, objs)

	// The annotations Quiesce is expected to record, from the specs the
	// server returned (it defaults unset replicas and suspend, so
	// db-unset records "1" and nightly "false").
	originals := map[string]string{
		"Deployment/web":        "2",
		"StatefulSet/db":        "1",
		"StatefulSet/db-unset":  EncodeReplicas(before["StatefulSet/db-unset"].(*appsv1.StatefulSet).Spec.Replicas),
		"ReplicaSet/standalone": "1",
		"DaemonSet/agent":       "",
		"DaemonSet/agent-sel":   `{"kubernetes.io/os":"linux"}`,
		"CronJob/nightly":       EncodeSuspend(before["CronJob/nightly"].(*batchv1.CronJob).Spec.Suspend),
		"CronJob/hourly":        "false",
		"Job/once":              "false",
	}
	allRefs := slices.Sorted(func(yield func(string) bool) {
		for ref := range objs {
			if !yield(ref) {
				return
			}
		}
	})

	rep, err := Quiesce(ctx, e.c, e.ns, "migration-1")
	if err != nil {
		t.Fatalf("Quiesce: %v", err)
	}
	if got := slices.Sorted(slices.Values(rep.Changed)); !slices.Equal(got, allRefs) {
		t.Errorf("Quiesce changed %v, want %v", got, allRefs)
	}
	if len(rep.Unchanged) != 0 {
		t.Errorf("Quiesce left %v unchanged, want none", rep.Unchanged)
	}
	if want := []string{"Pod/bare"}; !slices.Equal(rep.Unmanaged, want) {
		t.Errorf("Quiesce reported unmanaged pods %v, want %v", rep.Unmanaged, want)
	}

	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = Wait(waitCtx, e.c, e.ns, time.Second)
	cancel()
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if names, err := e.runningPods(ctx); err != nil {
		t.Fatal(err)
	} else if !slices.Equal(names, []string{"bare"}) {
		t.Errorf("after Wait, running pods are %v, want only the bare pod", names)
	}

	quiesced := e.get(ctx, t, objs)
	for ref, obj := range quiesced {
		k := kindOf(ref)
		if !k.field.isQuiesced(obj) {
			t.Errorf("%s is not quiesced: spec %s", ref, mustJSON(spec(obj)))
		}
		ann := obj.GetAnnotations()
		if got := ann[ferryv1.AnnotationQuiescedBy]; got != "migration-1" {
			t.Errorf("%s: annotation %s = %q, want %q", ref, ferryv1.AnnotationQuiescedBy, got, "migration-1")
		}
		if got, ok := ann[k.field.annotation]; !ok || got != originals[ref] {
			t.Errorf("%s: annotation %s = %q (present %v), want %q", ref, k.field.annotation, got, ok, originals[ref])
		}
	}
	ds := quiesced["DaemonSet/agent-sel"].(*appsv1.DaemonSet)
	if want := map[string]string{"kubernetes.io/os": "linux", ferryv1.QuiesceNodeSelectorKey: "true"}; !reflect.DeepEqual(ds.Spec.Template.Spec.NodeSelector, want) {
		t.Errorf("DaemonSet/agent-sel node selector = %v, want %v", ds.Spec.Template.Spec.NodeSelector, want)
	}

	// Quiesce again: nothing to do, and the originals stay.
	rep, err = Quiesce(ctx, e.c, e.ns, "migration-2")
	if err != nil {
		t.Fatalf("second Quiesce: %v", err)
	}
	if len(rep.Changed) != 0 {
		t.Errorf("second Quiesce changed %v, want nothing", rep.Changed)
	}
	if got := slices.Sorted(slices.Values(rep.Unchanged)); !slices.Equal(got, allRefs) {
		t.Errorf("second Quiesce left %v unchanged, want %v", got, allRefs)
	}
	for ref, obj := range e.get(ctx, t, objs) {
		if got, want := obj.GetAnnotations(), quiesced[ref].GetAnnotations(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: annotations after second Quiesce = %v, want %v", ref, got, want)
		}
	}

	rep, err = Unquiesce(ctx, e.c, e.ns)
	if err != nil {
		t.Fatalf("Unquiesce: %v", err)
	}
	if got := slices.Sorted(slices.Values(rep.Changed)); !slices.Equal(got, allRefs) {
		t.Errorf("Unquiesce changed %v, want %v", got, allRefs)
	}
	for ref, obj := range e.get(ctx, t, objs) {
		if !apiequality.Semantic.DeepEqual(spec(obj), spec(before[ref])) {
			t.Errorf("%s: spec after Unquiesce differs from before Quiesce\n got %s\nwant %s", ref, mustJSON(spec(obj)), mustJSON(spec(before[ref])))
		}
		for _, a := range Annotations {
			if v, ok := obj.GetAnnotations()[a]; ok {
				t.Errorf("%s: annotation %s=%q left after Unquiesce", ref, a, v)
			}
		}
	}

	rep, err = Unquiesce(ctx, e.c, e.ns)
	if err != nil {
		t.Fatalf("second Unquiesce: %v", err)
	}
	if len(rep.Changed) != 0 {
		t.Errorf("second Unquiesce changed %v, want nothing", rep.Changed)
	}

	// The Deployment's ReplicaSets lose the annotations the deployment
	// controller copied to them, so nothing counts as quiesced any more.
	var rss appsv1.ReplicaSetList
	if err := e.c.List(ctx, &rss, client.InNamespace(e.ns)); err != nil {
		t.Fatal(err)
	}
	for _, rs := range rss.Items {
		for _, a := range Annotations {
			if v, ok := rs.Annotations[a]; ok {
				t.Errorf("ReplicaSet/%s: annotation %s=%q left after Unquiesce", rs.Name, a, v)
			}
		}
	}
	if running, err := Running(ctx, e.c, e.ns); err != nil {
		t.Fatalf("Running: %v", err)
	} else if len(running) != 0 {
		t.Errorf("Running after Unquiesce = %v, want none", running)
	}

	// The application comes back.
	harness.Eventually(ctx, t, time.Second, 3*time.Minute, "Deployment/web back to 2 ready replicas", func(ctx context.Context) (bool, string, error) {
		var d appsv1.Deployment
		if err := e.c.Get(ctx, client.ObjectKeyFromObject(objs["Deployment/web"]), &d); err != nil {
			return false, "", err
		}
		return d.Status.ReadyReplicas == 2, fmt.Sprintf("ready replicas %d", d.Status.ReadyReplicas), nil
	})
	e.waitPods(ctx, t, 8, "web-", "db-", "standalone-", "agent-", "once-")
}

// TestWaitTimeoutNamesPods checks that Wait, when its context ends, names
// the pods of quiesced workloads that still run.
func TestWaitTimeoutNamesPods(t *testing.T) {
	ctx, e := setup(t)
	// A pod that takes 20 s to stop: sleep ignores SIGTERM.
	slow := &appsv1.Deployment{ObjectMeta: e.meta("slow"), Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1), Selector: selector("slow"), Template: e.podTemplate("slow", 20, corev1.RestartPolicyAlways)}}
	if err := e.c.Create(ctx, slow); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	e.waitPods(ctx, t, 1, "slow-")
	names, err := e.runningPods(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := Quiesce(ctx, e.c, e.ns, "migration-1"); err != nil {
		t.Fatalf("Quiesce: %v", err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	err = Wait(waitCtx, e.c, e.ns, 500*time.Millisecond)
	if err == nil {
		t.Fatal("Wait returned nil while a pod was still stopping")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait error %v does not wrap context.DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), names[0]+" (Running)") {
		t.Errorf("Wait error %q does not name pod %s", err, names[0])
	}

	running, err := Running(ctx, e.c, e.ns)
	if err != nil {
		t.Fatalf("Running: %v", err)
	}
	if want := []string{names[0] + " (Running)"}; !slices.Equal(running, want) {
		t.Errorf("Running = %v, want %v", running, want)
	}
}
