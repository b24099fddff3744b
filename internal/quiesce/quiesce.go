package quiesce

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Report lists what Quiesce or Unquiesce did. Workloads are named
// "Kind/name", as in "Deployment/web".
type Report struct {
	// Changed lists the workloads that were patched.
	Changed []string
	// Unchanged lists the workloads that were left as they were: already
	// quiesced (Quiesce), not quiesced (Unquiesce), finished Jobs, or
	// workloads that disappeared meanwhile.
	Unchanged []string
	// Unmanaged lists, after Quiesce, the pods ("Pod/name") that have not
	// terminated and that no workload handled by this package controls;
	// they are left running and the caller should warn about them.
	Unmanaged []string
}

// Quiesce stops the application in namespace: it scales Deployments,
// StatefulSets and ReplicaSets that no Deployment controls to 0, suspends
// CronJobs and unfinished Jobs, and gives DaemonSets a pod-template node
// selector that no node matches. Before changing a workload it records the
// original value in annotations, with ferryv1.AnnotationQuiescedBy set to
// by; a workload that already carries that annotation keeps the originals it
// has, so Quiesce can run again safely.
//
// A problem with one workload does not stop the others; the errors are
// joined. Quiesce does not wait for the pods to stop: see Wait.
func Quiesce(ctx context.Context, c client.Client, namespace, by string) (Report, error) {
	if err := checkNamespace("quiesce", namespace); err != nil {
		return Report{}, err
	}
	if by == "" {
		return Report{}, fmt.Errorf("quiesce namespace %q: empty quiesced-by value", namespace)
	}
	logger := log.FromContext(ctx).WithValues("namespace", namespace)
	var rep Report
	var errs []error
	for _, k := range quiesceOrder {
		objs, err := list(ctx, c, namespace, k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, obj := range objs {
			ref := k.name + "/" + obj.GetName()
			// A part (a Deployment's ReplicaSet) is not reported: its whole is.
			part := k.partOf != nil && k.partOf(obj) != ""
			var why string
			out, err := patch(ctx, c, k, obj, func(o client.Object) (outcome, error) {
				res, reason, err := quiesceObject(o, k, by)
				why = reason
				return res, err
			})
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("quiesce %s in namespace %q: %w", ref, namespace, err))
			case out == changed:
				logger.Info("quiesced workload", "workload", ref, "quiescedBy", by)
				rep.Changed = append(rep.Changed, ref)
			case out == skipped && part:
				logger.V(1).Info("skipped workload", "workload", ref, "reason", why)
			case out == skipped:
				logger.V(1).Info("skipped workload", "workload", ref, "reason", why)
				rep.Unchanged = append(rep.Unchanged, ref)
			default:
				rep.Unchanged = append(rep.Unchanged, ref)
			}
		}
	}

	idx, pods, err := load(ctx, c, namespace)
	if err != nil {
		errs = append(errs, fmt.Errorf("find unmanaged pods: %w", err))
	} else {
		for _, p := range unmanagedPods(idx, pods) {
			logger.Info("leaving unmanaged pod running", "pod", p)
			rep.Unmanaged = append(rep.Unmanaged, "Pod/"+p)
		}
	}
	return rep, errors.Join(errs...)
}

// Unquiesce restores, from their annotations, the values that Quiesce
// changed in the workloads of namespace, and removes the annotations.
// Workloads without ferryv1.AnnotationQuiescedBy are left alone, so
// Unquiesce can run again safely. A problem with one workload does not stop
// the others; the errors are joined.
func Unquiesce(ctx context.Context, c client.Client, namespace string) (Report, error) {
	if err := checkNamespace("unquiesce", namespace); err != nil {
		return Report{}, err
	}
	logger := log.FromContext(ctx).WithValues("namespace", namespace)
	var rep Report
	var errs []error
	for _, k := range unquiesceOrder() {
		objs, err := list(ctx, c, namespace, k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, obj := range objs {
			ref := k.name + "/" + obj.GetName()
			out, err := patch(ctx, c, k, obj, func(obj client.Object) (outcome, error) {
				return unquiesceObject(obj, k)
			})
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("unquiesce %s in namespace %q: %w", ref, namespace, err))
			case out == changed:
				logger.Info("unquiesced workload", "workload", ref)
				rep.Changed = append(rep.Changed, ref)
			case out == cleaned:
				// Part of a workload that is in the report itself.
				logger.V(1).Info("removed copied annotations", "workload", ref)
			case out == skipped:
			default:
				rep.Unchanged = append(rep.Unchanged, ref)
			}
		}
	}
	return rep, errors.Join(errs...)
}

// errNoNamespace is returned for an empty namespace, which a client would
// take as all namespaces.
var errNoNamespace = errors.New("empty namespace")

// checkNamespace returns errNoNamespace, wrapped with op, for an empty
// namespace.
func checkNamespace(op, namespace string) error {
	if namespace == "" {
		return fmt.Errorf("%s: %w", op, errNoNamespace)
	}
	return nil
}

// list returns the workloads of kind k in namespace.
func list(ctx context.Context, c client.Client, namespace string, k kind) ([]client.Object, error) {
	l := k.newList()
	if err := c.List(ctx, l, client.InNamespace(namespace)); err != nil {
		if invisible(k, err) {
			return nil, nil
		}
		return nil, fmt.Errorf("list %ss in namespace %q: %w", k.name, namespace, err)
	}
	items, err := meta.ExtractList(l)
	if err != nil {
		return nil, fmt.Errorf("extract %s list: %w", k.name, err)
	}
	objs := make([]client.Object, 0, len(items))
	for _, item := range items {
		obj, ok := item.(client.Object)
		if !ok {
			return nil, fmt.Errorf("extract %s list: item of type %T is not an object", k.name, item)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// invisible reports whether listing the optional kind k failed because
// the cluster does not serve it, or because the token may not list it (a
// namespace admin's, where OpenShift's kinds are served without a role
// that grants them): there is nothing of it this token could quiesce or
// restore. Running pods of such workloads, if any, show as pods that no
// workload controls (Report.Unmanaged).
func invisible(k kind, err error) bool {
	return k.optional && (notServed(err) || apierrors.IsForbidden(err))
}

// notServed reports whether err says the cluster does not serve a kind.
func notServed(err error) bool {
	return meta.IsNoMatchError(err) || apierrors.IsNotFound(err)
}

// patch applies mutate to obj, a listed workload of kind k, and sends the
// difference as a JSON merge patch with obj's resourceVersion as an
// optimistic lock. On a conflict it gets the object again and retries. A
// workload deleted meanwhile is unchanged.
func patch(ctx context.Context, c client.Client, k kind, obj client.Object, mutate func(client.Object) (outcome, error)) (outcome, error) {
	key := client.ObjectKeyFromObject(obj)
	fresh := false
	var out outcome
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if fresh {
			obj = k.newObject()
			if err := c.Get(ctx, key, obj); err != nil {
				return fmt.Errorf("get %s: %w", k.name, err)
			}
		}
		fresh = true
		before, ok := obj.DeepCopyObject().(client.Object)
		if !ok {
			return fmt.Errorf("copy %s: %T is not an object", k.name, obj)
		}
		var err error
		out, err = mutate(obj)
		if err != nil || (out != changed && out != cleaned) {
			return err
		}
		p := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
		if err := c.Patch(ctx, obj, p, client.FieldOwner(ferryv1.FieldManager)); err != nil {
			return fmt.Errorf("patch %s: %w", k.name, err)
		}
		return nil
	})
	if apierrors.IsNotFound(err) {
		return unchanged, nil
	}
	return out, err
}
