package migrate

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/resources/discover"
)

// Bundle is a plan's export: every object as Run would apply it, already
// transformed, in apply order. A migration through a replication
// repository stores it there and applies it from there, so that the
// destination's side needs only the repository; it doubles as a record
// of what was migrated.
type Bundle struct {
	Items []BundleItem `json:"items"`
}

// BundleItem is one object of a bundle and the resource it is of.
type BundleItem struct {
	Resource discover.Resource          `json:"resource"`
	Object   *unstructured.Unstructured `json:"object"`
}

// ExportBundle exports what Run with o would apply.
func ExportBundle(ctx context.Context, o Options) (*Bundle, *Report, error) {
	b := &Bundle{}
	report, err := Export(ctx, o, func(r discover.Resource, obj *unstructured.Unstructured) error {
		b.Items = append(b.Items, BundleItem{Resource: r, Object: obj})
		return nil
	})
	return b, report, err
}

// Marshal encodes the bundle as JSON.
func (b *Bundle) Marshal() ([]byte, error) { return json.Marshal(b) }

// UnmarshalBundle decodes what Marshal wrote.
func UnmarshalBundle(data []byte) (*Bundle, error) {
	var b Bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("decode resource bundle: %w", err)
	}
	for i, it := range b.Items {
		if it.Object == nil || it.Resource.GVR.Resource == "" {
			return nil, fmt.Errorf("resource bundle: item %d has no object or resource", i)
		}
	}
	return &b, nil
}

// RunBundle applies a bundle to o's destination as Run applies what it
// exports: kind by kind in the bundle's order, CRDs established before
// their objects, objects of other plans left alone. The objects are
// applied as they are, without transforming them again; o.Source is not
// read.
func RunBundle(ctx context.Context, o Options, bundle *Bundle) (*Report, error) {
	report := NewReport()
	stop := o.progressLoop(report, int64(len(bundle.Items)))
	defer stop()
	for _, b := range bundleBatches(bundle) {
		if err := o.applyBatch(ctx, b, report); err != nil {
			return report, err
		}
		if b.res.GroupKind() == discover.CRDResource.GroupKind() {
			if err := o.waitCRDs(ctx, b.static); err != nil {
				return report, err
			}
		}
	}
	return report, nil
}

// bundleBatches groups consecutive items of one resource.
func bundleBatches(bundle *Bundle) []batch {
	var out []batch
	for _, it := range bundle.Items {
		if n := len(out); n > 0 && out[n-1].res.GVR == it.Resource.GVR {
			out[n-1].static = append(out[n-1].static, it.Object)
			continue
		}
		out = append(out, batch{res: it.Resource, static: []*unstructured.Unstructured{it.Object}, ready: true})
	}
	return out
}
