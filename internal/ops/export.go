package ops

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/planning"
	"ferry.dev/ferry/internal/resources/discover"
	"ferry.dev/ferry/internal/resources/migrate"
)

// ExportPlan passes write every object a cutover of the Full plan name
// would apply on the destination, transformed as it would apply it but
// without Ferry's labels (the manifests are for a CD tool to own), and
// returns the report of what was exported and left out. Nothing is written
// to either cluster. reg builds the clusters' clients.
func (o *Client) ExportPlan(ctx context.Context, reg *cluster.Registry, name string,
	write func(discover.Resource, *unstructured.Unstructured) error) (*migrate.Report, error) {
	opts, err := o.planOptions(ctx, reg, name)
	if err != nil {
		return nil, err
	}
	return migrate.Export(ctx, opts, write)
}

// DiffPlan compares what a cutover of the Full plan name would apply with
// what the destination holds, object by object, by server-side dry runs;
// nothing is written to either cluster.
func (o *Client) DiffPlan(ctx context.Context, reg *cluster.Registry, name string) ([]migrate.Change, error) {
	opts, err := o.planOptions(ctx, reg, name)
	if err != nil {
		return nil, err
	}
	return migrate.Diff(ctx, opts)
}

// planOptions builds the resource-migration options of the Full plan
// name, whose clusters must be registered and Ready.
func (o *Client) planOptions(ctx context.Context, reg *cluster.Registry, name string) (migrate.Options, error) {
	p, err := o.GetPlan(ctx, name)
	if err != nil {
		return migrate.Options{}, err
	}
	if k := p.Spec.Kind(); k != ferryv1.PlanFull {
		return migrate.Options{}, fmt.Errorf("plan %s is a %s plan, which applies no resources: export and diff are for Full plans", name, k)
	}
	src, dst, prob, err := cluster.ForPlan(ctx, o.c, reg, p)
	if err != nil {
		return migrate.Options{}, err
	}
	if prob != nil {
		return migrate.Options{}, fmt.Errorf("plan %s: %s", name, prob.Message)
	}
	return planning.MigrateOptions(ctx, p, src, dst)
}
