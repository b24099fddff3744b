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
// the new claims and marks the old claims superseded; they are kept
// until the user deletes them.
func switchClaims(ctx context.Context, s *session) (outcome, error) {
	maps, err := s.conversionMappings(ctx)
	if err != nil {
		return outcome{}, err
	}
	var switched []string
	for _, ns := range sortedNamespaces(maps) {
		m := maps[ns]
		rep, err := claimswap.Swap(ctx, s.src.Client, ns, m, transform.Marks(s.plan.Name, s.m.Name))
		if err != nil {
			return outcome{}, fmt.Errorf("switch to the new claims on cluster %s: %w", s.src.Name, err)
		}
		switched = append(switched, reportNames(ns, rep)...)
		for old, to := range m {
			if err := markSuperseded(ctx, s.src.Client, ns, old, to, s.plan.Name); err != nil {
				return outcome{}, err
			}
		}
	}
	return done(fmt.Sprintf("switched %d workloads to the new claims (%s); the old claims are kept, labelled %s=true: delete them once you are satisfied (`kubectl delete pvc -l %s=true -n NAMESPACE`)",
		len(switched), strings.Join(switched, ", "), ferryv1.LabelSuperseded, ferryv1.LabelSuperseded)), nil
}

// switchClaimsBack undoes switchClaims: the workloads use the old claims
// again, which lose their superseded mark; the new claims are left for
// the deletion step.
func switchClaimsBack(ctx context.Context, s *session) (outcome, error) {
	maps, err := s.conversionMappings(ctx)
	if err != nil {
		return outcome{}, err
	}
	var switched []string
	for _, ns := range sortedNamespaces(maps) {
		m := maps[ns]
		rep, err := claimswap.Swap(ctx, s.src.Client, ns, m.Inverse(), transform.Marks(s.plan.Name, s.m.Name))
		if err != nil {
			return outcome{}, fmt.Errorf("switch back to the old claims on cluster %s: %w", s.src.Name, err)
		}
		switched = append(switched, reportNames(ns, rep)...)
		for old := range m {
			if err := markSuperseded(ctx, s.src.Client, ns, old, "", s.plan.Name); err != nil {
				return outcome{}, err
			}
		}
	}
	return done(fmt.Sprintf("switched %d workloads back to the old claims%s", len(switched), listSuffix(switched))), nil
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
	} else {
		if pvc.Labels == nil {
			pvc.Labels = map[string]string{}
		}
		if pvc.Annotations == nil {
			pvc.Annotations = map[string]string{}
		}
		pvc.Labels[ferryv1.LabelSuperseded] = "true"
		pvc.Annotations[ferryv1.AnnotationSupersededBy] = fmt.Sprintf("%s (plan %s)", to, plan)
	}
	if err := c.Patch(ctx, &pvc, client.MergeFrom(before), client.FieldOwner(ferryv1.FieldManager)); err != nil {
		return fmt.Errorf("mark claim %s/%s: %w", ns, name, err)
	}
	return nil
}
