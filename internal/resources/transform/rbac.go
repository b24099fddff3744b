package transform

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// rbacTransform moves ServiceAccount subjects of RoleBindings and
// ClusterRoleBindings to their destination namespace.
type rbacTransform struct{}

var _ Transformer = (*rbacTransform)(nil)

// Name implements Transformer.
func (*rbacTransform) Name() string { return "rbac" }

// AppliesTo implements Transformer: RoleBindings and ClusterRoleBindings.
func (*rbacTransform) AppliesTo(gk schema.GroupKind) bool {
	return gk == gkRoleBinding || gk == gkClusterRoleBinding
}

// Transform implements Transformer. User and Group subjects are not
// namespaced and are left alone.
func (*rbacTransform) Transform(tc *Context, obj *unstructured.Unstructured) (string, error) {
	for _, s := range nestedSlice(obj.Object, "subjects") {
		subject, ok := s.(map[string]interface{})
		if !ok || subject["kind"] != "ServiceAccount" {
			continue
		}
		if ns, _ := subject["namespace"].(string); ns != "" {
			subject["namespace"] = tc.namespace(ns)
		}
	}
	return "", nil
}
