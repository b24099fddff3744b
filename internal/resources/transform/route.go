package transform

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// AnnotationHostGenerated is the annotation OpenShift's API server puts on
// a Route whose spec.host it generated from the router's domain.
const AnnotationHostGenerated = "openshift.io/host.generated"

// routeTransform gives Routes the host the destination's router serves: a
// host the source's router generated ("NAME-NAMESPACE.<router domain>") is
// dropped so the destination generates its own, or moved to the mapped
// domain when the plan maps the source's; a host the user chose is kept,
// and so are TLS settings. Status goes with the generic step.
type routeTransform struct{}

var _ Transformer = (*routeTransform)(nil)

// Name implements Transformer.
func (*routeTransform) Name() string { return "route" }

// AppliesTo implements Transformer: OpenShift Routes.
func (*routeTransform) AppliesTo(gk schema.GroupKind) bool { return gk == gkRoute }

// Transform implements Transformer. It runs before generic, so the
// namespace it reads is the source's.
func (*routeTransform) Transform(tc *Context, obj *unstructured.Unstructured) (string, error) {
	host, _, _ := unstructured.NestedString(obj.Object, "spec", "host")
	if host == "" {
		return "", nil
	}
	if sub, _, _ := unstructured.NestedString(obj.Object, "spec", "subdomain"); sub != "" {
		// The router makes the host from the subdomain and its own domain.
		unstructured.RemoveNestedField(obj.Object, "spec", "host")
		return "", nil
	}
	domain, generated := generatedDomain(obj, host)
	if !generated {
		return "", nil
	}
	removeAnnotations(obj, AnnotationHostGenerated)
	to, mapped := tc.routeDomain(domain)
	if !mapped {
		unstructured.RemoveNestedField(obj.Object, "spec", "host")
		return "", nil
	}
	newHost := obj.GetName() + "-" + tc.namespace(obj.GetNamespace()) + "." + to
	return "", setNested(obj, newHost, "spec", "host")
}

// generatedDomain reports whether the source's router generated host, and
// the router domain it is under: the Route is marked with
// AnnotationHostGenerated, or its host has the generated form
// "NAME-NAMESPACE.<domain>".
func generatedDomain(obj *unstructured.Unstructured, host string) (string, bool) {
	prefix := obj.GetName() + "-" + obj.GetNamespace() + "."
	rest, hasForm := strings.CutPrefix(host, prefix)
	if obj.GetAnnotations()[AnnotationHostGenerated] == "true" {
		if !hasForm {
			_, rest, _ = strings.Cut(host, ".")
		}
		return rest, true
	}
	return rest, hasForm && rest != ""
}

// routeDomain returns the destination's router domain for the source's
// domain, and whether the plan maps it.
func (c *Context) routeDomain(domain string) (string, bool) {
	if c == nil || domain == "" {
		return "", false
	}
	to, ok := c.RouteDomains[domain]
	return to, ok && to != ""
}
