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

// storageTransform unbinds PersistentVolumeClaims from the source's volumes,
// applies the plan's changes of single claims (skip, name, class, capacity,
// access modes) and maps storage classes, on claims and on StatefulSet
// claim templates.
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
	cl, ok := ctx.claim(obj.GetNamespace(), obj.GetName())
	if !ok {
		mapStorageClass(ctx, obj.Object)
		return "", nil
	}
	if cl.Skip {
		return "the plan skips this claim", nil
	}
	return "", applyClaim(ctx, obj, cl)
}

// applyClaim applies the plan's change of one claim.
func applyClaim(ctx *Context, obj *unstructured.Unstructured, cl Claim) error {
	if cl.Name != "" {
		obj.SetName(cl.Name)
	}
	spec := nestedMap(obj.Object, "spec")
	if spec == nil {
		spec = map[string]interface{}{}
		obj.Object["spec"] = spec
	}
	if cl.StorageClass != "" {
		spec["storageClassName"] = cl.StorageClass
	} else {
		mapStorageClass(ctx, obj.Object)
	}
	if cl.Capacity != "" {
		if err := unstructured.SetNestedField(obj.Object, cl.Capacity, "spec", "resources", "requests", "storage"); err != nil {
			return err
		}
	}
	if len(cl.AccessModes) > 0 {
		if err := unstructured.SetNestedStringSlice(obj.Object, cl.AccessModes, "spec", "accessModes"); err != nil {
			return err
		}
	}
	return nil
}

// mapStorageClass maps spec.storageClassName of an unstructured claim when
// it is set.
func mapStorageClass(ctx *Context, claim map[string]interface{}) {
	spec := nestedMap(claim, "spec")
	if class, ok := spec["storageClassName"].(string); ok {
		spec["storageClassName"] = ctx.storageClass(class)
	}
}
