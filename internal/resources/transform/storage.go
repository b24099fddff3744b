package transform

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
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
// and applies the plan's decision for each claim (Context.Claims: skip,
// name, class, capacity, access modes; a moved claim binds by name to its
// volume's PV); it maps the storage classes of
// StatefulSet claim templates, and of claims the plan did not list.
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
func (*storageTransform) Transform(tc *Context, obj *unstructured.Unstructured) (string, error) {
	if obj.GroupVersionKind().GroupKind() == gkStatefulSet {
		for _, t := range nestedSlice(obj.Object, "spec", "volumeClaimTemplates") {
			if claim, ok := t.(map[string]interface{}); ok {
				mapStorageClass(tc, claim)
			}
		}
		return "", nil
	}
	unstructured.RemoveNestedField(obj.Object, "spec", "volumeName")
	removeAnnotations(obj, bindingAnnotations...)
	cl, ok := tc.claim(obj.GetNamespace(), obj.GetName())
	if !ok {
		mapStorageClass(tc, obj.Object)
		return "", nil
	}
	if cl.Action == ferryv1.PVCActionSkip {
		return SkipClaim, nil
	}
	if cl.Action == ferryv1.PVCActionMove {
		return "", bindToMoved(obj, cl)
	}
	return "", applyClaim(obj, cl)
}

// SkipClaim is the skip reason of a claim the plan's claim list skips.
const SkipClaim = "the plan skips this claim"

// applyClaim applies the plan's decision for one claim; empty target
// fields keep the source's value.
func applyClaim(obj *unstructured.Unstructured, cl ferryv1.PlanPVC) error {
	if cl.TargetName != "" {
		obj.SetName(cl.TargetName)
	}
	if cl.TargetStorageClass != "" {
		if err := setNested(obj, cl.TargetStorageClass, "spec", "storageClassName"); err != nil {
			return err
		}
	}
	if cl.TargetCapacity != "" {
		if err := setNested(obj, cl.TargetCapacity, "spec", "resources", "requests", "storage"); err != nil {
			return err
		}
	}
	if len(cl.TargetAccessModes) > 0 {
		if err := unstructured.SetNestedStringSlice(obj.Object, cl.TargetAccessModes, "spec", "accessModes"); err != nil {
			return fmt.Errorf("set spec.accessModes: %w", err)
		}
	}
	return nil
}

// bindToMoved makes a moved claim bind to the PV its cutover creates on
// the destination: the source volume's name, class "" (so that no
// default class is set and nothing provisions it). The claim is Pending
// until that PV exists.
func bindToMoved(obj *unstructured.Unstructured, cl ferryv1.PlanPVC) error {
	if cl.TargetName != "" {
		obj.SetName(cl.TargetName)
	}
	if err := setNested(obj, cl.SourceVolume, "spec", "volumeName"); err != nil {
		return err
	}
	return setNested(obj, "", "spec", "storageClassName")
}

// mapStorageClass maps spec.storageClassName of an unstructured claim when
// it is set.
func mapStorageClass(tc *Context, claim map[string]interface{}) {
	spec := nestedMap(claim, "spec")
	if class, ok := spec["storageClassName"].(string); ok {
		spec["storageClassName"] = tc.storageClass(class)
	}
}
