// Package planning validates a Plan against its clusters: it checks the
// namespaces, the destination for conflicts, the storage classes and the
// kinds the destination serves, and proposes what to do with each
// persistent volume claim.
package planning

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/discover"
	"ferry.dev/ferry/internal/resources/migrate"
)

// Problem blocks a plan: the Ready condition's reason and message.
type Problem = cluster.Problem

// Result is what validation found.
type Result struct {
	// Problem, when set, blocks the plan.
	Problem *Problem
	// Warnings do not block it.
	Warnings []string
	// PVCs found on the source with their proposed actions.
	PVCs []ferryv1.PlanPVC
	// Counts of objects per kind.
	Counts []ferryv1.KindCount
	// Total number of objects.
	Total int64
}

// Scope builds the migration scope of a plan.
func Scope(p *ferryv1.Plan) (migrate.Scope, error) {
	ns, err := migrate.ParseNamespaces(p.Spec.Namespaces)
	if err != nil {
		return migrate.Scope{}, err
	}
	s := migrate.Scope{Namespaces: ns, Kinds: discover.KindFilter{Include: p.Spec.IncludedKinds, Exclude: p.Spec.ExcludedKinds}}
	if p.Spec.LabelSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.LabelSelector)
		if err != nil {
			return migrate.Scope{}, fmt.Errorf("label selector: %w", err)
		}
		s.Selector = sel.String()
	}
	return s, nil
}

// Validate checks the plan against its clusters. A returned error means
// the check itself could not run (a cluster stopped answering); problems
// of the plan are in Result.Problem.
func Validate(ctx context.Context, p *ferryv1.Plan, src, dst *cluster.Clients) (*Result, error) {
	return run(ctx, p, src, dst, checkSameNamespace, checkDestinationAccess, checkSourceNamespaces, checkConflicts,
		inventory, checkPVCs, checkClaimOverrides)
}

// Claims finds the plan's claims and what it does with each, with only
// the checks that concern them (storage classes, claim overrides): what a
// volume copy needs, without listing every object of the namespaces as
// Validate does.
func Claims(ctx context.Context, p *ferryv1.Plan, src, dst *cluster.Clients) (*Result, error) {
	return run(ctx, p, src, dst, checkPVCs, checkClaimOverrides)
}

// check is one step of validation; it sets Result.Problem when the plan
// cannot run.
type check func(context.Context, *ferryv1.Plan, migrate.Scope, *cluster.Clients, *cluster.Clients, *Result) error

// run runs checks in order until one finds a problem.
func run(ctx context.Context, p *ferryv1.Plan, src, dst *cluster.Clients, checks ...check) (*Result, error) {
	res := &Result{}
	scope, err := Scope(p)
	if err != nil {
		res.Problem = &Problem{Reason: ferryv1.ReasonInvalidSpec, Message: err.Error()}
		return res, nil
	}
	for _, check := range checks {
		if err := check(ctx, p, scope, src, dst, res); err != nil {
			return nil, err
		}
		if res.Problem != nil {
			return res, nil
		}
	}
	return res, nil
}

func checkSameNamespace(_ context.Context, p *ferryv1.Plan, s migrate.Scope, _, _ *cluster.Clients, res *Result) error {
	if p.Spec.SourceCluster != p.Spec.DestinationCluster {
		return nil
	}
	for _, m := range s.Namespaces {
		if m.Source == m.Destination {
			res.Problem = &Problem{Reason: ferryv1.ReasonInvalidSpec, Message: fmt.Sprintf(
				"namespace %s would be migrated onto itself: within one cluster, rename it (%s:NEW-NAME)", m.Source, m.Source)}
		}
	}
	return nil
}

func checkDestinationAccess(ctx context.Context, _ *ferryv1.Plan, _ migrate.Scope, _, dst *cluster.Clients, res *Result) error {
	denied, err := cluster.MissingAccess(ctx, dst, cluster.DestinationAccess)
	if err != nil {
		return fmt.Errorf("check access on cluster %s: %w", dst.Name, err)
	}
	if len(denied) > 0 {
		res.Problem = &Problem{Reason: ferryv1.ReasonInsufficientPermissions, Message: fmt.Sprintf(
			"Ferry may not %s on destination cluster %s: register it with `ferry cluster add %s --role destination`",
			strings.Join(denied, ", "), dst.Name, dst.Name)}
	}
	return nil
}

func checkSourceNamespaces(ctx context.Context, _ *ferryv1.Plan, s migrate.Scope, src, _ *cluster.Clients, res *Result) error {
	var missing []string
	for _, m := range s.Namespaces {
		_, err := src.Kube.CoreV1().Namespaces().Get(ctx, m.Source, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			missing = append(missing, m.Source)
		} else if err != nil {
			return fmt.Errorf("get namespace %s on cluster %s: %w", m.Source, src.Name, err)
		}
	}
	if len(missing) > 0 {
		res.Problem = &Problem{Reason: ferryv1.ReasonNamespaceNotFound, Message: fmt.Sprintf(
			"namespace %s does not exist on source cluster %s: fix the plan's namespaces", strings.Join(missing, ", "), src.Name)}
	}
	return nil
}

