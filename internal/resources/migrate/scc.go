package migrate

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/resources/apply"
	"ferry.dev/ferry/internal/resources/discover"
	"ferry.dev/ferry/internal/resources/scc"
)

// applySCCs applies the SecurityContextConstraints of the migrated service
// accounts one by one: one the destination lacks, or that this plan
// created, is applied as any object; one that exists there otherwise is
// merged (package scc): its subjects are added, its definition is kept,
// and a definition that differs is reported as a conflict in the report's
// warnings.
func (o Options) applySCCs(ctx context.Context, b batch, a *apply.Applier, report *Report) error {
	kind := discover.KindName(b.res.GroupKind())
	served, err := discover.Serves(o.Destination.Discovery, b.res.GVR)
	if err != nil {
		return fmt.Errorf("on the destination: %w", err)
	}
	if !served {
		for _, src := range b.static {
			report.Add(ferryv1.ObjectResult{Kind: kind, Name: src.GetName(), Action: ferryv1.ObjectSkipped,
				Reason: "the destination does not serve SecurityContextConstraints: its own pod admission applies to the migrated service accounts"})
		}
		report.addWarning(fmt.Sprintf("%d SecurityContextConstraints of the migrated service accounts not applied: the destination does not serve them", len(b.static)))
		return ctx.Err()
	}
	for _, src := range b.static {
		obj := src.DeepCopy()
		res := ferryv1.ObjectResult{Kind: kind, Name: obj.GetName()}
		if skip := transformed(&o, b, obj); skip != "" {
			res.Action, res.Reason = ferryv1.ObjectSkipped, skip
			report.Add(res)
			continue
		}
		action, reason, err := o.applySCC(ctx, a, b, obj, report)
		if err != nil {
			report.Fail(res, err)
			continue
		}
		res.Action, res.Reason = action, reason
		report.Add(res)
	}
	return ctx.Err()
}

// applySCC applies or merges one transformed SCC.
func (o Options) applySCC(ctx context.Context, a *apply.Applier, b batch, obj *unstructured.Unstructured, report *Report) (ferryv1.ObjectAction, string, error) {
	ri := o.Destination.Dynamic.Resource(b.res.GVR)
	var action ferryv1.ObjectAction
	var reason string
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err == nil && cur.GetLabels()[ferryv1.LabelPlan] == o.Plan) {
			before := apply.Snapshot{}
			if cur != nil {
				before[cur.GetName()] = apply.Existing{ResourceVersion: cur.GetResourceVersion()}
			}
			action, err = a.One(ctx, apply.Item{GVR: b.res.GVR, Obj: obj, Before: before})
			return err
		}
		if err != nil {
			return fmt.Errorf("get on the destination: %w", err)
		}
		want := obj.DeepCopy()
		m, err := scc.Merge(cur, want, o.Plan, o.Transform.Labels)
		if err != nil {
			return err
		}
		action, reason = ferryv1.ObjectUnchanged, "exists on the destination: merged, no subject to add"
		if m.Patch != nil {
			p, err := withResourceVersion(m.Patch, cur.GetResourceVersion())
			if err != nil {
				return err
			}
			if _, err := ri.Patch(ctx, cur.GetName(), types.MergePatchType, p, metav1.PatchOptions{FieldManager: ferryv1.FieldManager}); err != nil {
				return err
			}
			action, reason = ferryv1.ObjectUpdated, fmt.Sprintf("exists on the destination: merged, %d subjects added", m.Added)
		}
		if len(m.Differences) > 0 {
			reason += "; its definition differs (" + strings.Join(m.Differences, ", ") + ") and is kept"
			report.addWarning(fmt.Sprintf("SecurityContextConstraints %s conflicts: the destination's differs from the source's in %s; the destination's is kept and only the subjects were added — check that the migrated service accounts' pods are admitted under it",
				obj.GetName(), strings.Join(m.Differences, ", ")))
		}
		return nil
	})
	return action, reason, err
}

// withResourceVersion adds metadata.resourceVersion to a JSON merge patch,
// an optimistic lock.
func withResourceVersion(p []byte, rv string) ([]byte, error) {
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(append([]byte(`{"apiVersion":"v1","kind":"Patch",`), p[1:]...)); err != nil {
		return nil, fmt.Errorf("decode patch: %w", err)
	}
	u.SetResourceVersion(rv)
	delete(u.Object, "apiVersion")
	delete(u.Object, "kind")
	return u.MarshalJSON()
}

// unmergeSCCs removes from the destination's SCCs the subjects that the
// migrations selector selects added to them (rollback, cancel).
func unmergeSCCs(ctx context.Context, dst Destination, selector string, report *Report) error {
	sel, err := labels.Parse(selector)
	if err != nil {
		return fmt.Errorf("label selector %q: %w", selector, err)
	}
	ri := dst.Dynamic.Resource(discover.SCCResource.GVR)
	kind := discover.KindName(discover.SCCResource.GroupKind())
	return discover.List(ctx, dst.Dynamic, discover.SCCResource, "", "", func(obj *unstructured.Unstructured) error {
		if _, ok := obj.GetAnnotations()[ferryv1.AnnotationAddedSubjects]; !ok {
			return nil
		}
		res := ferryv1.ObjectResult{Kind: kind, Name: obj.GetName(), Action: ferryv1.ObjectUpdated}
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
			if err != nil {
				return err
			}
			p, removed, err := scc.Unmerge(cur, sel)
			if err != nil || p == nil {
				res.Action = ""
				return err
			}
			if p, err = withResourceVersion(p, cur.GetResourceVersion()); err != nil {
				return err
			}
			res.Reason = fmt.Sprintf("removed the %d subjects the migration added", removed)
			_, err = ri.Patch(ctx, cur.GetName(), types.MergePatchType, p, metav1.PatchOptions{FieldManager: ferryv1.FieldManager})
			return err
		})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			report.Fail(res, fmt.Errorf("remove added subjects: %w", err))
		case res.Action != "":
			report.Add(res)
		}
		return nil
	})
}
