package discover

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"ferry.dev/ferry/internal/resources/scc"
)

// Cluster-scoped kinds Ferry exports as dependencies of namespaced ones.
var (
	CRDResource = Resource{GVR: schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"},
		GVK: schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}}
	ClusterRoleBindingResource = Resource{GVR: schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
		GVK: schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding"}}
	ClusterRoleResource = Resource{GVR: schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
		GVK: schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}}
	PVResource = Resource{GVR: schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumes"},
		GVK: schema.GroupVersionKind{Version: "v1", Kind: "PersistentVolume"}}
	SCCResource       = Resource{GVR: scc.GVR, GVK: scc.GVK}
	NamespaceResource = Resource{GVR: schema.GroupVersionResource{Version: "v1", Resource: "namespaces"},
		GVK: schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}}
)

// Dependencies are the cluster-scoped objects the exported namespaced
// objects need.
type Dependencies struct {
	// CRDs of the exported custom resources.
	CRDs []*unstructured.Unstructured
	// ClusterRoleBindings naming the namespaces' service accounts, and the
	// ClusterRoles they and the namespaces' RoleBindings refer to (except
	// Kubernetes' own default roles, which every cluster has).
	ClusterRoleBindings, ClusterRoles []*unstructured.Unstructured
	// SCCs are OpenShift's SecurityContextConstraints whose users or
	// groups name the namespaces' service accounts.
	SCCs []*unstructured.Unstructured
	// Unreadable lists what the source's credentials may not read
	// ("list ClusterRoleBindings", "get ClusterRole app-reader"), so
	// may be missing above: a namespace admin's token. Plans warn of it.
	Unreadable []string
}

// Input tells FindDependencies what was exported.
type Input struct {
	// Namespaces migrated, on the source.
	Namespaces []string
	// CustomKinds present in the namespaces: resources of groups served by CRDs.
	CustomKinds []Resource
	// RoleBindingClusterRoles are the ClusterRoles named by exported RoleBindings.
	RoleBindingClusterRoles []string
	// SCCs says that the source serves SecurityContextConstraints.
	SCCs bool
}

// FindDependencies collects the cluster-scoped objects of in.
func FindDependencies(ctx context.Context, dyn dynamic.Interface, in Input) (*Dependencies, error) {
	d := &Dependencies{}
	seen := map[string]bool{}
	for _, r := range in.CustomKinds {
		name := r.GVR.Resource + "." + r.GVR.Group
		if seen[name] {
			continue
		}
		seen[name] = true
		crd, err := dyn.Resource(CRDResource.GVR).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue // served by an aggregated API server, not a CRD
		}
		if apierrors.IsForbidden(err) {
			d.Unreadable = append(d.Unreadable, "get CustomResourceDefinition "+name)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get CRD %s: %w", name, err)
		}
		setKind(crd, CRDResource)
		d.CRDs = append(d.CRDs, crd)
	}
	roles, err := d.findBindings(ctx, dyn, in.Namespaces)
	if apierrors.IsForbidden(err) {
		d.Unreadable = append(d.Unreadable, "list ClusterRoleBindings (those naming the namespaces' service accounts)")
	} else if err != nil {
		return nil, err
	}
	for _, r := range in.RoleBindingClusterRoles {
		roles[r] = true
	}
	if in.SCCs {
		if err := d.findSCCs(ctx, dyn, in.Namespaces); apierrors.IsForbidden(err) {
			d.Unreadable = append(d.Unreadable, "list SecurityContextConstraints")
		} else if err != nil {
			return nil, err
		}
	}
	return d, d.findClusterRoles(ctx, dyn, roles)
}

// findSCCs keeps the SecurityContextConstraints naming a service account
// of the namespaces, or all of a namespace's service accounts.
func (d *Dependencies) findSCCs(ctx context.Context, dyn dynamic.Interface, namespaces []string) error {
	inNS := map[string]bool{}
	for _, ns := range namespaces {
		inNS[ns] = true
	}
	return List(ctx, dyn, SCCResource, "", "", func(obj *unstructured.Unstructured) error {
		if scc.NamesNamespace(obj, inNS) {
			d.SCCs = append(d.SCCs, obj.DeepCopy())
		}
		return nil
	})
}

func setKind(obj *unstructured.Unstructured, r Resource) {
	obj.SetAPIVersion(r.GVK.GroupVersion().String())
	obj.SetKind(r.GVK.Kind)
}

// findBindings keeps the ClusterRoleBindings with a ServiceAccount subject
// in one of the namespaces, and returns the ClusterRoles they name.
func (d *Dependencies) findBindings(ctx context.Context, dyn dynamic.Interface, namespaces []string) (map[string]bool, error) {
	inNS := map[string]bool{}
	for _, ns := range namespaces {
		inNS[ns] = true
	}
	roles := map[string]bool{}
	err := List(ctx, dyn, ClusterRoleBindingResource, "", "", func(crb *unstructured.Unstructured) error {
		subjects, _, _ := unstructured.NestedSlice(crb.Object, "subjects")
		for _, s := range subjects {
			m, _ := s.(map[string]any)
			if m["kind"] == "ServiceAccount" && inNS[fmt.Sprint(m["namespace"])] {
				d.ClusterRoleBindings = append(d.ClusterRoleBindings, crb.DeepCopy())
				if name, _, _ := unstructured.NestedString(crb.Object, "roleRef", "name"); name != "" {
					roles[name] = true
				}
				break
			}
		}
		return nil
	})
	return roles, err
}

func (d *Dependencies) findClusterRoles(ctx context.Context, dyn dynamic.Interface, roles map[string]bool) error {
	for name := range roles {
		cr, err := dyn.Resource(ClusterRoleResource.GVR).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if apierrors.IsForbidden(err) {
			if !defaultClusterRole(name) {
				d.Unreadable = append(d.Unreadable, "get ClusterRole "+name)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("get ClusterRole %s: %w", name, err)
		}
		if cr.GetLabels()["kubernetes.io/bootstrapping"] == "rbac-defaults" {
			continue // every cluster has its own
		}
		setKind(cr, ClusterRoleResource)
		d.ClusterRoles = append(d.ClusterRoles, cr)
	}
	return nil
}

// defaultClusterRole tells, without reading it, whether a ClusterRole is
// one every cluster has: the user-facing roles and Kubernetes' system
// roles.
func defaultClusterRole(name string) bool {
	switch name {
	case "admin", "edit", "view", "cluster-admin":
		return true
	}
	return strings.HasPrefix(name, "system:")
}
