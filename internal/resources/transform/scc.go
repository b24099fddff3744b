package transform

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"ferry.dev/ferry/internal/resources/scc"
)

// sccTransform keeps, of an OpenShift SecurityContextConstraints' users
// and groups, only the service accounts of the migrated namespaces, moved
// to their destination namespaces: the destination grants it to nothing
// else. Without a namespace mapping the subjects are left as they are.
type sccTransform struct{}

var _ Transformer = (*sccTransform)(nil)

// Name implements Transformer.
func (*sccTransform) Name() string { return "security-context-constraints" }

// AppliesTo implements Transformer: SecurityContextConstraints.
func (*sccTransform) AppliesTo(gk schema.GroupKind) bool { return gk == gkSCC }

// Transform implements Transformer.
func (*sccTransform) Transform(tc *Context, obj *unstructured.Unstructured) (string, error) {
	if len(tc.NamespaceMap) == 0 {
		return "", nil
	}
	return "", scc.Migrated(obj, tc.NamespaceMap)
}
