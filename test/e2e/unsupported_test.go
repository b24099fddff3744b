//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// TestUnsupportedKind checks the last bad input: a custom resource whose
// API the destination does not serve (its CRD excluded from the plan)
// makes the plan not Ready with UnsupportedKinds naming the kind, and a
// cutover changes nothing.
func TestUnsupportedKind(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-unsupported")
	serveSampleApp(t, src, ns, corev1.ServiceTypeClusterIP)
	group := ns + ".e2e.ferry.dev"
	createGadget(t, src, ns, group)
	plan := "e2e-unsupported"
	t.Cleanup(func() { deletePlan(t, plan) })
	out, err := ferry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns, "--exclude-kinds", "CustomResourceDefinition")
	if err == nil {
		t.Fatalf("plan create succeeded:\n%s", out)
	}
	cond := planReady(t, plan)
	if cond.Reason != ferryv1.ReasonUnsupportedKinds || !strings.Contains(cond.Message, "Gadget."+group) ||
		!strings.Contains(cond.Message, "--exclude-kinds") {
		t.Fatalf("Ready = %s %q, want UnsupportedKinds naming Gadget.%s", cond.Reason, cond.Message, group)
	}
	if _, err := ferry(t, "cutover", plan, "--wait"); err == nil {
		t.Fatal("cutover of a plan with an unsupported kind succeeded")
	}
	assertUntouched(t, src, dst, ns)
}

// createGadget creates a CRD of its own group on c and one object of it in ns.
func createGadget(t *testing.T, c *harness.Cluster, ns, group string) {
	t.Helper()
	ctx := context.Background()
	dc := c.Dynamic
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	name := "gadgets." + group
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"group": group, "scope": "Namespaced",
			"names": map[string]any{"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
		},
	}}
	if _, err := dc.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create CRD %s: %v", name, err)
	}
	t.Cleanup(func() { _ = dc.Resource(crdGVR).Delete(context.Background(), name, metav1.DeleteOptions{}) })
	gvr := schema.GroupVersionResource{Group: group, Version: "v1", Resource: "gadgets"}
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": group + "/v1", "kind": "Gadget",
		"metadata": map[string]any{"name": "g1"}, "spec": map[string]any{"size": 1}}}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := dc.Resource(gvr).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("create Gadget: %v", err)
	}
}
