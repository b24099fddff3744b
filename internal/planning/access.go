package planning

import (
	"context"
	"fmt"
	"sort"
	"strings"

	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/discover"
	"ferry.dev/ferry/internal/resources/migrate"
)

// checkSourceAccess requires that Ferry holds SourceNamespaceRole in the
// plan's source namespaces, and checkDestinationAccess
// DestinationNamespaceRole in its destination namespaces. The user grants
// them with their own credentials (`ferry plan create` does, and `ferry
// plan grant`); the controller never grants itself anything. The
// destination's check runs last: a destination namespace that does not
// exist yet is created by the grant, which `ferry plan create` makes only
// once everything else about the plan is right.
func checkSourceAccess(ctx context.Context, p *ferryv1.Plan, s migrate.Scope, src, _ *cluster.Clients, res *Result) error {
	return checkGrants(ctx, p, src, cluster.SourceNamespaceRole, cluster.SourceNamespaceAccess, sourceNamespaces(s), res)
}

func checkDestinationAccess(ctx context.Context, p *ferryv1.Plan, s migrate.Scope, _, dst *cluster.Clients, res *Result) error {
	return checkGrants(ctx, p, dst, cluster.DestinationNamespaceRole, cluster.DestinationNamespaceAccess, destinationNamespaces(s), res)
}

// checkExistingDestinationAccess is checkDestinationAccess for the
// destination namespaces that exist, which the checks after it read.
func checkExistingDestinationAccess(ctx context.Context, p *ferryv1.Plan, s migrate.Scope, _, dst *cluster.Clients, res *Result) error {
	var existing []string
	for _, ns := range destinationNamespaces(s) {
		_, err := dst.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if apierrors.IsForbidden(err) && dst.AsUser {
			// Not the user's: their rights there are checked (and
			// refused) below.
			existing = append(existing, ns)
			continue
		}
		if err != nil {
			return fmt.Errorf("get namespace %s on cluster %s: %w", ns, dst.Name, err)
		}
		existing = append(existing, ns)
	}
	return checkGrants(ctx, p, dst, cluster.DestinationNamespaceRole, cluster.DestinationNamespaceAccess, existing, res)
}

func sourceNamespaces(s migrate.Scope) []string {
	out := make([]string, 0, len(s.Namespaces))
	for _, m := range s.Namespaces {
		out = append(out, m.Source)
	}
	return out
}

func destinationNamespaces(s migrate.Scope) []string {
	out := make([]string, 0, len(s.Namespaces))
	for _, m := range s.Namespaces {
		out = append(out, m.Destination)
	}
	return out
}

// checkGrants samples the rights of role in each namespace on cluster c.
// On a cluster whose token is a user's own, it samples that user's rights
// instead: a namespace admin's plan names only namespaces they administer.
func checkGrants(ctx context.Context, p *ferryv1.Plan, c *cluster.Clients, role string, want []authzv1.ResourceAttributes, namespaces []string, res *Result) error {
	if c.AsUser {
		return checkUserRights(ctx, c, want, namespaces, res)
	}
	var problems []string
	for _, ns := range namespaces {
		denied, err := cluster.MissingAccess(ctx, c, ns, want)
		if err != nil {
			return fmt.Errorf("check access to namespace %s on cluster %s: %w", ns, c.Name, err)
		}
		if len(denied) > 0 {
			problems = append(problems, fmt.Sprintf("namespace %s on cluster %s (may not %s; role %s)",
				ns, c.Name, strings.Join(denied, ", "), role))
		}
	}
	if len(problems) > 0 {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonNotGranted, Message: fmt.Sprintf(
			"Ferry is not granted %s: grant it with your own credentials: `ferry plan grant %s` (with --from-kubeconfig/--to-kubeconfig unless `ferry cluster add` ran on this machine)",
			strings.Join(problems, "; "), p.Name)}
	}
	return nil
}

// checkUserRights requires that the user whose token cluster c holds may
// do, in each namespace, what a migration does there.
func checkUserRights(ctx context.Context, c *cluster.Clients, want []authzv1.ResourceAttributes, namespaces []string, res *Result) error {
	// A namespace admin may not change the Namespace object itself: its
	// labels and annotations are left as they are (see the apply step).
	var rights []authzv1.ResourceAttributes
	for _, ra := range want {
		if ra.Group != "" || ra.Resource != "namespaces" {
			rights = append(rights, ra)
		}
	}
	var problems []string
	for _, ns := range namespaces {
		denied, err := cluster.MissingAccess(ctx, c, ns, rights)
		if err != nil {
			return fmt.Errorf("check your access to namespace %s on cluster %s: %w", ns, c.Name, err)
		}
		if len(denied) > 0 {
			problems = append(problems, fmt.Sprintf("namespace %s on cluster %s (you may not %s)", ns, c.Name, strings.Join(denied, ", ")))
		}
	}
	if len(problems) > 0 {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonNotPermitted, Message: fmt.Sprintf(
			"cluster %s holds your own token, and Ferry does only what you may do: %s; leave those namespaces out of the plan, or ask their admin to make you admin there (the admin ClusterRole in a RoleBinding)",
			c.Name, strings.Join(problems, "; "))}
	}
	return nil
}

