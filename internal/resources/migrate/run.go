package migrate

import (
	"context"
	"errors"
	"fmt"

	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/resources/apply"
	"ferry.dev/ferry/internal/resources/discover"
	"ferry.dev/ferry/internal/resources/order"
	"ferry.dev/ferry/internal/resources/transform"
)

// Destination is what Run writes to.
type Destination struct {
	Discovery discovery.DiscoveryInterface
	Dynamic   dynamic.Interface
	Metadata  metadata.Interface
	// AsUser says that the clients carry a namespace admin's own token:
	// the destination namespaces and the cluster-scoped dependencies are
	// theirs to leave alone (reported skipped), not Ferry's to write.
	AsUser bool
}

// Options of a resource migration.
type Options struct {
	Source      Source
	Destination Destination
	Scope       Scope
	// Transform holds the plan's mappings and the labels for created objects.
	Transform transform.Context
	// Plan names the plan; objects on the destination that carry another
	// plan's label, or none, are never overwritten.
	Plan string
	// Workers is the number of parallel apply requests (32 when zero).
	Workers int
	// Progress, when set, is called about once a second with the objects
	// done and the total.
	Progress func(done, total int64)
}

// batch is every object of one kind, applied before the next kind starts.
type batch struct {
	res     discover.Resource
	static  []*unstructured.Unstructured // objects already in hand
	units   []Unit                       // or objects to list from the source
	isNSObj bool                         // the Namespace objects themselves
	ready   bool                         // static objects already transformed (a bundle's)
}

// Run migrates the resources of the scope from the source to the
// destination. Per-object failures are recorded in the report, not
// returned; the error is for what stops the whole run.
func Run(ctx context.Context, o Options) (*Report, error) {
	inv, err := Take(ctx, o.Source, o.Scope)
	if err != nil {
		return nil, err
	}
	report := NewReport()
	report.Warnings = inv.Warnings
	total := inv.Total() + int64(len(o.Scope.Namespaces))
	stop := o.progressLoop(report, total)
	defer stop()
	batches := o.batches(inv)
	for _, b := range batches {
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

func (o Options) progressLoop(r *Report, total int64) func() {
	if o.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				o.Progress(r.Done(), total)
			}
		}
	}()
	return func() { close(done); o.Progress(r.Done(), total) }
}

// batches groups the inventory by kind, in apply order.
func (o Options) batches(inv *Inventory) []batch {
	bs := []batch{{res: discover.NamespaceResource, isNSObj: true}}
	for _, deps := range []struct {
		res  discover.Resource
		objs []*unstructured.Unstructured
	}{{discover.CRDResource, inv.Deps.CRDs}, {discover.ClusterRoleResource, inv.Deps.ClusterRoles},
		{discover.ClusterRoleBindingResource, inv.Deps.ClusterRoleBindings}, {discover.SCCResource, inv.Deps.SCCs}} {
		if len(deps.objs) > 0 {
			bs = append(bs, batch{res: deps.res, static: deps.objs})
		}
	}
	byGVR := map[schema.GroupVersionResource]int{}
	for _, u := range inv.Units {
		i, ok := byGVR[u.Resource.GVR]
		if !ok {
			i = len(bs)
			byGVR[u.Resource.GVR] = i
			bs = append(bs, batch{res: u.Resource})
		}
		bs[i].units = append(bs[i].units, u)
	}
	sort.SliceStable(bs, func(i, j int) bool { return order.Less(bs[i].res.GroupKind(), bs[j].res.GroupKind()) })
	return bs
}

