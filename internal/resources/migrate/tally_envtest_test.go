//go:build envtest

package migrate

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/transform"
)

// TestTallyAgreesWithRunEnvtest checks that what Tally says a migration
// applies and skips is what Run then applies and skips, kind by kind.
func TestTallyAgreesWithRunEnvtest(t *testing.T) {
	ctx := context.Background()
	c, err := cluster.NewClients("one", env.Config)
	if err != nil {
		t.Fatal(err)
	}
	shop := "shop-" + rand.String(5)
	createAll(t, shopObjects(t, shop)...)
	scope := Scope{Namespaces: []NamespaceMapping{{Source: shop, Destination: shop + "-new"}}}
	tc := transform.Context{
		NamespaceMap: Map(scope.Namespaces),
		Claims: transform.ClaimsByName([]ferryv1.PlanPVC{
			{Namespace: shop, Name: "data", Action: ferryv1.PVCActionCopy, TargetNamespace: shop + "-new", TargetName: "data"},
			{Namespace: shop, Name: "cache", Action: ferryv1.PVCActionSkip, TargetNamespace: shop + "-new", TargetName: "cache"},
		}),
		Labels: map[string]string{ferryv1.LabelPlan: "p1"},
	}
	src := Source{Discovery: c.Kube.Discovery(), Dynamic: c.Dynamic}
	inv, err := Take(ctx, src, scope)
	if err != nil {
		t.Fatal(err)
	}
	tally, err := inv.Tally(ctx, src, scope, &tc)
	if err != nil {
		t.Fatal(err)
	}
	report, err := Run(ctx, Options{Source: src, Destination: Destination{Discovery: c.Kube.Discovery(), Dynamic: c.Dynamic, Metadata: c.Metadata},
		Scope: scope, Transform: tc, Plan: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	applied, skipped := map[string]int{}, map[string]int{}
	for _, k := range report.Results() {
		if k.Failed > 0 {
			t.Errorf("%s: %d failed: %+v", k.Kind, k.Failed, report.Objects())
		}
		if n := k.Created + k.Updated + k.Unchanged; n > 0 {
			applied[k.Kind] = n
		}
		if k.Skipped > 0 {
			skipped[k.Kind] = k.Skipped
		}
	}
	tallied, tallySkipped := map[string]int{}, map[string]int{}
	for _, k := range tally.Applied {
		tallied[k.Kind] = k.Count
	}
	for _, s := range tally.Skipped {
		tallySkipped[s.Kind] += s.Count
	}
	if !equalCounts(applied, tallied) || !equalCounts(skipped, tallySkipped) {
		t.Errorf("Run applied %v and skipped %v; Tally said %v and %v", applied, skipped, tallied, tallySkipped)
	}
	if len(tallySkipped) != 4 || tally.Total() != int64(report.Applied()) {
		t.Errorf("tally %+v: want 4 kinds skipped and the total Run applied (%d)", tally, report.Applied())
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, n := range a {
		if b[k] != n {
			return false
		}
	}
	return true
}

// shopObjects are a namespace with what a sample application and the
// source's controllers leave in it: some applied, some skipped.
func shopObjects(t *testing.T, ns string) []client.Object {
	t.Helper()
	podLabels := map[string]string{"app": "web"}
	template := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web:1"}}}}
	web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: podLabels}, Template: template}}
	createAll(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, web)
	owner := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: web.UID, Controller: ptr.To(true)}
	claim := func(name string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	}
	return []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kube-root-ca.crt"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "worker"}},
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-1", OwnerReferences: []metav1.OwnerReference{owner}},
			Spec: appsv1.ReplicaSetSpec{Selector: web.Spec.Selector, Template: template}},
		claim("data"), claim("cache"),
	}
}

// createAll creates objects on the API server; the objects get the
// server's UIDs.
func createAll(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}
