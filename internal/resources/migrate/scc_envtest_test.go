//go:build envtest

package migrate

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/rand"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/scc"
	"ferry.dev/ferry/internal/resources/transform"
	"ferry.dev/ferry/test/openshift"
)

// TestSCCMergedAndUnmergedEnvtest migrates a namespace whose service
// account an SCC names into a renamed namespace of the same cluster: the
// SCC exists on the destination (it is the same) and was not made by the
// plan, so the renamed subject is added to it and nothing else changes;
// Remove takes the added subject away again.
func TestSCCMergedAndUnmergedEnvtest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := cluster.NewClients("one", env.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := openshift.Install(ctx, c.Dynamic); err != nil {
		t.Fatal(err)
	}
	shop := "shop-" + rand.String(5)
	moved := shop + "-moved"
	createAll(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: shop}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: shop, Name: "web"}})
	name := "scc-" + shop
	users := []string{"system:serviceaccount:ops:agent", "system:serviceaccount:" + shop + ":web"}
	obj := &unstructured.Unstructured{Object: map[string]interface{}{
		"allowPrivilegedContainer": false,
		"volumes":                  []interface{}{"persistentVolumeClaim"},
	}}
	obj.SetGroupVersionKind(scc.GVK)
	obj.SetName(name)
	_ = unstructured.SetNestedStringSlice(obj.Object, users, "users")
	if _, err := c.Dynamic.Resource(scc.GVR).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Dynamic.Resource(scc.GVR).Delete(context.Background(), name, metav1.DeleteOptions{}) })

	scope := Scope{Namespaces: []NamespaceMapping{{Source: shop, Destination: moved}}}
	marks := map[string]string{ferryv1.LabelPlan: "p-scc", ferryv1.LabelMigration: "p-scc-1"}
	o := Options{Source: Source{Discovery: c.Kube.Discovery(), Dynamic: c.Dynamic},
		Destination: Destination{Discovery: c.Kube.Discovery(), Dynamic: c.Dynamic, Metadata: c.Metadata},
		Scope:       scope, Plan: "p-scc",
		Transform: transform.Context{NamespaceMap: Map(scope.Namespaces), Labels: marks}}
	report, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if report.Failed() != 0 {
		t.Fatalf("failed: %v", report.Objects())
	}
	got := subjects(t, c, name)
	want := append(append([]string{}, users...), "system:serviceaccount:"+moved+":web")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("users after the migration = %v, want %v", got, want)
	}
	if _, err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	if got := subjects(t, c, name); !reflect.DeepEqual(got, want) {
		t.Errorf("users after a second run = %v, want %v", got, want)
	}

	rm, err := Remove(ctx, Destination{Discovery: c.Kube.Discovery(), Dynamic: c.Dynamic, Metadata: c.Metadata},
		[]string{moved}, ferryv1.LabelPlan+"=p-scc")
	if err != nil || rm.Failed() != 0 {
		t.Fatalf("remove: %v %v", err, rm.Objects())
	}
	if got := subjects(t, c, name); !reflect.DeepEqual(got, users) {
		t.Errorf("users after remove = %v, want %v", got, users)
	}
	cur, err := c.Dynamic.Resource(scc.GVR).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k := range cur.GetAnnotations() {
		if strings.HasPrefix(k, "ferry.dev/") {
			t.Errorf("annotation %s left", k)
		}
	}
	if len(cur.GetLabels()) != 0 {
		t.Errorf("labels %v on an SCC Ferry did not create", cur.GetLabels())
	}
}

func subjects(t *testing.T, c *cluster.Clients, name string) []string {
	t.Helper()
	u, err := c.Dynamic.Resource(scc.GVR).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	users, _ := scc.Names(u)
	return users
}
