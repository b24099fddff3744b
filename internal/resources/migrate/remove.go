package migrate

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/resources/discover"
)

// Remove deletes from the destination every object that carries the
// label selector (a plan's or a migration's label): namespaces Ferry
// created go whole; in namespaces it did not create, only its own objects
// go; then its cluster-scoped objects. The report counts every object of
// Ferry's that went, those in the deleted namespaces included. It does not
// wait for deleted namespaces to go: Report.Terminating lists those still
// there; call it again until none is (a namespace already terminating is
// not counted again).
func Remove(ctx context.Context, dst Destination, namespaces []string, selector string) (*Report, error) {
	report := NewReport()
	var deleting []string
	for _, ns := range namespaces {
		obj, err := dst.Dynamic.Resource(discover.NamespaceResource.GVR).Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return report, fmt.Errorf("get destination namespace %s: %w", ns, err)
		}
		if obj.GetDeletionTimestamp() != nil {
			deleting = append(deleting, ns) // counted by the call that deleted it
			continue
		}
		if matches(obj, selector) {
			// The namespace controller deletes what the namespace holds;
			// the report counts Ferry's objects in it as deleted too.
			if err := eachInNamespace(ctx, dst, ns, selector, recordDeleted(report)); err != nil {
				return report, err
			}
			if err := deleteObject(ctx, dst, discover.NamespaceResource, obj, report); err != nil {
				return report, err
			}
			deleting = append(deleting, ns)
			continue
		}
		err = eachInNamespace(ctx, dst, ns, selector, func(r discover.Resource, obj *unstructured.Unstructured) error {
			return deleteObject(ctx, dst, r, obj, report)
		})
		if err != nil {
			return report, err
		}
	}
	if dst.AsUser {
		// A namespace admin's migration writes no cluster-scoped object.
		terminating, err := existing(ctx, dst, deleting)
		report.Terminating = terminating
		return report, err
	}
	clusterScoped := []discover.Resource{discover.ClusterRoleBindingResource, discover.ClusterRoleResource, discover.CRDResource}
	sccs, err := discover.Serves(dst.Discovery, discover.SCCResource.GVR)
	if err != nil {
		return report, fmt.Errorf("on the destination: %w", err)
	}
	if sccs {
		clusterScoped = append(clusterScoped, discover.SCCResource)
		if err := unmergeSCCs(ctx, dst, selector, report); err != nil {
			return report, err
		}
	}
	for _, r := range clusterScoped {
		err := discover.List(ctx, dst.Dynamic, r, "", selector, func(obj *unstructured.Unstructured) error {
			return deleteObject(ctx, dst, r, obj, report)
		})
		if err != nil {
			return report, err
		}
	}
	terminating, err := existing(ctx, dst, deleting)
	report.Terminating = terminating
	return report, err
}

func matches(obj *unstructured.Unstructured, selector string) bool {
	sel, err := metav1.ParseToLabelSelector(selector)
	if err != nil {
		return false
	}
	for k, v := range sel.MatchLabels {
		if obj.GetLabels()[k] != v {
			return false
		}
	}
	return len(sel.MatchExpressions) == 0
}

// eachInNamespace calls fn for every object in namespace ns that carries
// the label selector, of every kind the destination serves.
func eachInNamespace(ctx context.Context, dst Destination, ns, selector string,
	fn func(discover.Resource, *unstructured.Unstructured) error) error {
	resources, _, err := discover.Namespaced(dst.Discovery)
	if err != nil {
		return err
	}
	for _, r := range resources {
		if r.GVR.Group == ferryv1.GroupVersion.Group {
			// Ferry's own objects (a namespace admin's Plans and
			// Migrations, when their namespace on the host is also the
			// destination) carry the plan's label too: never removed.
			continue
		}
		err := discover.List(ctx, dst.Dynamic, r, ns, selector, func(obj *unstructured.Unstructured) error {
			return fn(r, obj)
		})
		if apierrors.IsForbidden(err) && dst.AsUser {
			continue // a kind the namespace admin may not list: Ferry made none as them
		}
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err) {
			return err
		}
	}
	return nil
}

// recordDeleted records objects as deleted without deleting them: they go
// with their namespace.
func recordDeleted(report *Report) func(discover.Resource, *unstructured.Unstructured) error {
	return func(r discover.Resource, obj *unstructured.Unstructured) error {
		report.Add(ferryv1.ObjectResult{Kind: discover.KindName(r.GroupKind()), Namespace: obj.GetNamespace(),
			Name: obj.GetName(), Action: ferryv1.ObjectDeleted})
		return nil
	}
}

func deleteObject(ctx context.Context, dst Destination, r discover.Resource, obj *unstructured.Unstructured, report *Report) error {
	ri := dst.Dynamic.Resource(r.GVR)
	var res interface {
		Delete(context.Context, string, metav1.DeleteOptions, ...string) error
	} = ri
	if obj.GetNamespace() != "" {
		res = ri.Namespace(obj.GetNamespace())
	}
	bg := metav1.DeletePropagationBackground
	err := res.Delete(ctx, obj.GetName(), metav1.DeleteOptions{PropagationPolicy: &bg})
	result := ferryv1.ObjectResult{Kind: discover.KindName(r.GroupKind()), Namespace: obj.GetNamespace(), Name: obj.GetName(), Action: ferryv1.ObjectDeleted}
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		result.Action, result.Reason = ferryv1.ObjectFailed, err.Error()
	}
	report.Add(result)
	return nil
}

// waitGone waits until the namespaces are deleted.
// existing returns the namespaces that still exist.
func existing(ctx context.Context, dst Destination, namespaces []string) ([]string, error) {
	var out []string
	for _, ns := range namespaces {
		_, err := dst.Dynamic.Resource(discover.NamespaceResource.GVR).Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get destination namespace %s: %w", ns, err)
		}
		out = append(out, ns)
	}
	return out, nil
}
