//go:build envtest

package images

import (
	"context"
	"os"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

func podSpec(init, main string) corev1.PodSpec {
	sp := corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: main}}}
	if init != "" {
		sp.InitContainers = []corev1.Container{{Name: "init", Image: init}}
	}
	return sp
}

func TestCollect(t *testing.T) {
	ctx := context.Background()
	ns := "images-collect"
	c := env.Client
	sel := map[string]string{"app": "x"}
	tmpl := func(init, main string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: sel}, Spec: podSpec(init, main)}
	}
	jobTmpl := func(main string) corev1.PodTemplateSpec {
		t := tmpl("", main)
		t.Spec.RestartPolicy = corev1.RestartPolicyNever
		return t
	}
	owner := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "0a0a0a0a-0000-0000-0000-000000000001"}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}, Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: sel}, Template: tmpl("reg:5000/ns/init:v1", "reg:5000/ns/web:v1")}},
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-old", Namespace: ns, OwnerReferences: []metav1.OwnerReference{owner}},
			Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: sel}, Template: tmpl("", "reg:5000/ns/owned-by-deployment:v0")}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns}, Spec: appsv1.StatefulSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: sel}, Template: tmpl("", "reg:5000/ns/db:15")}},
		&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: ns}, Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: sel}, Template: tmpl("", "agent:1")}},
		&batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: ns}, Spec: batchv1.CronJobSpec{Schedule: "0 0 * * *",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: jobTmpl("reg:5000/ns/job@" + dig)}}}},
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "once", Namespace: ns}, Spec: batchv1.JobSpec{Suspend: ptr.To(true),
			Template: jobTmpl("reg:5000/ns/once:v1")}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: ns}, Spec: podSpec("", "reg:5000/ns/web:v1")},
		&corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: ns, Labels: map[string]string{"other": "y"}},
			Spec: corev1.ReplicationControllerSpec{Selector: map[string]string{"other": "y"}, Template: &corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"other": "y"}}, Spec: podSpec("", "reg:5000/ns/legacy:v1")}}},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("create %T: %v", o, err)
		}
	}
	// An ephemeral container (kubectl debug) is added through its subresource.
	var pod corev1.Pod
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "bare"}, &pod); err != nil {
		t.Fatal(err)
	}
	pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "reg:5000/ns/debug:v1"}}}
	if err := c.SubResource("ephemeralcontainers").Update(ctx, &pod); err != nil {
		t.Fatalf("add an ephemeral container: %v", err)
	}
	uses, err := Collect(ctx, c, ns, labels.Everything())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, u := range uses {
		got[u.Image] = u.By
	}
	want := map[string]string{
		"agent:1":                "DaemonSet/agent",
		"reg:5000/ns/db:15":      "StatefulSet/db",
		"reg:5000/ns/debug:v1":   "Pod/bare",
		"reg:5000/ns/init:v1":    "Deployment/web",
		"reg:5000/ns/job@" + dig: "CronJob/nightly",
		"reg:5000/ns/legacy:v1":  "ReplicationController/legacy",
		"reg:5000/ns/once:v1":    "Job/once",
		"reg:5000/ns/web:v1":     "Deployment/web",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Collect =\n%v\nwant\n%v", got, want)
	}
	only, err := Collect(ctx, c, ns, labels.SelectorFromSet(map[string]string{"other": "y"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(only) != 1 || only[0].Image != "reg:5000/ns/legacy:v1" {
		t.Errorf("Collect with a selector = %v, want only the legacy controller's image", only)
	}
}
