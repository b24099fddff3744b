package planning

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/claimswap"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/migrate"
)

// checkConversionScope requires a StorageConversion plan to stay within
// one cluster and its namespaces.
func checkConversionScope(_ context.Context, p *ferryv1.Plan, s migrate.Scope, _, _ *cluster.Clients, res *Result) error {
	if p.Spec.SourceCluster != p.Spec.DestinationCluster {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonInvalidSpec, Message: fmt.Sprintf(
			"a StorageConversion plan converts claims within one cluster, but it names clusters %s and %s: give both as --from and --to, or use a Full or State plan to move between clusters",
			p.Spec.SourceCluster, p.Spec.DestinationCluster)}
		return nil
	}
	for _, m := range s.Namespaces {
		if m.Source != m.Destination {
			res.Problem = &cluster.Problem{Reason: ferryv1.ReasonInvalidSpec, Message: fmt.Sprintf(
				"a StorageConversion plan keeps the claims in their namespace, but it renames %s to %s: name the namespace alone (-n %s)",
				m.Source, m.Destination, m.Source)}
			return nil
		}
	}
	return nil
}

// convertClaims decides the conversion of each claim of the list: a claim
// whose target class is its own is left out unless an override names it
// (then the plan is wrong), and a converted claim gets a new name unless
// the override gives one (ConversionName; a StatefulSet's claims follow
// their renamed template, see claimswap). A claim that this plan's cutover
// superseded keeps the name it got then, though its StatefulSet's
// template has the new name now.
func convertClaims(ctx context.Context, p *ferryv1.Plan, _ migrate.Scope, src, _ *cluster.Clients, res *Result) error {
	overrides := map[string]ferryv1.PVCOverride{}
	for _, o := range p.Spec.PersistentVolumeClaims {
		overrides[o.Namespace+"/"+o.Name] = o
	}
	sets := map[string][]appsv1.StatefulSet{}
	superseded := map[string]string{} // "namespace/name" -> new name
	var problems []string
	converted := 0
	for i := range res.PVCs {
		c := &res.PVCs[i]
		if c.Action != ferryv1.PVCActionCopy {
			continue
		}
		o, named := overrides[c.Namespace+"/"+c.Name]
		if c.TargetStorageClass == c.StorageClass || c.TargetStorageClass == "" {
			if named {
				problems = append(problems, fmt.Sprintf("claim %s/%s would be converted onto its own class %q: name another class (--pvc %s/%s:class=CLASS)",
					c.Namespace, c.Name, c.StorageClass, c.Namespace, c.Name))
			}
			c.Action = ferryv1.PVCActionSkip
			continue
		}
		converted++
		if o.TargetName != "" {
			continue
		}
		if _, ok := sets[c.Namespace]; !ok {
			if err := loadConversionState(ctx, src, c.Namespace, p.Name, sets, superseded); err != nil {
				return err
			}
		}
		if to, ok := superseded[c.Namespace+"/"+c.Name]; ok {
			c.TargetName = to
			continue
		}
		c.TargetName = conversionTarget(c.Name, c.StorageClass, c.TargetStorageClass, sets[c.Namespace])
	}
	switch {
	case len(problems) > 0:
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonInvalidSpec, Message: strings.Join(problems, "; ")}
	case converted == 0:
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonInvalidSpec, Message: "no claim to convert: name the target class of claims with --pvc NS/NAME:class=CLASS, or of a whole class with --storage-class-map OLD=NEW"}
	}
	return nil
}

// loadConversionState reads, in namespace ns, the StatefulSets and the
// claims that plan superseded (by their new names).
func loadConversionState(ctx context.Context, src *cluster.Clients, ns, plan string, sets map[string][]appsv1.StatefulSet, superseded map[string]string) error {
	l, err := src.Kube.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list StatefulSets in %s on cluster %s: %w", ns, src.Name, err)
	}
	sets[ns] = l.Items
	claims, err := src.Kube.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{LabelSelector: ferryv1.LabelSuperseded + "=true"})
	if err != nil {
		return fmt.Errorf("list superseded claims in %s on cluster %s: %w", ns, src.Name, err)
	}
	for _, c := range claims.Items {
		if c.Annotations[ferryv1.AnnotationSupersededByPlan] == plan && c.Annotations[ferryv1.AnnotationSupersededBy] != "" {
			superseded[ns+"/"+c.Name] = c.Annotations[ferryv1.AnnotationSupersededBy]
		}
	}
	return nil
}

