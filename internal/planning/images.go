package planning

import (
	"context"
	"fmt"

	"slices"

	"k8s.io/apimachinery/pkg/labels"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/images"
	"ferry.dev/ferry/internal/resources/migrate"
)

// ImageMapping is the mapping of the source registry's images to the
// destination's registry for a migration in scope s, or nil when either
// cluster has no registry (then only the plan's manual registry rewrites
// apply). It is the one place that derives the rewrite from the
// clusters' registries: the CopyImages step copies to where it points,
// and the transforms rewrite the workloads' references with it.
func ImageMapping(s migrate.Scope, src, dst *cluster.Clients) *images.Mapping {
	if src == nil || dst == nil || src.Registry == nil || dst.Registry == nil {
		return nil
	}
	return RegistryMapping(s, src.Registry, dst.Registry)
}

// RegistryMapping is [ImageMapping] from the registries' specs.
func RegistryMapping(s migrate.Scope, src, dst *ferryv1.RegistrySpec) *images.Mapping {
	m := &images.Mapping{
		SourceHosts:         []string{src.Address},
		SourceAddress:       src.Address,
		DestinationAddress:  dst.Address,
		DestinationInternal: dst.InternalAddress,
		Namespaces:          migrate.Map(s.Namespaces),
	}
	if src.InternalAddress != "" && src.InternalAddress != src.Address {
		m.SourceHosts = append(m.SourceHosts, src.InternalAddress)
	}
	return m
}

// ImageCopies lists the images to copy for plan p: every internal image
// of the source's registry that a workload, CronJob, Job or bare Pod of
// the plan's namespaces (those its selector selects) uses. Nil without a
// mapping.
func ImageCopies(ctx context.Context, p *ferryv1.Plan, src, dst *cluster.Clients) ([]images.Copy, error) {
	s, err := Scope(p)
	if err != nil {
		return nil, fmt.Errorf("plan %s is not valid: %w", p.Name, err)
	}
	m := ImageMapping(s, src, dst)
	if m == nil {
		return nil, nil
	}
	sel, err := labels.Parse(s.Selector)
	if err != nil {
		return nil, fmt.Errorf("label selector: %w", err)
	}
	var refs []string
	var streams []images.Copy
	for _, ns := range s.Namespaces {
		uses, err := images.Collect(ctx, src.Client, ns.Source, sel)
		if err != nil {
			return nil, fmt.Errorf("images on cluster %s: %w", src.Name, err)
		}
		for _, u := range uses {
			refs = append(refs, u.Image)
		}
		if streams, err = imageStreamCopies(ctx, m, src, ns.Source, sel, streams); err != nil {
			return nil, err
		}
	}
	return append(m.Copies(refs), streams...), nil
}

// imageStreamCopies adds the copies of the internal tags of the
// ImageStreams in namespace ns to out, each copy once.
func imageStreamCopies(ctx context.Context, m *images.Mapping, src *cluster.Clients, ns string, sel labels.Selector, out []images.Copy) ([]images.Copy, error) {
	list, err := images.Streams(ctx, src.Client, ns, sel)
	if err != nil {
		return nil, fmt.Errorf("image streams on cluster %s: %w", src.Name, err)
	}
	for i := range list {
		for _, c := range m.StreamCopies(&list[i]) {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// listImages records the images a migration of the plan copies.
func listImages(ctx context.Context, p *ferryv1.Plan, _ migrate.Scope, src, dst *cluster.Clients, res *Result) error {
	copies, err := ImageCopies(ctx, p, src, dst)
	if err != nil {
		return err
	}
	for _, c := range copies {
		res.Images = append(res.Images, ferryv1.PlanImage{Source: c.Image, Destination: c.Destination})
	}
	return nil
}
