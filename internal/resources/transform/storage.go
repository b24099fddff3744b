package transform

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// bindingAnnotations are set on a PersistentVolumeClaim by the binder and
// provisioners of the source cluster; the destination's set their own.
var bindingAnnotations = []string{
	"pv.kubernetes.io/bind-completed",
	"pv.kubernetes.io/bound-by-controller",
	"volume.beta.kubernetes.io/storage-provisioner",
	"volume.kubernetes.io/storage-provisioner",
	"volume.kubernetes.io/selected-node",
}

// storageTransform unbinds PersistentVolumeClaims from the source's volumes
// and maps storage classes, on claims and on StatefulSet claim templates.
type storageTransform struct{}

var _ Transformer = (*storageTransform)(nil)

// Name implements Transformer.
func (*storageTransform) Name() string { return "storage" }

// AppliesTo implements Transformer: PersistentVolumeClaims and StatefulSets.
func (*storageTransform) AppliesTo(gk schema.GroupKind) bool {
	return gk == gkPersistentVolumeClaim || gk == gkStatefulSet
}

// Transform implements Transformer. Claims without storageClassName keep
// using the destination's default class.
func (*storageTransform) Transform(ctx *Context, obj *unstructured.Unstructured) (string, error) {
	if obj.GroupVersionKind().GroupKind() == gkStatefulSet {
		for _, t := range nestedSlice(obj.Object, "spec", "volumeClaimTemplates") {
			if claim, ok := t.(map[string]interface{}); ok {
				mapStorageClass(ctx, claim)
			}
		}
		return "", nil
	}
	unstructured.RemoveNestedField(obj.Object, "spec", "volumeName")
	removeAnnotations(obj, bindingAnnotations...)
	mapStorageClass(ctx, obj.Object)
	return "", nil
}

// mapStorageClass maps spec.storageClassName of an unstructured claim when
// it is set.
func mapStorageClass(ctx *Context, claim map[string]interface{}) {
	spec := nestedMap(claim, "spec")
	if class, ok := spec["storageClassName"].(string); ok {
		spec["storageClassName"] = ctx.storageClass(class)
	}
}
