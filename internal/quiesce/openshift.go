package quiesce

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// deploymentConfigGVK is OpenShift's DeploymentConfig. Clusters that do
// not serve it (plain Kubernetes) have none to quiesce: the kind is
// optional.
var deploymentConfigGVK = schema.GroupVersionKind{Group: "apps.openshift.io", Version: "v1", Kind: "DeploymentConfig"}

// deploymentConfigKind quiesces DeploymentConfigs like Deployments: spec.replicas
// to 0. OpenShift's controller scales the active ReplicationController
// after it. It is read as unstructured, so that Ferry needs no OpenShift
// types.
var deploymentConfigKind = kind{
	name:      "DeploymentConfig",
	gvk:       deploymentConfigGVK,
	optional:  true,
	newObject: func() client.Object { return newUnstructured(deploymentConfigGVK) },
	newList:   func() client.ObjectList { return newUnstructuredList(deploymentConfigGVK) },
	field:     unstructuredReplicasField,
}

func newUnstructured(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}

func newUnstructuredList(gvk schema.GroupVersionKind) *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	return l
}

// unstructuredReplicasField is spec.replicas of an unstructured workload,
// quiesced as 0 and kept as the number, or "" when unset.
var unstructuredReplicasField = field{
	annotation: ferryv1.AnnotationOriginalReplicas,
	encode: func(obj client.Object) (string, error) {
		return EncodeReplicas(unstructuredReplicas(obj)), nil
	},
	isQuiesced: func(obj client.Object) bool {
		r := unstructuredReplicas(obj)
		return r != nil && *r == 0
	},
	quiesce: func(obj client.Object) {
		_ = unstructured.SetNestedField(obj.(*unstructured.Unstructured).Object, int64(0), "spec", "replicas")
	},
	restore: func(obj client.Object, s string) error {
		r, err := DecodeReplicas(s)
		if err != nil {
			return err
		}
		u := obj.(*unstructured.Unstructured).Object
		if r == nil {
			unstructured.RemoveNestedField(u, "spec", "replicas")
			return nil
		}
		return unstructured.SetNestedField(u, int64(*r), "spec", "replicas")
	},
}

// unstructuredReplicas reads spec.replicas; nil when unset.
func unstructuredReplicas(obj client.Object) *int32 {
	v, found, err := unstructured.NestedInt64(obj.(*unstructured.Unstructured).Object, "spec", "replicas")
	if !found || err != nil {
		return nil
	}
	r := int32(v)
	return &r
}

// replicationControllerGVK is the kind through which Running knows the
// pods of a DeploymentConfig: they belong to ReplicationControllers that
// the DeploymentConfig controls. Other ReplicationControllers are not
// indexed, so their pods stay unmanaged as before.
var replicationControllerGVK = schema.GroupVersionKind{Version: "v1", Kind: "ReplicationController"}

// controlledByDC reports whether a DeploymentConfig controls obj.
func controlledByDC(obj client.Object) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller && ref.Kind == deploymentConfigGVK.Kind {
			gv, err := schema.ParseGroupVersion(ref.APIVersion)
			if err == nil && gv.Group == deploymentConfigGVK.Group {
				return true
			}
		}
	}
	return false
}
