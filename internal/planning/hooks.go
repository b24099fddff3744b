package planning

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/hooks"
)

// LoadHooks reads the Hooks of the plan's namespace on the host, by name.
func LoadHooks(ctx context.Context, c client.Reader, p *ferryv1.Plan) (map[string]*ferryv1.Hook, error) {
	out := map[string]*ferryv1.Hook{}
	if len(p.Spec.Hooks) == 0 {
		return out, nil
	}
	var l ferryv1.HookList
	if err := c.List(ctx, &l, client.InNamespace(p.Namespace)); err != nil {
		return nil, fmt.Errorf("list hooks of %s: %w", p.Namespace, err)
	}
	for i := range l.Items {
		out[l.Items[i].Name] = &l.Items[i]
	}
	return out, nil
}

// ValidateHooks adds what CheckHooks finds to a validation's result.
func ValidateHooks(ctx context.Context, c client.Reader, p *ferryv1.Plan, src, dst *cluster.Clients, res *Result) error {
	if res.Problem != nil || len(p.Spec.Hooks) == 0 {
		return nil
	}
	byName, err := LoadHooks(ctx, c, p)
	if err != nil {
		return err
	}
	prob, warnings, err := CheckHooks(ctx, p, byName, src, dst)
	if err != nil {
		return err
	}
	res.Problem = prob
	res.Warnings = append(res.Warnings, warnings...)
	return nil
}

// CheckHooks checks a plan's hooks (given by name, as found in the plan's
// namespace): each must exist and be runnable, at a phase its plan type
// has, with its service account on the side where it runs. An exec hook
// that selects no running pod now is a warning: its pods may be started
// before it runs. The problem, when not nil, blocks the plan.
func CheckHooks(ctx context.Context, p *ferryv1.Plan, byName map[string]*ferryv1.Hook, src, dst *cluster.Clients) (*cluster.Problem, []string, error) {
	var warnings []string
	for _, ref := range p.Spec.Hooks {
		h := byName[ref.Hook]
		if h == nil {
			return &cluster.Problem{Reason: ferryv1.ReasonHookNotFound, Message: fmt.Sprintf(
				"hook %s does not exist in %s: create it with `ferry hook create %s ...`, or take it out of the plan", ref.Hook, p.Namespace, ref.Hook)}, nil, nil
		}
		if prob := hookProblem(p, ref, h); prob != "" {
			return &cluster.Problem{Reason: ferryv1.ReasonInvalidHook, Message: fmt.Sprintf("hook %s at %s: %s", ref.Hook, ref.Phase, prob)}, nil, nil
		}
		place := hooks.PlaceOf(ref, &h.Spec, p.Spec.Namespaces)
		cl := src
		if place.Side == ferryv1.HookDestination {
			cl = dst
		}
		w, prob, err := checkHookPlace(ctx, p, ref, h, place, cl, src)
		if err != nil {
			return nil, nil, err
		}
		if prob != "" {
			return &cluster.Problem{Reason: ferryv1.ReasonInvalidHook, Message: fmt.Sprintf("hook %s at %s: %s", ref.Hook, ref.Phase, prob)}, nil, nil
		}
		if w != "" {
			warnings = append(warnings, fmt.Sprintf("hook %s at %s: %s", ref.Hook, ref.Phase, w))
		}
	}
	return nil, warnings, nil
}

// hookProblem says what is wrong with a hook at its place in the plan,
// without asking a cluster; "" when nothing is.
func hookProblem(p *ferryv1.Plan, ref ferryv1.PlanHook, h *ferryv1.Hook) string {
	if msg := hooks.Check(&h.Spec); msg != "" {
		return msg
	}
	if !slices.Contains(hooks.Phases(p.Spec.Kind()), ref.Phase) {
		var names []string
		for _, ph := range hooks.Phases(p.Spec.Kind()) {
			names = append(names, string(ph))
		}
		return fmt.Sprintf("a %s plan has no phase %s (it has %s)", p.Spec.Kind(), ref.Phase, strings.Join(names, ", "))
	}
	if ref.Stages && ref.Phase != ferryv1.HookPreBackup && ref.Phase != ferryv1.HookPostBackup {
		return "only PreBackup and PostBackup hooks run in stages"
	}
	return ""
}

// checkHookPlace checks what a hook needs on the cluster where it runs: a
// Job's service account, an exec hook's pods. A PostRestore hook runs
// after the migration applied the namespace's objects, so a service
// account it brings counts: it is looked for on the source too. Before
// that (PreRestore), it must exist on the destination already.
func checkHookPlace(ctx context.Context, p *ferryv1.Plan, ref ferryv1.PlanHook, h *ferryv1.Hook, place hooks.Place, cl, src *cluster.Clients) (warning, problem string, err error) {
	if j := h.Spec.Job; j != nil && j.ServiceAccountName != "" {
		ok, err := serviceAccountExists(ctx, cl, place.Namespace, j.ServiceAccountName)
		if err != nil {
			return "", "", err
		}
		if !ok && place.Side == ferryv1.HookDestination && ref.Phase == ferryv1.HookPostRestore {
			if srcNS, migrated := sourceOf(p.Spec.Namespaces, place.Namespace); migrated {
				if ok, err = serviceAccountExists(ctx, src, srcNS, j.ServiceAccountName); err != nil {
					return "", "", err
				}
			}
		}
		if !ok {
			return "", fmt.Sprintf("its service account %s does not exist in %s on the %s (cluster %s): create it, or change the hook's serviceAccountName",
				j.ServiceAccountName, place.Namespace, place.Side, cl.Name), nil
		}
	}
	if e := h.Spec.Exec; e != nil && place.Side == ferryv1.HookSource {
		targets, err := hooks.Targets(ctx, cl.Kube, place.Namespace, e)
		if err != nil && !apierrors.IsNotFound(err) {
			return "", "", err
		}
		if len(targets) == 0 {
			return fmt.Sprintf("it selects no running pod in %s on cluster %s now; it fails unless one runs when its step comes", place.Namespace, cl.Name), "", nil
		}
	}
	return "", "", nil
}

func serviceAccountExists(ctx context.Context, cl *cluster.Clients, ns, name string) (bool, error) {
	_, err := cl.Kube.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("get service account %s/%s on cluster %s: %w", ns, name, cl.Name, err)
}

// sourceOf returns the source namespace migrated to dst.
func sourceOf(specs []string, dst string) (string, bool) {
	for _, m := range hooks.NamespaceMapping(specs) {
		s, d, _ := strings.Cut(m, ":")
		if d == dst {
			return s, true
		}
	}
	return "", false
}
