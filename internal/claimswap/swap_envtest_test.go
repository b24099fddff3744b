//go:build envtest

package claimswap

import (
	"context"
	"os"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

func claimVolume(claim string) corev1.Volume {
	return corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}
}

func template(claim string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "a"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "a:1"}}, Volumes: []corev1.Volume{claimVolume(claim)}}}
}

// TestSwapInPlaceEnvtest switches a Deployment, a DaemonSet, a CronJob and
// a ReplicaSet of no Deployment to the new claim, leaves a finished Job,
// and switches everything back with the inverted mapping; a bare pod on
// the claim blocks the switch and changes nothing.
func TestSwapInPlaceEnvtest(t *testing.T) {
	ctx := context.Background()
	ns := "swap-" + rand.String(5)
	c := env.Client
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "a"}}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}, Spec: appsv1.DeploymentSpec{Selector: sel, Template: template("data")}},
		&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "agent"}, Spec: appsv1.DaemonSetSpec{Selector: sel, Template: template("data")}},
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "rs"}, Spec: appsv1.ReplicaSetSpec{Selector: sel, Template: template("data")}},
		&batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nightly"}, Spec: batchv1.CronJobSpec{Schedule: "@daily",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: func() corev1.PodTemplateSpec {
				t := template("data")
				t.Spec.RestartPolicy = corev1.RestartPolicyNever
				return t
			}()}}}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other"}, Spec: appsv1.DeploymentSpec{Selector: sel, Template: template("keep")}},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	m := Mapping{"data": "data-fast"}
	rep, err := Check(ctx, c, ns, m)
	if err != nil || len(rep.Problems) > 0 || len(rep.Switched) != 4 {
		t.Fatalf("Check: %+v, %v", rep, err)
	}
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bare"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "a", Image: "a:1"}}, Volumes: []corev1.Volume{claimVolume("data")}}}
	if err := c.Create(ctx, bare); err != nil {
		t.Fatal(err)
	}
	if _, err := Swap(ctx, c, ns, m, nil); err == nil || !strings.Contains(err.Error(), "Pod/bare uses claim data") {
		t.Fatalf("Swap with a bare pod: %v", err)
	}
	assertClaims(t, c, ns, "data")
	if err := c.Delete(ctx, bare); err != nil {
		t.Fatal(err)
	}
	rep, err = Swap(ctx, c, ns, m, nil)
	if err != nil || len(rep.Switched) != 4 {
		t.Fatalf("Swap: %+v, %v", rep, err)
	}
	assertClaims(t, c, ns, "data-fast")
	if rep, err := Swap(ctx, c, ns, m, nil); err != nil || len(rep.Switched) != 0 {
		t.Errorf("second Swap changed %v (%v), want nothing", rep.Switched, err)
	}
	if _, err := Swap(ctx, c, ns, m.Inverse(), nil); err != nil {
		t.Fatal(err)
	}
	assertClaims(t, c, ns, "data")
}

// assertClaims checks the claim the four switched workloads use, and that
// the unrelated Deployment kept its own.
func assertClaims(t *testing.T, c client.Client, ns, want string) {
	t.Helper()
	ctx := context.Background()
	var d appsv1.Deployment
	var ds appsv1.DaemonSet
	var rs appsv1.ReplicaSet
	var cj batchv1.CronJob
	var other appsv1.Deployment
	for name, o := range map[string]client.Object{"web": &d, "agent": &ds, "rs": &rs, "nightly": &cj, "other": &other} {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, o); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]string{
		"Deployment": d.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName,
		"DaemonSet":  ds.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName,
		"ReplicaSet": rs.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName,
		"CronJob":    cj.Spec.JobTemplate.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName,
	}
	for k, v := range got {
		if v != want {
			t.Errorf("%s uses claim %s, want %s", k, v, want)
		}
	}
	if n := other.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName; n != "keep" {
		t.Errorf("the unrelated Deployment uses %s", n)
	}
}
