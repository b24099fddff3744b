package migrate

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/resources/discover"
)

// Export passes write every object a Run with the same options would
// apply, transformed as Run would apply it, in apply order, without
// writing to the destination; the report counts them as created and what
// the transforms leave out as skipped. o.Transform.Labels are added as in
// Run (leave them empty for manifests that a CD tool will own).
func Export(ctx context.Context, o Options, write func(discover.Resource, *unstructured.Unstructured) error) (*Report, error) {
	inv, err := Take(ctx, o.Source, o.Scope)
	if err != nil {
		return nil, err
	}
	report := NewReport()
	report.Warnings = inv.Warnings
	for _, b := range o.batches(inv) {
		kind := discover.KindName(b.res.GroupKind())
		err := o.each(ctx, b, func(obj *unstructured.Unstructured) error {
			if skip := transformed(&o, b, obj); skip != "" {
				report.Add(ferryv1.ObjectResult{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), Action: ferryv1.ObjectSkipped, Reason: skip})
				return nil
			}
			if err := write(b.res, obj); err != nil {
				return err
			}
			report.Add(ferryv1.ObjectResult{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), Action: ferryv1.ObjectCreated})
			return nil
		})
		if err != nil {
			return report, fmt.Errorf("export %s: %w", kind, err)
		}
	}
	return report, nil
}

// transformed transforms obj in place as Run does and returns why it is
// left out, or "". The destination namespaces are built transformed.
func transformed(o *Options, b batch, obj *unstructured.Unstructured) string {
	if b.isNSObj {
		return ""
	}
	return decide(&o.Transform, obj)
}