// clusterScopedNeed is one kind of cluster-scoped write a plan needs.
type clusterScopedNeed struct {
	c       *cluster.Clients
	access  authzv1.ResourceAttributes
	objects []string
	// dependency marks the inventory's cluster-scoped dependencies,
	// which a namespace admin's migration leaves out (a PV of a moved
	// claim it cannot do without).
	dependency bool
}

// checkClusterScopedAccess requires, only when the plan has cluster-scoped
// objects to write, the optional ClusterWritesRole on the cluster that
// writes them: the CRDs, ClusterRoles, ClusterRoleBindings and SCCs of a
// Full plan's inventory on the destination, the PVs of moved claims on
// both clusters. The message names the objects.
func checkClusterScopedAccess(ctx context.Context, p *ferryv1.Plan, _ migrate.Scope, src, dst *cluster.Clients, res *Result) error {
	needs := clusterScopedNeeds(res, src, dst)
	var problems []string
	clusters := map[string]bool{}
	for _, n := range needs {
		if len(n.objects) == 0 {
			continue
		}
		if n.c.AsUser && n.dependency {
			// A namespace admin's migration never writes them (see
			// migrate.Destination.AsUser).
			sort.Strings(n.objects)
			res.Warnings = append(res.Warnings, fmt.Sprintf(
				"cluster %s holds a namespace admin's token, so the migration leaves out the cluster-scoped %s: a cluster admin must create them there if the application needs them",
				n.c.Name, strings.Join(truncate(n.objects, maxForeign), ", ")))
			continue
		}
		denied, err := cluster.MissingAccess(ctx, n.c, "", []authzv1.ResourceAttributes{n.access})
		if err != nil {
			return fmt.Errorf("check cluster-scoped access on cluster %s: %w", n.c.Name, err)
		}
		if len(denied) > 0 && n.c.AsUser {
			sort.Strings(n.objects)
			res.Problem = &cluster.Problem{Reason: ferryv1.ReasonNotPermitted, Message: fmt.Sprintf(
				"cluster %s holds a namespace admin's token, which may not %s, so claims cannot be moved (%s): copy them instead (--pvc NS/NAME:action=copy)",
				n.c.Name, denied[0], strings.Join(truncate(n.objects, maxForeign), ", "))}
			return nil
		}
		if len(denied) > 0 {
			sort.Strings(n.objects)
			problems = append(problems, fmt.Sprintf("%s on cluster %s (for %s)", denied[0], n.c.Name, strings.Join(truncate(n.objects, maxForeign), ", ")))
			clusters[n.c.Name] = true
		}
	}
	if len(problems) == 0 {
		return nil
	}
	var cmds []string
	for name := range clusters {
		cmds = append(cmds, fmt.Sprintf("`ferry cluster add %s --cluster-scoped-writes`", name))
	}
	sort.Strings(cmds)
	res.Problem = &cluster.Problem{Reason: ferryv1.ReasonInsufficientPermissions, Message: fmt.Sprintf(
		"the plan has cluster-scoped objects that Ferry may not write: %s; grant Ferry's optional role %s with %s, or leave those out of the plan",
		strings.Join(problems, "; "), cluster.ClusterWritesRole, strings.Join(cmds, " and "))}
	return nil
}

// clusterScopedNeeds lists the cluster-scoped writes of a plan.
func clusterScopedNeeds(res *Result, src, dst *cluster.Clients) []clusterScopedNeed {
	var needs []clusterScopedNeed
	if inv := res.inventory; inv != nil && inv.Deps != nil {
		for _, d := range []struct {
			r    discover.Resource
			objs []string
		}{
			{discover.CRDResource, names(inv.Deps.CRDs)},
			{discover.ClusterRoleResource, names(inv.Deps.ClusterRoles)},
			{discover.ClusterRoleBindingResource, names(inv.Deps.ClusterRoleBindings)},
			{discover.SCCResource, names(inv.Deps.SCCs)},
		} {
			needs = append(needs, clusterScopedNeed{c: dst, objects: prefixed(discover.KindName(d.r.GroupKind()), d.objs), dependency: true,
				access: authzv1.ResourceAttributes{Verb: "create", Group: d.r.GVR.Group, Resource: d.r.GVR.Resource}})
		}
	}
	var pvs []string
	for _, c := range res.Moved() {
		pvs = append(pvs, "PersistentVolume "+c.SourceVolume)
	}
	needs = append(needs,
		clusterScopedNeed{c: src, objects: pvs, access: authzv1.ResourceAttributes{Verb: "patch", Resource: "persistentvolumes"}},
		clusterScopedNeed{c: dst, objects: pvs, access: authzv1.ResourceAttributes{Verb: "create", Resource: "persistentvolumes"}})
	return needs
}

func names[T interface{ GetName() string }](objs []T) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.GetName())
	}
	return out
}

func prefixed(kind string, objs []string) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, kind+" "+o)
	}
	return out
}
