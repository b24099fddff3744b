package migrate

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/resources/discover"
)

// Source is what the inventory reads from.
type Source struct {
	Discovery discovery.DiscoveryInterface
	Dynamic   dynamic.Interface
	// AsUser says that the clients carry a namespace admin's own token:
	// kinds it may not list in a namespace are left out with a warning
	// instead of failing the inventory.
	AsUser bool
}

// Scope says what a plan migrates.
type Scope struct {
	Namespaces []NamespaceMapping
	Selector   string
	Kinds      discover.KindFilter
}

// Unit is the objects of one kind in one source namespace.
type Unit struct {
	Resource  discover.Resource
	Namespace string
	Count     int64
}

// Inventory is what a migration would export now.
type Inventory struct {
	// Units with at least one object, in no particular order.
	Units []Unit
	// Deps are the cluster-scoped dependencies.
	Deps *discover.Dependencies
	// Warnings from discovery.
	Warnings []string
}

// Total is the number of objects in the inventory.
func (inv *Inventory) Total() int64 {
	n := int64(len(inv.Deps.CRDs) + len(inv.Deps.ClusterRoleBindings) + len(inv.Deps.ClusterRoles) + len(inv.Deps.SCCs))
	for _, u := range inv.Units {
		n += u.Count
	}
	return n
}

// builtinGroups are served by Kubernetes itself; any other group of a
// namespaced kind comes from a CRD or an aggregated API server.
func builtinGroup(g string) bool {
	return g == "" || !strings.Contains(g, ".") || strings.HasSuffix(g, ".k8s.io")
}

// Take counts the objects of every migrated kind in the source namespaces
// and finds their cluster-scoped dependencies.
func Take(ctx context.Context, src Source, scope Scope) (*Inventory, error) {
	resources, warnings, err := discover.Namespaced(src.Discovery)
	if err != nil {
		return nil, err
	}
	inv := &Inventory{Warnings: warnings}
	units, forbidden, err := count(ctx, src, resources, scope)
	if err != nil {
		return nil, err
	}
	if len(forbidden) > 0 {
		sort.Strings(forbidden)
		inv.Warnings = append(inv.Warnings, fmt.Sprintf("the source's token may not list %s: those objects are not migrated",
			strings.Join(forbidden, ", ")))
	}
	inv.Units = units
	in := discover.Input{}
	custom := map[schema.GroupVersionResource]bool{}
	for _, u := range units {
		if !builtinGroup(u.Resource.GVR.Group) && !custom[u.Resource.GVR] {
			custom[u.Resource.GVR] = true
			in.CustomKinds = append(in.CustomKinds, u.Resource)
		}
	}
	for _, m := range scope.Namespaces {
		in.Namespaces = append(in.Namespaces, m.Source)
	}
	in.RoleBindingClusterRoles, err = roleBindingClusterRoles(ctx, src.Dynamic, scope)
	if err != nil {
		return nil, err
	}
	if scope.Kinds.Allows(discover.SCCResource.GroupKind()) {
		if in.SCCs, err = discover.Serves(src.Discovery, discover.SCCResource.GVR); err != nil {
			return nil, err
		}
	}
	if inv.Deps, err = discover.FindDependencies(ctx, src.Dynamic, in); err != nil {
		return nil, err
	}
	inv.Deps.CRDs = filterKinds(inv.Deps.CRDs, scope.Kinds)
	inv.Deps.ClusterRoleBindings = filterKinds(inv.Deps.ClusterRoleBindings, scope.Kinds)
	inv.Deps.ClusterRoles = filterKinds(inv.Deps.ClusterRoles, scope.Kinds)
	return inv, nil
}

func filterKinds(objs []*unstructured.Unstructured, f discover.KindFilter) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if f.Allows(o.GroupVersionKind().GroupKind()) {
			out = append(out, o)
		}
	}
	return out
}

// count counts every (kind, namespace) in parallel and keeps the non-empty ones.
func count(ctx context.Context, src Source, resources []discover.Resource, scope Scope) ([]Unit, []string, error) {
	var all []Unit
	for _, r := range resources {
		if !scope.Kinds.Allows(r.GroupKind()) {
			continue
		}
		for _, m := range scope.Namespaces {
			all = append(all, Unit{Resource: r, Namespace: m.Source})
		}
	}
	var mu sync.Mutex
	var forbidden []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range all {
		g.Go(func() error {
			n, err := discover.Count(gctx, src.Dynamic, all[i].Resource, all[i].Namespace, scope.Selector)
			if apierrors.IsForbidden(err) && src.AsUser {
				mu.Lock()
				defer mu.Unlock()
				forbidden = append(forbidden, all[i].Resource.GVR.GroupResource().String()+" in "+all[i].Namespace)
				return nil
			}
			if err != nil {
				return fmt.Errorf("count objects: %w", err)
			}
			all[i].Count = n
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	var out []Unit
	for _, u := range all {
		if u.Count > 0 {
			out = append(out, u)
		}
	}
	return out, forbidden, nil
}

var roleBindingResource = discover.Resource{
	GVR: schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
	GVK: schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding"},
}

// roleBindingClusterRoles names the ClusterRoles that RoleBindings in the
// namespaces refer to.
func roleBindingClusterRoles(ctx context.Context, dyn dynamic.Interface, scope Scope) ([]string, error) {
	if !scope.Kinds.Allows(roleBindingResource.GroupKind()) {
		return nil, nil
	}
	var names []string
	for _, m := range scope.Namespaces {
		err := discover.List(ctx, dyn, roleBindingResource, m.Source, scope.Selector, func(rb *unstructured.Unstructured) error {
			if _, grant := rb.GetLabels()[ferryv1.LabelGrantPlan]; grant {
				return nil // Ferry's own, not migrated
			}
			if k, _, _ := unstructured.NestedString(rb.Object, "roleRef", "kind"); k == "ClusterRole" {
				n, _, _ := unstructured.NestedString(rb.Object, "roleRef", "name")
				names = append(names, n)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return names, nil
}
