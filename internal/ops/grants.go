package ops

import (
	"context"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/hooks"
	"ferry.dev/ferry/internal/resources/migrate"
)

// PlanCredentials are the user's own credentials on a plan's clusters,
// with which its grants are made (never the controller's).
type PlanCredentials struct {
	// Source and Destination reach the plan's clusters as the user; one
	// is enough when both are the same cluster.
	Source, Destination *rest.Config
}

// PlanGranted is what GrantPlan did on each cluster, by cluster name.
type PlanGranted map[string]*cluster.GrantResult

// PlanGrants returns the grants a plan needs, by cluster name: on the
// source, its source namespaces and those of its source hooks; on the
// destination, its destination namespaces and those of its destination
// hooks. A plan within one cluster has one grant with both.
func (o *Client) PlanGrants(ctx context.Context, p *ferryv1.Plan) (map[string]*cluster.Grant, error) {
	ms, err := migrate.ParseNamespaces(p.Spec.Namespaces)
	if err != nil {
		return nil, err
	}
	src, dst := set{}, set{}
	for _, m := range ms {
		src[m.Source] = true
		dst[m.Destination] = true
	}
	for _, ref := range p.Spec.Hooks {
		h, err := o.GetHook(ctx, ref.Hook)
		if apierrors.IsNotFound(err) {
			continue // validation says so
		}
		if err != nil {
			return nil, err
		}
		place := hooks.PlaceOf(ref, &h.Spec, p.Spec.Namespaces)
		if place.Side == ferryv1.HookDestination {
			dst[place.Namespace] = true
		} else {
			src[place.Namespace] = true
		}
	}
	grant := func() *cluster.Grant {
		return &cluster.Grant{Plan: p.Name, HostNamespace: o.namespace, AgentNamespace: o.namespace}
	}
	out := map[string]*cluster.Grant{p.Spec.SourceCluster: grant()}
	if p.Spec.DestinationCluster != p.Spec.SourceCluster {
		out[p.Spec.DestinationCluster] = grant()
	}
	out[p.Spec.SourceCluster].Source = src.sorted()
	out[p.Spec.DestinationCluster].Destination = dst.sorted()
	return out, nil
}

// GrantPlan makes the plan's grants on its clusters with the user's
// credentials (see cluster.Grant), creating the missing destination
// namespaces when createNamespaces is set. Run it when a plan is created
// or changed, and before a migration whose destination namespaces a
// rollback deleted.
func (o *Client) GrantPlan(ctx context.Context, p *ferryv1.Plan, creds PlanCredentials, createNamespaces bool) (PlanGranted, error) {
	grants, err := o.PlanGrants(ctx, p)
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		g.CreateNamespaces = createNamespaces
	}
	for _, name := range []string{p.Spec.SourceCluster, p.Spec.DestinationCluster} {
		var c ferryv1.Cluster
		if err := o.c.Get(ctx, o.key(name), &c); apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("cluster %s is not registered: run `ferry cluster add %s --kubeconfig FILE`", name, name)
		} else if err != nil {
			return nil, fmt.Errorf("get cluster %s: %w", name, err)
		}
		if c.Spec.ActsAsUser() {
			// Ferry acts there with the user's own token: nothing to
			// grant (planning checks the user's rights instead).
			delete(grants, name)
		}
	}
	// The source first: a missing source namespace stops the grant
	// before any destination namespace is created.
	out := PlanGranted{}
	for _, name := range []string{p.Spec.SourceCluster, p.Spec.DestinationCluster} {
		g, ok := grants[name]
		if !ok || out[name] != nil {
			continue
		}
		cfg := creds.Source
		if name == p.Spec.DestinationCluster && creds.Destination != nil {
			cfg = creds.Destination
		}
		if cfg == nil {
			return out, fmt.Errorf("no credentials of yours for cluster %s: they grant Ferry the plan's namespaces there", name)
		}
		kube, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return out, fmt.Errorf("clients of cluster %s: %w", name, err)
		}
		res, err := g.Apply(ctx, kube)
		if err != nil {
			return out, fmt.Errorf("on cluster %s: %w", name, err)
		}
		out[name] = res
	}
	return out, nil
}

// RevokePlan deletes the plan's grants on its clusters (once the plan is
// gone: its migrations need them to undo what they did) and returns how
// many RoleBindings went.
func (o *Client) RevokePlan(ctx context.Context, p *ferryv1.Plan, creds PlanCredentials) (int, error) {
	n := 0
	for i, cfg := range []*rest.Config{creds.Source, creds.Destination} {
		if cfg == nil || (i == 1 && p.Spec.DestinationCluster == p.Spec.SourceCluster && creds.Source != nil) {
			continue
		}
		kube, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return n, fmt.Errorf("clients of a cluster of plan %s: %w", p.Name, err)
		}
		k, err := cluster.Revoke(ctx, kube, p.Name, o.namespace)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

type set map[string]bool

func (s set) sorted() []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
