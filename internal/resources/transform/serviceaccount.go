package transform

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// defaultServiceAccount is the ServiceAccount the service account controller
// creates in every namespace.
const defaultServiceAccount = "default"

// generatedServiceAccountAnnotations are annotations that platforms put on
// ServiceAccounts themselves; they do not make the default ServiceAccount
// user-configured.
var generatedServiceAccountAnnotations = map[string]bool{
	// OpenShift's image registry pull secret controller.
	"openshift.io/internal-registry-pull-secret-ref": true,
}

// serviceAccountTransform skips the default ServiceAccount unless the user
// configured it, and drops the token Secrets the source's token controller
// listed in .secrets, which do not exist on the destination.
type serviceAccountTransform struct{}

var _ Transformer = (*serviceAccountTransform)(nil)

// Name implements Transformer.
func (*serviceAccountTransform) Name() string { return "service-account" }

// AppliesTo implements Transformer: core ServiceAccounts.
func (*serviceAccountTransform) AppliesTo(gk schema.GroupKind) bool { return gk == gkServiceAccount }

// Transform implements Transformer.
func (*serviceAccountTransform) Transform(_ *Context, obj *unstructured.Unstructured) (string, error) {
	name := obj.GetName()
	if name == defaultServiceAccount {
		if !userConfigured(obj) {
			return "the default ServiceAccount is created in every namespace by the service account controller", nil
		}
		unstructured.RemoveNestedField(obj.Object, "secrets")
		return "", nil
	}
	secrets := nestedSlice(obj.Object, "secrets")
	if secrets == nil {
		return "", nil
	}
	kept := make([]interface{}, 0, len(secrets))
	for _, s := range secrets {
		if ref, ok := s.(map[string]interface{}); ok {
			if n, _ := ref["name"].(string); strings.HasPrefix(n, name+"-token-") {
				continue
			}
		}
		kept = append(kept, s)
	}
	if len(kept) == 0 {
		unstructured.RemoveNestedField(obj.Object, "secrets")
	} else {
		obj.Object["secrets"] = kept
	}
	return "", nil
}

// userConfigured reports whether a ServiceAccount carries labels,
// annotations or image pull secrets that someone set, as opposed to the
// ones controllers generate.
func userConfigured(obj *unstructured.Unstructured) bool {
	if len(obj.GetLabels()) > 0 {
		return true
	}
	for k := range obj.GetAnnotations() {
		if !generatedServiceAccountAnnotations[k] {
			return true
		}
	}
	// OpenShift adds "<name>-dockercfg-<suffix>" to every ServiceAccount.
	generated := obj.GetName() + "-dockercfg-"
	for _, s := range nestedSlice(obj.Object, "imagePullSecrets") {
		ref, _ := s.(map[string]interface{})
		if n, _ := ref["name"].(string); !strings.HasPrefix(n, generated) {
			return true
		}
	}
	return false
}