// applyBatch applies every object of one kind with parallel workers.
func (o Options) applyBatch(ctx context.Context, b batch, report *Report) error {
	kind := discover.KindName(b.res.GroupKind())
	if b.res.GroupKind() == discover.SCCResource.GroupKind() {
		applier := &apply.Applier{Dynamic: o.Destination.Dynamic, Metadata: o.Destination.Metadata, Workers: o.Workers}
		return o.applySCCs(ctx, b, applier, report)
	}
	if o.Destination.AsUser && (b.isNSObj || b.static != nil) {
		return o.skipAll(ctx, b, report)
	}
	if err := o.served(b.res); err != nil {
		o.failAll(ctx, b, report, err)
		return nil
	}
	start := time.Now()
	applier := &apply.Applier{Dynamic: o.Destination.Dynamic, Metadata: o.Destination.Metadata, Workers: o.Workers}
	snaps := map[string]apply.Snapshot{}
	items := make(chan apply.Item, 256)
	var produceErr error
	go func() {
		defer close(items)
		produceErr = o.produce(ctx, b, applier, snaps, items, report)
	}()
	applier.All(ctx, items, func(r apply.Result) {
		res := ferryv1.ObjectResult{Kind: kind, Namespace: r.Item.Obj.GetNamespace(), Name: r.Item.Obj.GetName(), Action: r.Action}
		if r.Err != nil && o.Destination.AsUser && b.res.GroupKind() == roleBindingResource.GroupKind() && apierrors.IsNotFound(r.Err) {
			// Its ClusterRole is missing on the destination, which
			// planning warned of: only a cluster admin can create it.
			res.Action, res.Reason = ferryv1.ObjectSkipped, "refers to a role missing on the destination, which a cluster admin must create (the plan warned of it); migrate again once it exists: "+r.Err.Error()
			report.Add(res)
			return
		}
		if r.Err != nil {
			report.Fail(res, r.Err)
			return
		}
		report.Add(res)
	})
	logf.FromContext(ctx).V(1).Info("applied kind", "kind", kind, "seconds", time.Since(start).Seconds())
	if produceErr != nil {
		return fmt.Errorf("export %s: %w", kind, produceErr)
	}
	return ctx.Err()
}

// skipAll reports skipped the objects of a batch that a namespace
// admin's token does not write: their namespaces and the cluster-scoped
// objects their namespaces need (which planning warned of).
func (o Options) skipAll(ctx context.Context, b batch, report *Report) error {
	reason := "cluster-scoped and written only by a cluster admin (the destination's token is a namespace admin's): create it there if the application needs it"
	if b.isNSObj {
		reason = "left as it is: the destination's token is a namespace admin's, who may not change namespaces"
	}
	return o.each(ctx, b, func(obj *unstructured.Unstructured) error {
		report.Add(ferryv1.ObjectResult{Kind: discover.KindName(b.res.GroupKind()), Namespace: obj.GetNamespace(),
			Name: obj.GetName(), Action: ferryv1.ObjectSkipped, Reason: reason})
		return nil
	})
}