// conflictKinds are checked for objects Ferry did not create in an
// existing destination namespace; the generated defaults are ignored.
func checkConflicts(ctx context.Context, p *ferryv1.Plan, s migrate.Scope, _, dst *cluster.Clients, res *Result) error {
	for _, m := range s.Namespaces {
		ns, err := dst.Kube.CoreV1().Namespaces().Get(ctx, m.Destination, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get namespace %s on cluster %s: %w", m.Destination, dst.Name, err)
		}
		if ns.Labels[ferryv1.LabelPlan] == p.Name {
			continue
		}
		foreign, err := foreignObjects(ctx, dst, m.Destination, p.Name)
		if err != nil {
			return err
		}
		if len(foreign) > 0 {
			res.Problem = &Problem{Reason: ferryv1.ReasonNamespaceConflict, Message: fmt.Sprintf(
				"namespace %s on destination cluster %s already holds objects Ferry did not create (%s): migrate into another namespace (%s:NEW-NAME) or empty it",
				m.Destination, dst.Name, strings.Join(foreign, ", "), m.Source)}
			return nil
		}
	}
	return nil
}

func foreignObjects(ctx context.Context, dst *cluster.Clients, ns, plan string) ([]string, error) {
	notOurs, _ := labels.Parse(ferryv1.LabelPlan + "!=" + plan)
	opts := metav1.ListOptions{LabelSelector: notOurs.String(), Limit: 50}
	var found []string
	cms, err := dst.Kube.CoreV1().ConfigMaps(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("list configmaps in %s: %w", ns, err)
	}
	for _, o := range cms.Items {
		if o.Name != "kube-root-ca.crt" {
			found = append(found, "ConfigMap "+o.Name)
		}
	}
	secrets, err := dst.Kube.CoreV1().Secrets(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("list secrets in %s: %w", ns, err)
	}
	for _, o := range secrets.Items {
		if o.Type != corev1.SecretTypeServiceAccountToken {
			found = append(found, "Secret "+o.Name)
		}
	}
	for _, f := range []func() ([]string, error){
		func() ([]string, error) {
			l, err := dst.Kube.AppsV1().Deployments(ns).List(ctx, opts)
			return names("Deployment", l, err)
		},
		func() ([]string, error) {
			l, err := dst.Kube.AppsV1().StatefulSets(ns).List(ctx, opts)
			return names("StatefulSet", l, err)
		},
		func() ([]string, error) {
			l, err := dst.Kube.CoreV1().Services(ns).List(ctx, opts)
			return names("Service", l, err)
		},
		func() ([]string, error) {
			l, err := dst.Kube.CoreV1().PersistentVolumeClaims(ns).List(ctx, opts)
			return names("PersistentVolumeClaim", l, err)
		},
	} {
		n, err := f()
		if err != nil {
			return nil, err
		}
		found = append(found, n...)
	}
	if len(found) > 5 {
		found = append(found[:5], fmt.Sprintf("and %d more", len(found)-5))
	}
	return found, nil
}

// names lists "Kind name" for the items of any typed list.
func names(kind string, list runtime.Object, err error) ([]string, error) {
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", kind, err)
	}
	objs, err := meta(list)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range objs {
		out = append(out, kind+" "+o)
	}
	return out, nil
}

func inventory(ctx context.Context, _ *ferryv1.Plan, s migrate.Scope, src, dst *cluster.Clients, res *Result) error {
	inv, err := migrate.Take(ctx, migrate.Source{Discovery: src.Kube.Discovery(), Dynamic: src.Dynamic}, s)
	if err != nil {
		return fmt.Errorf("take the inventory of cluster %s: %w", src.Name, err)
	}
	res.Counts, res.Total = inv.Counts(), inv.Total()
	res.Warnings = append(res.Warnings, inv.Warnings...)
	crdGroups := map[string]bool{}
	for _, crd := range inv.Deps.CRDs {
		g, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		crdGroups[g] = true
	}
	var unsupported []string
	seen := map[string]bool{}
	for _, u := range inv.Units {
		gv := u.Resource.GVR.GroupVersion()
		if crdGroups[gv.Group] || seen[gv.String()+u.Resource.GVR.Resource] {
			continue
		}
		seen[gv.String()+u.Resource.GVR.Resource] = true
		if !serves(dst, gv.String(), u.Resource.GVR.Resource) {
			unsupported = append(unsupported, discover.KindName(u.Resource.GroupKind())+" ("+gv.String()+")")
		}
	}
	if len(unsupported) > 0 {
		sort.Strings(unsupported)
		res.Problem = &Problem{Reason: ferryv1.ReasonUnsupportedKinds, Message: fmt.Sprintf(
			"destination cluster %s does not serve %s: install those APIs there, or exclude the kinds with --exclude-kinds",
			dst.Name, strings.Join(unsupported, ", "))}
	}
	return nil
}

func serves(c *cluster.Clients, gv, resource string) bool {
	l, err := c.Kube.Discovery().ServerResourcesForGroupVersion(gv)
	if err != nil {
		return false
	}
	for _, r := range l.APIResources {
		if r.Name == resource {
			return true
		}
	}
	return false
}
