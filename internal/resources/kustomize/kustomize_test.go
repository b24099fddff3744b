package kustomize

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"ferry.dev/ferry/internal/resources/discover"
)

func object(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

func resource(group, kind string) discover.Resource {
	return discover.Resource{GVK: schema.GroupVersionKind{Group: group, Version: "v1", Kind: kind}}
}

// TestLayout writes a namespace, namespaced objects of two kinds of the
// same name in different groups, and a cluster-scoped dependency.
func TestLayout(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	d, err := Create(root)
	if err != nil {
		t.Fatal(err)
	}
	adds := []struct {
		res discover.Resource
		obj *unstructured.Unstructured
	}{
		{discover.NamespaceResource, object("v1", "Namespace", "", "shop")},
		{resource("", "ConfigMap"), object("v1", "ConfigMap", "shop", "app")},
		{resource("example.com", "ConfigMap"), object("example.com/v1", "ConfigMap", "shop", "app")},
		{resource("rbac.authorization.k8s.io", "ClusterRole"), object("rbac.authorization.k8s.io/v1", "ClusterRole", "", "reader")},
	}
	for _, a := range adds {
		if err := d.Add(a.res, a.obj); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]string{
		"kustomization.yaml":          {"- shop/namespace.yaml", "- shop/configmap_app.yaml", "- shop/configmap.example.com_app.yaml", "_cluster/"},
		"shop/configmap_app.yaml":     {"kind: ConfigMap", "namespace: shop"},
		"_cluster/kustomization.yaml": {"- clusterrole.rbac.authorization.k8s.io_reader.yaml"},
		"shop/namespace.yaml":         {"kind: Namespace"},
		"_cluster/clusterrole.rbac.authorization.k8s.io_reader.yaml": {"name: reader"},
	} {
		b, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s does not contain %q:\n%s", path, w, b)
			}
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "kustomization.yaml")); strings.Contains(string(b), "- _cluster") {
		t.Errorf("the main kustomization includes the cluster-scoped dependencies:\n%s", b)
	}
}

// TestCreateRefusesNonEmpty: an export never mixes with other files.
func TestCreateRefusesNonEmpty(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(root); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Create of a non-empty directory = %v", err)
	}
	if _, err := Create(t.TempDir()); err != nil {
		t.Errorf("Create of an empty directory: %v", err)
	}
}