// produce feeds the transformed objects of a batch into items.
func (o Options) produce(ctx context.Context, b batch, a *apply.Applier, snaps map[string]apply.Snapshot,
	items chan<- apply.Item, report *Report) error {
	emit := func(obj *unstructured.Unstructured) error {
		it, skip, err := o.prepare(ctx, b, a, snaps, obj)
		if err != nil {
			return err
		}
		if skip != "" {
			report.Add(ferryv1.ObjectResult{Kind: discover.KindName(b.res.GroupKind()), Namespace: obj.GetNamespace(),
				Name: obj.GetName(), Action: ferryv1.ObjectSkipped, Reason: skip})
			return nil
		}
		select {
		case items <- it:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return o.each(ctx, b, emit)
}

// each calls emit with every source object of a batch, untransformed (a
// copy of the batch's static objects; the destination namespaces built
// from the source's).
func (o Options) each(ctx context.Context, b batch, emit func(*unstructured.Unstructured) error) error {
	if b.isNSObj {
		return o.produceNamespaces(ctx, emit)
	}
	for _, obj := range b.static {
		if err := emit(obj.DeepCopy()); err != nil {
			return err
		}
	}
	for _, u := range b.units {
		if err := discover.List(ctx, o.Source.Dynamic, u.Resource, u.Namespace, o.Scope.Selector, emit); err != nil {
			return err
		}
	}
	return nil
}

// prepare transforms one object and checks that Ferry may write it.
func (o Options) prepare(ctx context.Context, b batch, a *apply.Applier, snaps map[string]apply.Snapshot,
	obj *unstructured.Unstructured) (apply.Item, string, error) {
	if !b.ready {
		if skip := transformed(&o, b, obj); skip != "" {
			return apply.Item{}, skip, nil
		}
	}
	ns := obj.GetNamespace()
	snap, ok := snaps[ns]
	if !ok {
		var err error
		if snap, err = a.Snapshot(ctx, b.res.GVR, ns); err != nil {
			return apply.Item{}, "", err
		}
		snaps[ns] = snap
	}
	if ex, exists := snap[obj.GetName()]; exists && ex.Labels[ferryv1.LabelPlan] != o.Plan {
		return apply.Item{}, "exists on the destination and was not created by this plan; left as it is", nil
	}
	return apply.Item{GVR: b.res.GVR, Obj: obj, Before: snap}, "", nil
}

// produceNamespaces emits the destination namespaces, built from the
// source namespaces' labels and annotations.
func (o Options) produceNamespaces(ctx context.Context, emit func(*unstructured.Unstructured) error) error {
	for _, m := range o.Scope.Namespaces {
		src, err := o.Source.Dynamic.Resource(discover.NamespaceResource.GVR).Get(ctx, m.Source, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get source namespace %s: %w", m.Source, err)
		}
		ns := &unstructured.Unstructured{}
		ns.SetAPIVersion("v1")
		ns.SetKind("Namespace")
		ns.SetName(m.Destination)
		nsLabels := map[string]string{}
		for k, v := range src.GetLabels() {
			if k != "kubernetes.io/metadata.name" {
				nsLabels[k] = v
			}
		}
		for k, v := range o.Transform.Labels {
			nsLabels[k] = v
		}
		ns.SetLabels(nsLabels)
		ann := map[string]string{}
		for k, v := range src.GetAnnotations() {
			if k != "kubectl.kubernetes.io/last-applied-configuration" {
				ann[k] = v
			}
		}
		if len(ann) > 0 {
			ns.SetAnnotations(ann)
		}
		if err := emit(ns); err != nil {
			return err
		}
	}
	return nil
}

// served checks that the destination serves the batch's group and version.
func (o Options) served(r discover.Resource) error {
	ok, err := discover.Serves(o.Destination.Discovery, r.GVR)
	if err != nil {
		return fmt.Errorf("on the destination: %w", err)
	}
	if !ok {
		return fmt.Errorf("the destination does not serve %s %s: install its API (CRD or operator) there, or exclude the kind from the plan",
			r.GVR.GroupVersion(), r.GVR.Resource)
	}
	return nil
}

// failAll records every object of a batch as failed with cause.
func (o Options) failAll(ctx context.Context, b batch, report *Report, cause error) {
	kind := discover.KindName(b.res.GroupKind())
	add := func(obj *unstructured.Unstructured) error {
		report.Fail(ferryv1.ObjectResult{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}, cause)
		return nil
	}
	for _, obj := range b.static {
		_ = add(obj)
	}
	for _, u := range b.units {
		if err := discover.List(ctx, o.Source.Dynamic, u.Resource, u.Namespace, o.Scope.Selector, add); err != nil {
			report.Fail(ferryv1.ObjectResult{Kind: kind, Namespace: u.Namespace, Name: "*"}, cause)
		}
	}
}

// waitCRDs waits until the destination serves the CRDs just applied.
func (o Options) waitCRDs(ctx context.Context, crds []*unstructured.Unstructured) error {
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, crd := range crds {
		var lastErr error
		err := wait.PollUntilContextCancel(wctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			got, err := o.Destination.Dynamic.Resource(discover.CRDResource.GVR).Get(ctx, crd.GetName(), metav1.GetOptions{})
			lastErr = err
			return err == nil && established(got), nil
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return fmt.Errorf("CRD %s not established on the destination after 60s: %w", crd.GetName(),
				errors.Join(lastErr, errors.New("check the destination API server")))
		}
	}
	return nil
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
