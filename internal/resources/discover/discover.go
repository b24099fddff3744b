// Package discover finds what to export from a source cluster: every
// namespaced kind it serves (custom resources too) through the discovery
// API, the objects of those kinds in the migrated namespaces, page by page,
// and the cluster-scoped objects they depend on.
package discover

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// PageSize is the number of objects fetched per LIST request; it bounds
// the memory a migration needs whatever the number of objects.
const PageSize = 500

// Resource is a kind the cluster serves, in its preferred version.
type Resource struct {
	GVR        schema.GroupVersionResource
	GVK        schema.GroupVersionKind
	Namespaced bool
}

// GroupKind returns the resource's group and kind.
func (r Resource) GroupKind() schema.GroupKind { return r.GVK.GroupKind() }

// KindName formats a group and kind as "Kind" for the core group and
// "Kind.group" otherwise, the form plans and results use.
func KindName(gk schema.GroupKind) string {
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Kind + "." + gk.Group
}

// notExported are kinds whose objects controllers or the API server
// recreate on the destination, or that describe the past; listing them
// would only cost time.
var notExported = map[schema.GroupKind]string{
	{Group: "", Kind: "Event"}:                                        "events describe the source's past",
	{Group: "events.k8s.io", Kind: "Event"}:                           "events describe the source's past",
	{Group: "", Kind: "Endpoints"}:                                    "recreated from Services",
	{Group: "discovery.k8s.io", Kind: "EndpointSlice"}:                "recreated from Services",
	{Group: "apps", Kind: "ControllerRevision"}:                       "recreated by their workloads",
	{Group: "", Kind: "Binding"}:                                      "not a stored object",
	{Group: "metrics.k8s.io", Kind: "PodMetrics"}:                     "not a stored object",
	{Group: "coordination.k8s.io", Kind: "Lease"}:                     "leader-election state of the source",
	{Group: "authorization.k8s.io", Kind: "LocalSubjectAccessReview"}: "not a stored object",
}

// Namespaced returns every namespaced kind the cluster serves that can be
// listed, in its preferred version. Groups whose discovery failed (an
// aggregated API that is down) are left out and returned as warnings.
func Namespaced(d discovery.DiscoveryInterface) ([]Resource, []string, error) {
	lists, err := d.ServerPreferredNamespacedResources()
	var warnings []string
	if err != nil {
		var gdf *discovery.ErrGroupDiscoveryFailed
		if !errors.As(err, &gdf) {
			return nil, nil, fmt.Errorf("discover namespaced resources: %w", err)
		}
		for gv, e := range gdf.Groups {
			warnings = append(warnings, fmt.Sprintf("API group %s not discovered, its objects are not migrated: %v", gv, e))
		}
	}
	var out []Resource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerb(r.Verbs, "list") || !hasVerb(r.Verbs, "create") {
				continue
			}
			gk := schema.GroupKind{Group: gv.Group, Kind: r.Kind}
			if _, skip := notExported[gk]; skip {
				continue
			}
			out = append(out, Resource{GVR: gv.WithResource(r.Name), GVK: gv.WithKind(r.Kind), Namespaced: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GVR.String() < out[j].GVR.String() })
	return out, warnings, nil
}

func hasVerb(verbs metav1.Verbs, v string) bool {
	for _, x := range verbs {
		if x == v {
			return true
		}
	}
	return false
}

// KindFilter selects kinds by the plan's included and excluded lists,
// whose entries are "Kind" (any group) or "Kind.group".
type KindFilter struct {
	Include, Exclude []string
}

// Allows reports whether objects of gk are migrated.
func (f KindFilter) Allows(gk schema.GroupKind) bool {
	if matchAny(f.Exclude, gk) {
		return false
	}
	return len(f.Include) == 0 || matchAny(f.Include, gk)
}

func matchAny(list []string, gk schema.GroupKind) bool {
	for _, e := range list {
		kind, group, hasGroup := strings.Cut(e, ".")
		if strings.EqualFold(kind, gk.Kind) && (!hasGroup || strings.EqualFold(group, gk.Group)) {
			return true
		}
	}
	return false
}

// Count returns how many objects of res are in namespace, with one small
// request when the API server can tell (no selector), else by paging.
func Count(ctx context.Context, dyn dynamic.Interface, res Resource, namespace, selector string) (int64, error) {
	if selector == "" {
		l, err := dyn.Resource(res.GVR).Namespace(namespace).List(ctx, metav1.ListOptions{Limit: 1})
		if gone(err) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("list %s in %s: %w", res.GVR.Resource, namespace, err)
		}
		n := int64(len(l.Items))
		if rem := l.GetRemainingItemCount(); rem != nil {
			return n + *rem, nil
		}
		if l.GetContinue() == "" {
			return n, nil
		}
	}
	var n int64
	err := List(ctx, dyn, res, namespace, selector, func(*unstructured.Unstructured) error { n++; return nil })
	return n, err
}

// List pages through the objects of res in namespace ("" for cluster
// scope) that match selector and calls fn for each; it stops at fn's
// first error.
func List(ctx context.Context, dyn dynamic.Interface, res Resource, namespace, selector string, fn func(*unstructured.Unstructured) error) error {
	opts := metav1.ListOptions{Limit: PageSize, LabelSelector: selector}
	ri := dyn.Resource(res.GVR)
	for {
		var l *unstructured.UnstructuredList
		var err error
		if namespace == "" {
			l, err = ri.List(ctx, opts)
		} else {
			l, err = ri.Namespace(namespace).List(ctx, opts)
		}
		if gone(err) {
			logf.FromContext(ctx).V(1).Info("resource no longer served", "resource", res.GVR.Resource, "group", res.GVR.Group)
			return nil
		}
		if err != nil {
			return fmt.Errorf("list %s in %q: %w", res.GVR.Resource, namespace, err)
		}
		for i := range l.Items {
			obj := &l.Items[i]
			obj.SetAPIVersion(res.GVK.GroupVersion().String())
			obj.SetKind(res.GVK.Kind)
			if err := fn(obj); err != nil {
				return err
			}
		}
		if opts.Continue = l.GetContinue(); opts.Continue == "" {
			return nil
		}
		logf.FromContext(ctx).V(1).Info("listing next page", "resource", res.GVR.Resource, "namespace", namespace)
	}
}

// gone reports whether a list failed because the cluster stopped serving
// the resource after discovery found it (its CRD was deleted in
// between): such a kind has no objects left, which is not an error.
func gone(err error) bool {
	return apierrors.IsNotFound(err)
}

// Serves reports whether the cluster behind d serves the resource gvr in
// its group and version. A group or version the cluster does not know is
// not served; any other discovery failure is an error.
func Serves(d discovery.DiscoveryInterface, gvr schema.GroupVersionResource) (bool, error) {
	l, err := d.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("discover %s: %w", gvr.GroupVersion(), err)
	}
	for _, r := range l.APIResources {
		if r.Name == gvr.Resource {
			return true, nil
		}
	}
	return false, nil
}
