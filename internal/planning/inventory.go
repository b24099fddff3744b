package planning

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/discover"
	"ferry.dev/ferry/internal/resources/migrate"
	"ferry.dev/ferry/internal/resources/transform"
)

// inventory takes the inventory of the source namespaces and rejects kinds
// the destination does not serve, unless the migration brings their CRD.
func inventory(ctx context.Context, _ *ferryv1.Plan, s migrate.Scope, src, dst *cluster.Clients, res *Result) error {
	inv, err := migrate.Take(ctx, migrate.Source{Discovery: src.Kube.Discovery(), Dynamic: src.Dynamic, AsUser: src.AsUser}, s)
	if err != nil {
		return fmt.Errorf("take the inventory of cluster %s: %w", src.Name, err)
	}
	res.inventory = inv
	res.Warnings = append(res.Warnings, inv.Warnings...)
	if u := inv.Deps.Unreadable; len(u) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf(
			"the token of source cluster %s may not read some cluster-scoped objects the namespaces may need (%s): they are not migrated; a cluster admin must copy them to the destination",
			src.Name, strings.Join(u, ", ")))
	}
	for _, u := range inv.Units {
		if reason, ok := transform.PlatformMade(u.Resource.GroupKind()); ok {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%d %s in %s skipped: %s",
				u.Count, discover.KindName(u.Resource.GroupKind()), u.Namespace, reason))
		}
	}
	unsupported, err := unsupportedKinds(inv, dst)
	if err != nil {
		return err
	}
	if len(unsupported) > 0 {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonUnsupportedKinds, Message: fmt.Sprintf(
			"destination cluster %s does not serve %s: install those APIs there, or exclude the kinds with --exclude-kinds",
			dst.Name, strings.Join(unsupported, ", "))}
	}
	return nil
}

// unsupportedKinds names, sorted, the kinds of the inventory that the
// destination does not serve and whose CRD the migration does not bring.
func unsupportedKinds(inv *migrate.Inventory, dst *cluster.Clients) ([]string, error) {
	crdGroups := map[string]bool{}
	for _, crd := range inv.Deps.CRDs {
		g, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		crdGroups[g] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, u := range inv.Units {
		gvr := u.Resource.GVR
		if _, skipped := transform.PlatformMade(u.Resource.GroupKind()); skipped || crdGroups[gvr.Group] || seen[gvr.String()] {
			continue
		}
		seen[gvr.String()] = true
		ok, err := discover.Serves(dst.Kube.Discovery(), gvr)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", dst.Name, err)
		}
		if !ok {
			out = append(out, discover.KindName(u.Resource.GroupKind())+" ("+gvr.GroupVersion().String()+")")
		}
	}
	sort.Strings(out)
	return out, nil
}

// tally counts what the migration will apply and what it will skip and
// why, with the transforms a migration runs and the plan's claim list.
func tally(ctx context.Context, p *ferryv1.Plan, s migrate.Scope, src, _ *cluster.Clients, res *Result) error {
	tc := TransformContext(p, s, res.PVCs)
	t, err := res.inventory.Tally(ctx, migrate.Source{Discovery: src.Kube.Discovery(), Dynamic: src.Dynamic, AsUser: src.AsUser}, s, &tc)
	if err != nil {
		return fmt.Errorf("count the objects of cluster %s: %w", src.Name, err)
	}
	res.Counts, res.Total, res.Skipped = t.Applied, t.Total(), t.Skipped
	return nil
}
