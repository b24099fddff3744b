// Package apply writes objects to the destination cluster with
// server-side apply under Ferry's field manager, in parallel, and tells
// for each whether it was created, updated or already as wanted.
package apply

import (
	"context"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Existing is what the destination already holds of one object.
type Existing struct {
	ResourceVersion string
	Labels          map[string]string
}

// Snapshot maps object names to what the destination holds.
type Snapshot map[string]Existing

// Item is one object to apply.
type Item struct {
	// GVR of the object on the destination.
	GVR schema.GroupVersionResource
	// Obj is the transformed object.
	Obj *unstructured.Unstructured
	// Before is what the destination held of this kind in this namespace
	// before the migration applied it (nil: unknown, counted as created).
	Before Snapshot
}

// Result is the outcome of applying one Item.
type Result struct {
	Item   Item
	Action ferryv1.ObjectAction
	Err    error
}

// Applier applies objects to one cluster.
type Applier struct {
	Dynamic  dynamic.Interface
	Metadata metadata.Interface
	// Workers is the number of parallel requests; 32 when zero.
	Workers int
}

// Snapshot lists the names and versions of the objects of gvr in
// namespace ("" for cluster scope) without their content.
func (a *Applier) Snapshot(ctx context.Context, gvr schema.GroupVersionResource, namespace string) (Snapshot, error) {
	s := Snapshot{}
	opts := metav1.ListOptions{Limit: 1000}
	for {
		var l *metav1.PartialObjectMetadataList
		var err error
		if namespace == "" {
			l, err = a.Metadata.Resource(gvr).List(ctx, opts)
		} else {
			l, err = a.Metadata.Resource(gvr).Namespace(namespace).List(ctx, opts)
		}
		if err != nil {
			return nil, fmt.Errorf("list %s in %q on the destination: %w", gvr.Resource, namespace, err)
		}
		for _, o := range l.Items {
			s[o.Name] = Existing{ResourceVersion: o.ResourceVersion, Labels: o.Labels}
		}
		if opts.Continue = l.Continue; opts.Continue == "" {
			return s, nil
		}
	}
}

// resource is where the object of it lives on the cluster.
func (a *Applier) resource(it Item) dynamic.ResourceInterface {
	ri := a.Dynamic.Resource(it.GVR)
	if ns := it.Obj.GetNamespace(); ns != "" {
		return ri.Namespace(ns)
	}
	return ri
}

// applyOptions are how Ferry applies: server-side, under its field
// manager, taking over conflicting fields.
func applyOptions(dryRun bool) metav1.ApplyOptions {
	o := metav1.ApplyOptions{FieldManager: ferryv1.FieldManager, Force: true}
	if dryRun {
		o.DryRun = []string{metav1.DryRunAll}
	}
	return o
}

// Get returns what the cluster holds of the object of it.
func (a *Applier) Get(ctx context.Context, it Item) (*unstructured.Unstructured, error) {
	return a.resource(it).Get(ctx, it.Obj.GetName(), metav1.GetOptions{})
}

// DryRun returns the object as One would leave it, without writing it.
func (a *Applier) DryRun(ctx context.Context, it Item) (*unstructured.Unstructured, error) {
	return a.resource(it).Apply(ctx, it.Obj.GetName(), it.Obj, applyOptions(true))
}

// One applies a single object and classifies the result.
func (a *Applier) One(ctx context.Context, it Item) (ferryv1.ObjectAction, error) {
	out, err := a.resource(it).Apply(ctx, it.Obj.GetName(), it.Obj, applyOptions(false))
	if err != nil {
		return ferryv1.ObjectFailed, err
	}
	before, existed := it.Before[it.Obj.GetName()]
	switch {
	case !existed:
		return ferryv1.ObjectCreated, nil
	case before.ResourceVersion == out.GetResourceVersion():
		return ferryv1.ObjectUnchanged, nil
	default:
		return ferryv1.ObjectUpdated, nil
	}
}

// All applies every item from items with Workers parallel requests and
// calls report for each result (from several goroutines at once). It
// returns when items is closed and drained, or ctx ends.
func (a *Applier) All(ctx context.Context, items <-chan Item, report func(Result)) {
	n := a.Workers
	if n <= 0 {
		n = 32
	}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range items {
				if ctx.Err() != nil {
					report(Result{Item: it, Action: ferryv1.ObjectFailed, Err: ctx.Err()})
					continue
				}
				action, err := a.One(ctx, it)
				report(Result{Item: it, Action: action, Err: err})
			}
		}()
	}
	wg.Wait()
}
