package planning

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/migrate"
)

// validActions and validAccessModes are what a claim override may ask for.
var (
	validActions     = []ferryv1.PVCAction{"", ferryv1.PVCActionCopy, ferryv1.PVCActionSkip, ferryv1.PVCActionMove}
	validAccessModes = []string{"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"}
)

// checkClaimOverrides rejects claim overrides that name no claim of the
// plan, ask for what is not possible, give two claims one destination
// name, or rename a claim a StatefulSet makes from its templates (the
// StatefulSet would not find it).
func checkClaimOverrides(ctx context.Context, p *ferryv1.Plan, _ migrate.Scope, src, _ *cluster.Clients, res *Result) error {
	found := map[string]bool{}
	for _, c := range res.PVCs {
		found[c.Namespace+"/"+c.Name] = true
	}
	var problems []string
	for _, o := range p.Spec.PersistentVolumeClaims {
		problems = append(problems, overrideProblems(o, found[o.Namespace+"/"+o.Name])...)
		if o.Action == ferryv1.PVCActionSkip {
			res.Warnings = append(res.Warnings, fmt.Sprintf(
				"claim %s/%s is skipped: it is not created on the destination, and pods that mount it will not start there", o.Namespace, o.Name))
		}
	}
	problems = append(problems, sharedTargets(res.PVCs)...)
	if p.Spec.Kind() != ferryv1.PlanStorageConversion {
		// A conversion renames StatefulSets' claims with their templates
		// (checkSwitchable checks those).
		sts, err := statefulSetClaims(ctx, src, res.PVCs)
		if err != nil {
			return err
		}
		problems = append(problems, sts...)
	}
	if len(problems) > 0 {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonInvalidSpec, Message: "persistent volume claim overrides: " + strings.Join(problems, "; ")}
	}
	return nil
}

// overrideProblems checks one override; found tells whether it names a
// claim of the plan.
func overrideProblems(o ferryv1.PVCOverride, found bool) []string {
	key := o.Namespace + "/" + o.Name
	if !found {
		return []string{fmt.Sprintf("claim %s is not in the plan's namespaces (or not selected)", key)}
	}
	var out []string
	if !slices.Contains(validActions, o.Action) {
		out = append(out, fmt.Sprintf("claim %s: unknown action %q; use copy, move or skip", key, o.Action))
	}
	if o.TargetName != "" {
		if errs := validation.IsDNS1123Subdomain(o.TargetName); len(errs) > 0 {
			out = append(out, fmt.Sprintf("claim %s: target name %q: %s", key, o.TargetName, strings.Join(errs, ", ")))
		}
	}
	if o.TargetCapacity != nil && o.TargetCapacity.Sign() <= 0 {
		out = append(out, fmt.Sprintf("claim %s: capacity %s: give a size above zero, e.g. 10Gi", key, o.TargetCapacity))
	}
	if msg := dataPathProblem(o); msg != "" {
		out = append(out, msg)
	}
	for _, m := range o.TargetAccessModes {
		if !slices.Contains(validAccessModes, m) {
			out = append(out, fmt.Sprintf("claim %s: unknown access mode %q (use %s)", key, m, strings.Join(validAccessModes, ", ")))
		}
	}
	return out
}

// sharedTargets finds claims that the migration would create under one
// destination name.
func sharedTargets(pvcs []ferryv1.PlanPVC) []string {
	var out []string
	seen := map[string]string{}
	for _, c := range pvcs {
		if c.Action == ferryv1.PVCActionSkip {
			continue
		}
		target := c.TargetNamespace + "/" + c.TargetName
		if prev, ok := seen[target]; ok {
			out = append(out, fmt.Sprintf("claims %s and %s/%s would both become %s", prev, c.Namespace, c.Name, target))
		}
		seen[target] = c.Namespace + "/" + c.Name
	}
	return out
}

// statefulSetClaims finds renamed claims that a StatefulSet of the source
// made from a claim template.
func statefulSetClaims(ctx context.Context, src *cluster.Clients, pvcs []ferryv1.PlanPVC) ([]string, error) {
	var out []string
	listed := map[string][]appsv1.StatefulSet{}
	for _, c := range pvcs {
		if c.TargetName == c.Name || c.Action == ferryv1.PVCActionSkip {
			continue
		}
		if _, ok := listed[c.Namespace]; !ok {
			l, err := src.Kube.AppsV1().StatefulSets(c.Namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, fmt.Errorf("list StatefulSets in %s on cluster %s: %w", c.Namespace, src.Name, err)
			}
			listed[c.Namespace] = l.Items
		}
		if s, t, ok := templateOf(c.Name, listed[c.Namespace]); ok {
			out = append(out, fmt.Sprintf("claim %s/%s belongs to StatefulSet %s (template %s) and cannot be renamed", c.Namespace, c.Name, s, t))
		}
	}
	return out, nil
}

// templateOf finds the StatefulSet and claim template that make the claim
// named claim: TEMPLATE-STATEFULSET-ORDINAL.
func templateOf(claim string, sets []appsv1.StatefulSet) (statefulSet, template string, ok bool) {
	for _, s := range sets {
		for _, t := range s.Spec.VolumeClaimTemplates {
			ordinal, found := strings.CutPrefix(claim, t.Name+"-"+s.Name+"-")
			if _, err := strconv.Atoi(ordinal); found && err == nil {
				return s.Name, t.Name, true
			}
		}
	}
	return "", "", false
}
