package transform

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// labelsTransform adds the Context's labels to the object's own
// metadata.labels; selectors and pod templates are left alone so that
// workloads keep matching their pods.
type labelsTransform struct{}

var _ Transformer = (*labelsTransform)(nil)

// Name implements Transformer.
func (*labelsTransform) Name() string { return "labels" }

// AppliesTo implements Transformer: every kind.
func (*labelsTransform) AppliesTo(schema.GroupKind) bool { return true }

// Transform implements Transformer. Ferry's labels replace labels with the
// same keys.
func (*labelsTransform) Transform(tc *Context, obj *unstructured.Unstructured) (string, error) {
	if tc == nil || len(tc.Labels) == 0 {
		return "", nil
	}
	merged := obj.GetLabels()
	if merged == nil {
		merged = make(map[string]string, len(tc.Labels))
	}
	for k, v := range tc.Labels {
		merged[k] = v
	}
	obj.SetLabels(merged)
	return "", nil
}
