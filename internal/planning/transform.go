package planning

import (
	"context"
	"fmt"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/migrate"
	"ferry.dev/ferry/internal/resources/transform"
)

// TransformContext is what the transforms of a migration of plan p need
// from it: the namespace and storage-class mappings, the registry rewrites
// and the claim list claims (Result.PVCs). The caller adds the labels of
// its migration.
func TransformContext(p *ferryv1.Plan, s migrate.Scope, claims []ferryv1.PlanPVC) transform.Context {
	tc := transform.Context{
		NamespaceMap:    migrate.Map(s.Namespaces),
		StorageClassMap: p.Spec.StorageClassMapping,
		Claims:          transform.ClaimsByName(claims),
		RouteDomains:    p.Spec.RouteDomainMapping,
	}
	for _, rw := range p.Spec.RegistryRewrites {
		tc.RegistryRewrites = append(tc.RegistryRewrites, transform.RegistryRewrite{From: rw.From, To: rw.To})
	}
	return tc
}

// Transform finds the plan's claim list on its clusters ([Claims]) and
// returns the [TransformContext] of the plan; a problem of the claims is
// an error.
func Transform(ctx context.Context, p *ferryv1.Plan, src, dst *cluster.Clients) (transform.Context, error) {
	s, err := Scope(p)
	if err != nil {
		return transform.Context{}, fmt.Errorf("plan %s is not valid: %w", p.Name, err)
	}
	res, err := Claims(ctx, p, src, dst)
	if err != nil {
		return transform.Context{}, err
	}
	if res.Problem != nil {
		return transform.Context{}, fmt.Errorf("plan %s is not valid: %w", p.Name, res.Problem)
	}
	tc := TransformContext(p, s, res.PVCs)
	tc.Images = ImageMapping(s, src, dst)
	return tc, nil
}

// MigrateOptions returns the options of a resource migration of plan p
// between its clusters src and dst: its scope, its transforms ([Transform])
// and the clusters' clients. The caller adds Ferry's labels and progress
// reporting as its use needs them.
func MigrateOptions(ctx context.Context, p *ferryv1.Plan, src, dst *cluster.Clients) (migrate.Options, error) {
	s, err := Scope(p)
	if err != nil {
		return migrate.Options{}, fmt.Errorf("plan %s is not valid: %w", p.Name, err)
	}
	tc, err := Transform(ctx, p, src, dst)
	if err != nil {
		return migrate.Options{}, err
	}
	return migrate.Options{
		Source:      migrate.Source{Discovery: src.Kube.Discovery(), Dynamic: src.Dynamic, AsUser: src.AsUser},
		Destination: migrate.Destination{Discovery: dst.Kube.Discovery(), Dynamic: dst.Dynamic, Metadata: dst.Metadata, AsUser: dst.AsUser},
		Scope:       s,
		Transform:   tc,
		Plan:        p.Name,
	}, nil
}