// conversionTarget is the default name of the converted claim name of
// class from, on class to: a StatefulSet's claim TEMPLATE-SET-N becomes
// NEWTEMPLATE-SET-N, any other claim NAME becomes ConversionName(NAME).
func conversionTarget(name, from, to string, sets []appsv1.StatefulSet) string {
	if set, tpl, ok := templateOf(name, sets); ok {
		ordinal := strings.TrimPrefix(name, tpl+"-"+set+"-")
		return ConversionName(tpl, from, labelSafe(to)) + "-" + set + "-" + ordinal
	}
	return ConversionName(name, from, to)
}

// ConversionName is the default new name of a claim (or StatefulSet claim
// template) name on class from converted to class to: the suffix -FROM
// replaced by -TO when name has it (so that converting back restores the
// old name), else -TO appended.
func ConversionName(name, from, to string) string {
	if base, ok := strings.CutSuffix(name, "-"+from); ok && from != "" && base != "" {
		return base + "-" + to
	}
	return name + "-" + to
}

// labelSafe makes a class name usable in a DNS label (a volume name).
func labelSafe(s string) string {
	return strings.ReplaceAll(s, ".", "-")
}

// checkConversionTargets checks the new claims: valid names, and none
// that exists and was not created by this plan (a claim kept by an
// earlier conversion, say).
func checkConversionTargets(ctx context.Context, p *ferryv1.Plan, _ migrate.Scope, _, dst *cluster.Clients, res *Result) error {
	var problems []string
	for _, c := range res.Copied() {
		key := c.Namespace + "/" + c.TargetName
		if errs := validation.IsDNS1123Subdomain(c.TargetName); len(errs) > 0 {
			problems = append(problems, fmt.Sprintf("new claim name %s: %s: choose one with --pvc %s/%s:name=NEW", key, strings.Join(errs, ", "), c.Namespace, c.Name))
			continue
		}
		got, err := dst.Kube.CoreV1().PersistentVolumeClaims(c.TargetNamespace).Get(ctx, c.TargetName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get claim %s on cluster %s: %w", key, dst.Name, err)
		}
		if got.Labels[ferryv1.LabelPlan] != p.Name {
			problems = append(problems, fmt.Sprintf("claim %s, the new claim of %s/%s, exists already: delete it if an earlier conversion left it, or choose another name with --pvc %s/%s:name=NEW",
				key, c.Namespace, c.Name, c.Namespace, c.Name))
		}
	}
	if len(problems) > 0 {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonClaimNotUsable, Message: strings.Join(problems, "; ")}
	}
	return nil
}

// checkSwitchable checks, with claimswap.Check, that every workload using
// a converted claim can be switched to its new claim at cutover.
func checkSwitchable(ctx context.Context, _ *ferryv1.Plan, s migrate.Scope, src, _ *cluster.Clients, res *Result) error {
	var problems []string
	for ns, m := range ConversionMappings(res.PVCs) {
		rep, err := claimswap.Check(ctx, src.Client, ns, m)
		if err != nil {
			return fmt.Errorf("check the users of the converted claims on cluster %s: %w", src.Name, err)
		}
		problems = append(problems, rep.Problems...)
		if len(rep.Left) > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("finished workloads keep the old claims (they run nothing): %s", strings.Join(rep.Left, ", ")))
		}
	}
	if len(problems) > 0 {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonUnsupportedWorkload, Message: strings.Join(problems, "; ")}
	}
	return nil
}

// ConversionMappings returns, per namespace, the old-to-new claim names
// of the claims a conversion copies.
func ConversionMappings(pvcs []ferryv1.PlanPVC) map[string]claimswap.Mapping {
	out := map[string]claimswap.Mapping{}
	for _, c := range pvcs {
		if c.Action != ferryv1.PVCActionCopy {
			continue
		}
		if out[c.Namespace] == nil {
			out[c.Namespace] = claimswap.Mapping{}
		}
		out[c.Namespace][c.Name] = c.TargetName
	}
	return out
}
