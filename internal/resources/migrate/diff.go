package migrate

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/resources/apply"
	"ferry.dev/ferry/internal/resources/discover"
)

// Change is what applying one object of a plan would do to the
// destination.
type Change struct {
	Kind      string
	Namespace string
	Name      string
	// Action is ObjectCreated, ObjectUpdated (it would change),
	// ObjectUnchanged or ObjectSkipped (the transforms leave it out).
	Action ferryv1.ObjectAction
	// Diff is a unified diff of the object as it is and as it would be,
	// for ObjectUpdated.
	Diff string
	// Note says more: why an object is skipped, or that the destination's
	// object is not Ferry's and a cutover would leave it as it is.
	Note string
}

// Diff compares, object by object, what a Run with the same options would
// apply with what the destination holds, by a server-side dry run of each
// apply: nothing is written to either cluster. Ferry's own labels
// (ferry.dev/...) are left out of the comparison.
func Diff(ctx context.Context, o Options) ([]Change, error) {
	var out []Change
	report, err := Export(ctx, o, func(res discover.Resource, obj *unstructured.Unstructured) error {
		c, err := o.diffOne(ctx, res, obj)
		if err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, s := range report.Objects() {
		out = append(out, Change{Kind: s.Kind, Namespace: s.Namespace, Name: s.Name, Action: ferryv1.ObjectSkipped, Note: s.Reason})
	}
	return out, nil
}

func (o Options) diffOne(ctx context.Context, res discover.Resource, obj *unstructured.Unstructured) (Change, error) {
	c := Change{Kind: discover.KindName(res.GroupKind()), Namespace: obj.GetNamespace(), Name: obj.GetName()}
	a := &apply.Applier{Dynamic: o.Destination.Dynamic}
	it := apply.Item{GVR: res.GVR, Obj: obj}
	live, err := a.Get(ctx, it)
	if apierrors.IsNotFound(err) {
		c.Action = ferryv1.ObjectCreated
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("get %s %s on the destination: %w", c.Kind, objectKey(obj), err)
	}
	if live.GetLabels()[ferryv1.LabelPlan] != o.Plan {
		c.Note = "exists on the destination and was not created by this plan: a cutover leaves it as it is"
	}
	would, err := a.DryRun(ctx, it)
	if err != nil {
		return c, fmt.Errorf("dry-run apply of %s %s on the destination: %w", c.Kind, objectKey(obj), err)
	}
	before, after := comparable(live), comparable(would)
	if reflect.DeepEqual(before, after) {
		c.Action = ferryv1.ObjectUnchanged
		return c, nil
	}
	c.Action = ferryv1.ObjectUpdated
	c.Diff, err = unifiedDiff(before, after, objectKey(obj))
	return c, err
}

// comparable returns the object's content without what the API server
// changes on every write or Ferry marks objects with.
func comparable(u *unstructured.Unstructured) map[string]any {
	obj := u.DeepCopy().Object
	for _, f := range []string{"managedFields", "resourceVersion", "generation"} {
		unstructured.RemoveNestedField(obj, "metadata", f)
	}
	if l, ok, _ := unstructured.NestedStringMap(obj, "metadata", "labels"); ok {
		for k := range l {
			if strings.HasPrefix(k, "ferry.dev/") {
				delete(l, k)
			}
		}
		if len(l) == 0 {
			unstructured.RemoveNestedField(obj, "metadata", "labels")
		} else {
			_ = unstructured.SetNestedStringMap(obj, l, "metadata", "labels")
		}
	}
	return obj
}

func unifiedDiff(before, after map[string]any, name string) (string, error) {
	a, err := yaml.Marshal(before)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", name, err)
	}
	b, err := yaml.Marshal(after)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", name, err)
	}
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(string(a)), B: difflib.SplitLines(string(b)),
		FromFile: name + " (destination)", ToFile: name + " (after apply)", Context: 3})
}

func objectKey(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return ns + "/" + obj.GetName()
	}
	return obj.GetName()
}
