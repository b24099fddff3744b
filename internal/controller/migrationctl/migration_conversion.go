package migrationctl

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/claimswap"
	"ferry.dev/ferry/internal/planning"
	"ferry.dev/ferry/internal/resources/transform"
)

// conversionMappings returns the old-to-new claim names of the plan's
// conversion, per namespace.
func (s *session) conversionMappings(ctx context.Context) (map[string]claimswap.Mapping, error) {
	res, err := planning.Claims(ctx, s.plan, s.src, s.dst)
	if err != nil {
		return nil, err
	}
	if res.Problem != nil {
		return nil, fmt.Errorf("plan %s is not valid: %s: %s", s.plan.Name, res.Problem.Reason, res.Problem.Message)
	}
	return planning.ConversionMappings(res.PVCs), nil
}

// switchClaims switches the quiesced workloads of a storage conversion to
// the new claims. It marks the old claims superseded first (by the new
// name and the plan), which is what switching back reads: a switch that
// stops midway is undone in full. The old claims are kept until the user
// deletes them.
func switchClaims(ctx context.Context, s *session) (outcome, error) {
	maps, err := s.conversionMappings(ctx)
	if err != nil {
		return outcome{}, err
	}
	var switched []string
	for _, ns := range sortedNamespaces(maps) {
		m := maps[ns]
		for old, to := range m {
			if err := markSuperseded(ctx, s.src.Client, ns, old, to, s.plan.Name); err != nil {
				return outcome{}, err
			}
		}
		rep, err := claimswap.Swap(ctx, s.src.Client, ns, m, transform.Marks(s.plan.Name, s.m.Name))
		if err != nil {
			return outcome{}, fmt.Errorf("switch to the new claims on cluster %s: %w", s.src.Name, err)
		}
		switched = append(switched, reportNames(ns, rep)...)
	}
	return done(fmt.Sprintf("switched %d workloads to the new claims%s; the old claims are kept, labelled %s=true: delete them once you are satisfied (`kubectl delete pvc -l %s=true -n NAMESPACE`)",
		len(switched), listSuffix(switched), ferryv1.LabelSuperseded, ferryv1.LabelSuperseded)), nil
}

// switchClaimsBack undoes switchClaims, by the marks it left on the old
// claims: the workloads use the old claims again, and those lose their
// mark. It fails while anything still uses a new claim, so that the
// deletion step never deletes a claim in use.
func switchClaimsBack(ctx context.Context, s *session) (outcome, error) {
	var switched []string
	for _, ns := range s.sourceNamespaces() {
		m, err := supersededClaims(ctx, s.src.Client, ns, s.plan.Name)
		if err != nil {
			return outcome{}, err
		}
		if len(m) == 0 {
			continue
		}
		back := m.Inverse()
		rep, err := claimswap.Swap(ctx, s.src.Client, ns, back, transform.Marks(s.plan.Name, s.m.Name))
		if err != nil {
			return outcome{}, fmt.Errorf("switch back to the old claims on cluster %s: %w", s.src.Name, err)
		}
		switched = append(switched, reportNames(ns, rep)...)
		left, err := claimswap.Check(ctx, s.src.Client, ns, back)
		if err != nil {
			return outcome{}, err
		}
		if users := append(left.Switched, left.Recreated...); len(users) > 0 {
			return outcome{}, fmt.Errorf("workloads %s in namespace %s still use the new claims after the switch back; the new claims are kept", strings.Join(users, ", "), ns)
		}
		for old := range m {
			if err := markSuperseded(ctx, s.src.Client, ns, old, "", s.plan.Name); err != nil {
				return outcome{}, err
			}
		}
	}
	return done(fmt.Sprintf("switched %d workloads back to the old claims%s", len(switched), listSuffix(switched))), nil
}

// supersededClaims returns the old-to-new names of the claims of
// namespace ns that plan superseded.
func supersededClaims(ctx context.Context, c client.Client, ns, plan string) (claimswap.Mapping, error) {
	var l corev1.PersistentVolumeClaimList
	if err := c.List(ctx, &l, client.InNamespace(ns), client.MatchingLabels{ferryv1.LabelSuperseded: "true"}); err != nil {
		return nil, fmt.Errorf("list superseded claims in %s: %w", ns, err)
	}
	m := claimswap.Mapping{}
	for _, p := range l.Items {
		if p.Annotations[ferryv1.AnnotationSupersededByPlan] == plan && p.Annotations[ferryv1.AnnotationSupersededBy] != "" {
			m[p.Name] = p.Annotations[ferryv1.AnnotationSupersededBy]
		}
	}
	return m, nil
}

func reportNames(ns string, rep claimswap.Report) []string {
	var out []string
	for _, w := range rep.Switched {
		out = append(out, ns+"/"+w)
	}
	for _, w := range rep.Recreated {
		out = append(out, ns+"/"+w+" (recreated)")
	}
	return out
}

func listSuffix(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return " (" + strings.Join(l, ", ") + ")"
}

func sortedNamespaces(m map[string]claimswap.Mapping) []string {
	out := make([]string, 0, len(m))
	for ns := range m {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// markSuperseded labels the old claim ns/name as replaced by the claim
// to, or, with to empty, removes the mark. A claim that is gone is left.
func markSuperseded(ctx context.Context, c client.Client, ns, name, to, plan string) error {
	var pvc corev1.PersistentVolumeClaim
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &pvc); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("get claim %s/%s: %w", ns, name, err)
	}
	before := pvc.DeepCopy()
	if to == "" {
		delete(pvc.Labels, ferryv1.LabelSuperseded)
		delete(pvc.Annotations, ferryv1.AnnotationSupersededBy)
		delete(pvc.Annotations, ferryv1.AnnotationSupersededByPlan)
	} else {
		if pvc.Labels == nil {
			pvc.Labels = map[string]string{}
		}
		if pvc.Annotations == nil {
			pvc.Annotations = map[string]string{}
		}
		pvc.Labels[ferryv1.LabelSuperseded] = "true"
		pvc.Annotations[ferryv1.AnnotationSupersededBy] = to
		pvc.Annotations[ferryv1.AnnotationSupersededByPlan] = plan
	}
	if err := c.Patch(ctx, &pvc, client.MergeFrom(before), client.FieldOwner(ferryv1.FieldManager)); err != nil {
		return fmt.Errorf("mark claim %s/%s: %w", ns, name, err)
	}
	return nil
}
