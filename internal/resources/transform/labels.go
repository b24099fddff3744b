package transform

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Marks are the labels Ferry puts on the objects it migrates: its own
// ferry.dev/ keys only, by which rollback and cancel find them. The
// objects keep every label of their own, app.kubernetes.io/managed-by
// included (a Helm release must stay Helm's); managed-by: ferry is only
// for what Ferry itself creates (mover pods, Services, Secrets).
func Marks(plan, migration string) map[string]string {
	return map[string]string{ferryv1.LabelPlan: plan, ferryv1.LabelMigration: migration}
}

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
