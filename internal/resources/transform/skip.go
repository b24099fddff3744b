package transform

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Names and types of objects that the destination's controllers create in
// every namespace.
const (
	rootCAConfigMap         = "kube-root-ca.crt"
	serviceAccountTokenType = "kubernetes.io/service-account-token"
)

// skipTransform skips objects that controllers on the destination recreate,
// and objects that are being deleted. It runs first because it reads
// ownerReferences, which the generic step strips.
type skipTransform struct{}

var _ Transformer = (*skipTransform)(nil)

// Name implements Transformer.
func (*skipTransform) Name() string { return "skip-recreated" }

// AppliesTo implements Transformer: every kind.
func (*skipTransform) AppliesTo(schema.GroupKind) bool { return true }

// Transform implements Transformer.
func (*skipTransform) Transform(_ *Context, obj *unstructured.Unstructured) (string, error) {
	if reason := terminating(obj); reason != "" {
		return reason, nil
	}
	if _, ok := obj.GetLabels()[ferryv1.LabelGrantPlan]; ok {
		return "Ferry's own grant in the namespace (`ferry plan grant` makes it on each cluster)", nil
	}
	switch obj.GroupVersionKind().GroupKind() {
	case gkEndpoints:
		return "Endpoints are recreated by the endpoints controller", nil
	case gkEndpointSlice:
		return "EndpointSlices are recreated by the endpoint slice controllers", nil
	case gkEvent, gkEventsEvent:
		return "Events are not migrated", nil
	case gkSecret:
		if t, _, _ := unstructured.NestedString(obj.Object, "type"); t == serviceAccountTokenType {
			return "service account token Secrets are issued by the destination", nil
		}
	case gkConfigMap:
		if obj.GetName() == rootCAConfigMap {
			return "kube-root-ca.crt is recreated in every namespace by the root CA publisher", nil
		}
	case gkPod:
		if ownedByController(obj) {
			return "the Pod is recreated by its controller", nil
		}
	case gkReplicaSet:
		if ownedBy(obj, "apps", "Deployment") {
			return "the ReplicaSet is recreated by its Deployment", nil
		}
	case gkJob:
		if ownedBy(obj, "batch", "CronJob") {
			return "the Job is created by its CronJob", nil
		}
	case gkReplicationController:
		if ownedBy(obj, "apps.openshift.io", "DeploymentConfig") {
			return "the ReplicationController is recreated by its DeploymentConfig", nil
		}
	}
	if reason, ok := platformMade[obj.GroupVersionKind().GroupKind()]; ok {
		return reason, nil
	}
	return "", nil
}

// terminating returns a skip reason when obj has a deletionTimestamp.
func terminating(obj *unstructured.Unstructured) string {
	if obj.GetDeletionTimestamp() != nil {
		return "the object is being deleted on the source"
	}
	return ""
}

// ownedByController reports whether an owner reference of obj is marked
// controller=true.
func ownedByController(obj *unstructured.Unstructured) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			return true
		}
	}
	return false
}

// ownedBy reports whether obj has an owner reference to a kind of group.
func ownedBy(obj *unstructured.Unstructured, group, kind string) bool {
	for _, ref := range obj.GetOwnerReferences() {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err == nil && gv.Group == group && ref.Kind == kind {
			return true
		}
	}
	return false
}

// PlatformMade returns why objects of kind gk are never migrated, because
// only the platform makes them or they are views of other objects; false
// for every other kind.
func PlatformMade(gk schema.GroupKind) (string, bool) {
	reason, ok := platformMade[gk]
	return reason, ok
}

// platformMade are OpenShift kinds that only the platform creates, or that
// are views of other objects; they are listed as skipped with the reason.
var platformMade = map[schema.GroupKind]string{
	{Group: "build.openshift.io", Kind: "Build"}:                          "Builds are the history of BuildConfigs on the source; the destination's BuildConfigs start their own",
	{Group: "image.openshift.io", Kind: "ImageStreamTag"}:                 "ImageStreamTags are views of ImageStream tags; they come with their ImageStream",
	{Group: "image.openshift.io", Kind: "ImageTag"}:                       "ImageTags are views of ImageStream tags; they come with their ImageStream",
	{Group: "image.openshift.io", Kind: "ImageStreamImage"}:               "ImageStreamImages are views of ImageStream images; they come with their ImageStream",
	{Group: "image.openshift.io", Kind: "ImageStreamMapping"}:             "ImageStreamMappings are written by the integrated registry on push",
	{Group: "authorization.openshift.io", Kind: "RoleBindingRestriction"}: "RoleBindingRestrictions are cluster administrators' policy of the source; set them on the destination if it needs them",
}
