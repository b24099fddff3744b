package transform

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/images"
)

// Context carries the plan's mappings and decisions into every transform.
// The zero value (and a nil *Context) maps everything to itself and adds no
// labels.
type Context struct {
	// NamespaceMap maps a source namespace to its destination namespace;
	// namespaces that are absent keep their name.
	NamespaceMap map[string]string
	// StorageClassMap maps source storage classes to destination classes
	// in StatefulSet claim templates, and in claims that Claims does not
	// hold (created on the source after the plan listed its claims).
	StorageClassMap StorageClassMap
	// RegistryRewrites rewrite container image references by prefix; the
	// first rewrite whose From is a prefix of the image wins.
	RegistryRewrites []RegistryRewrite
	// Images, when set, rewrites the references to the source's internal
	// registry to the destination's, where the CopyImages step copies
	// them; it is consulted before RegistryRewrites, so that the copy and
	// the rewrite always agree.
	Images *images.Mapping
	// Labels are added to metadata.labels of every object that is kept
	// (ferry.dev/plan, ferry.dev/migration, app.kubernetes.io/managed-by).
	Labels map[string]string
	// Claims is the plan's claim list, by source "namespace/name" (see
	// [ClaimsByName]): what planning decided for each claim. The storage
	// step applies each claim's action, target name, storage class,
	// capacity and access modes as they stand; the workload step points
	// pods at the target names. Empty target fields keep the source's
	// value.
	Claims map[string]ferryv1.PlanPVC
	// RouteDomains maps the source router's domains to the
	// destination's (the plan's routeDomainMapping): a Route host the
	// source's router generated under a mapped domain is moved to the
	// destination's domain instead of being dropped.
	RouteDomains map[string]string
}

// StorageClassMap maps source storage classes to destination classes; a
// class that is absent keeps its name. It is the one mapping of storage
// classes: planning decides the classes of the plan's claims with it, and
// the storage step maps StatefulSet claim templates with it.
type StorageClassMap map[string]string

// Target returns the destination class of the source class.
func (m StorageClassMap) Target(class string) string {
	if to, ok := m[class]; ok {
		return to
	}
	return class
}

// ClaimsByName keys a claim list by source "namespace/name", the form of
// Context.Claims.
func ClaimsByName(claims []ferryv1.PlanPVC) map[string]ferryv1.PlanPVC {
	out := make(map[string]ferryv1.PlanPVC, len(claims))
	for _, c := range claims {
		out[claimKey(c.Namespace, c.Name)] = c
	}
	return out
}

// claimKey is the key of a claim in Context.Claims.
func claimKey(namespace, name string) string { return namespace + "/" + name }

// RegistryRewrite replaces the prefix From of an image reference with To,
// for example From "10.200.1.1:5000/" and To "10.200.2.1:5000/", or From
// "10.200.1.1:5000/shop/" and To "registry.example/shop-moved/". End From
// with "/" so that "host:5000" does not also match "host:50001".
type RegistryRewrite struct {
	From string
	To   string
}

// Transformer is one step of the pipeline.
type Transformer interface {
	// Name identifies the step in errors and logs.
	Name() string
	// AppliesTo reports whether the step handles objects of kind gk.
	AppliesTo(gk schema.GroupKind) bool
	// Transform edits obj in place, or returns a non-empty skip reason when
	// the object must not be applied on the destination.
	Transform(tc *Context, obj *unstructured.Unstructured) (skip string, err error)
}

// Outcome is the result of [Run] for one object.
type Outcome struct {
	// Skip is true when the object must not be applied on the destination.
	Skip bool
	// Reason says why the object is skipped; empty when it is kept.
	Reason string
}

// Default returns the built-in steps in the order they run; see the package
// documentation for why they run in this order.
func Default() []Transformer {
	return []Transformer{
		&skipTransform{},
		&serviceAccountTransform{},
		&workloadTransform{},
		&storageTransform{},
		&routeTransform{},
		&deploymentConfigTransform{},
		&imageStreamTransform{},
		&genericTransform{},
		&serviceTransform{},
		&rbacTransform{},
		&sccTransform{},
		&labelsTransform{},
	}
}

// Run applies every transformer of ts that applies to obj's kind, in order,
// editing obj in place. It stops at the first skip and at the first error;
// the error names the step and the object.
func Run(tc *Context, ts []Transformer, obj *unstructured.Unstructured) (Outcome, error) {
	if tc == nil {
		tc = &Context{}
	}
	gk := obj.GroupVersionKind().GroupKind()
	for _, t := range ts {
		if !t.AppliesTo(gk) {
			continue
		}
		skip, err := t.Transform(tc, obj)
		if err != nil {
			return Outcome{}, fmt.Errorf("transform %s %s with %s: %w", gk, objectName(obj), t.Name(), err)
		}
		if skip != "" {
			return Outcome{Skip: true, Reason: skip}, nil
		}
	}
	return Outcome{}, nil
}

// namespace returns the destination namespace of the source namespace ns.
func (c *Context) namespace(ns string) string {
	if c == nil {
		return ns
	}
	if to, ok := c.NamespaceMap[ns]; ok && to != "" {
		return to
	}
	return ns
}

// storageClass returns the destination storage class of the source class.
func (c *Context) storageClass(class string) string {
	if c == nil {
		return class
	}
	return c.StorageClassMap.Target(class)
}

// claim returns the plan's decision for the claim name in the source
// namespace ns.
func (c *Context) claim(ns, name string) (ferryv1.PlanPVC, bool) {
	if c == nil {
		return ferryv1.PlanPVC{}, false
	}
	cl, ok := c.Claims[claimKey(ns, name)]
	return cl, ok
}

// claimName returns the destination name of the claim name in the source
// namespace ns.
func (c *Context) claimName(ns, name string) string {
	if cl, ok := c.claim(ns, name); ok && cl.TargetName != "" {
		return cl.TargetName
	}
	return name
}

// Image rewrites an image reference: an internal image of the source's
// registry as Images says, any other with the first matching rewrite.
func (c *Context) Image(ref string) string {
	if c == nil {
		return ref
	}
	if to, ok := c.Images.Rewrite(ref); ok {
		return to
	}
	for _, r := range c.RegistryRewrites {
		if r.From != "" && strings.HasPrefix(ref, r.From) {
			return r.To + strings.TrimPrefix(ref, r.From)
		}
	}
	return ref
}

// objectName is "namespace/name", or "name" for cluster-scoped objects.
func objectName(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return ns + "/" + obj.GetName()
	}
	return obj.GetName()
}
