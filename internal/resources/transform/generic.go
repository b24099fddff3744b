package transform

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// serverMetadata are the metadata fields the API server or controllers
// populate; the destination sets its own.
var serverMetadata = []string{
	"uid",
	"resourceVersion",
	"creationTimestamp",
	"deletionTimestamp",
	"deletionGracePeriodSeconds",
	"generation",
	"managedFields",
	"selfLink",
	"ownerReferences",
}

// generatedAnnotations are removed from every object. The quiesce
// annotations were already used by the workload step;
// kubectl.kubernetes.io/last-applied-configuration is kept because users
// and their tools own it.
var generatedAnnotations = []string{
	"deployment.kubernetes.io/revision",
	ferryv1.AnnotationQuiescedBy,
	ferryv1.AnnotationOriginalReplicas,
	ferryv1.AnnotationOriginalSuspend,
	ferryv1.AnnotationOriginalNodeSelector,
	ferryv1.AnnotationOriginalWhenScaled,
}

// genericTransform strips what the source's API server and controllers
// populated, and moves namespaced objects to their destination namespace.
type genericTransform struct{}

var _ Transformer = (*genericTransform)(nil)

// Name implements Transformer.
func (*genericTransform) Name() string { return "generic" }

// AppliesTo implements Transformer: every kind.
func (*genericTransform) AppliesTo(schema.GroupKind) bool { return true }

// Transform implements Transformer. An object is namespaced when it has a
// namespace; cluster-scoped objects never carry one in a LIST.
func (*genericTransform) Transform(tc *Context, obj *unstructured.Unstructured) (string, error) {
	if reason := terminating(obj); reason != "" {
		return reason, nil
	}
	for _, f := range serverMetadata {
		unstructured.RemoveNestedField(obj.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(obj.Object, "status")
	removeAnnotations(obj, generatedAnnotations...)
	if ns := obj.GetNamespace(); ns != "" {
		obj.SetNamespace(tc.namespace(ns))
	}
	return "", nil
}
