package planning

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/migrate"
)

// checkPVCs lists the source claims, proposes an action for each and
// checks that their target storage classes exist on the destination.
func checkPVCs(ctx context.Context, p *ferryv1.Plan, s migrate.Scope, src, dst *cluster.Clients, res *Result) error {
	overrides := map[string]ferryv1.PVCOverride{}
	for _, o := range p.Spec.PersistentVolumeClaims {
		overrides[o.Namespace+"/"+o.Name] = o
	}
	classes, def, err := storageClasses(ctx, dst)
	if err != nil {
		return err
	}
	var missing []string
	for _, m := range s.Namespaces {
		l, err := src.Kube.CoreV1().PersistentVolumeClaims(m.Source).List(ctx, metav1.ListOptions{LabelSelector: s.Selector})
		if err != nil {
			return fmt.Errorf("list claims in %s on cluster %s: %w", m.Source, src.Name, err)
		}
		for _, c := range l.Items {
			pvc := ferryv1.PlanPVC{Namespace: c.Namespace, Name: c.Name, Action: ferryv1.PVCActionCopy,
				TargetNamespace: m.Destination, TargetName: c.Name}
			if c.Spec.StorageClassName != nil {
				pvc.StorageClass = *c.Spec.StorageClassName
			}
			if q, ok := c.Spec.Resources.Requests["storage"]; ok {
				pvc.Capacity = q.String()
			}
			for _, am := range c.Spec.AccessModes {
				pvc.AccessModes = append(pvc.AccessModes, string(am))
			}
			pvc.TargetStorageClass = mapped(p.Spec.StorageClassMapping, pvc.StorageClass)
			applyOverride(&pvc, overrides[c.Namespace+"/"+c.Name])
			target := pvc.TargetStorageClass
			if target == "" {
				target = def
			}
			if pvc.Action != ferryv1.PVCActionSkip && (target == "" || !classes[target]) {
				missing = append(missing, fmt.Sprintf("%q (for claim %s/%s)", target, c.Namespace, c.Name))
			}
			res.PVCs = append(res.PVCs, pvc)
		}
	}
	for _, to := range p.Spec.StorageClassMapping {
		if !classes[to] {
			missing = append(missing, fmt.Sprintf("%q (in the storage-class mapping)", to))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		res.Problem = &Problem{Reason: ferryv1.ReasonStorageClassNotFound, Message: fmt.Sprintf(
			"destination cluster %s has no storage class %s: map them to an existing class with --storage-class-map OLD=NEW (it has: %s)",
			dst.Name, strings.Join(dedupe(missing), ", "), strings.Join(keys(classes), ", "))}
	}
	return nil
}

func mapped(m map[string]string, class string) string {
	if to, ok := m[class]; ok {
		return to
	}
	return class
}

func applyOverride(pvc *ferryv1.PlanPVC, o ferryv1.PVCOverride) {
	if o.Action != "" {
		pvc.Action = o.Action
	}
	if o.TargetName != "" {
		pvc.TargetName = o.TargetName
	}
	if o.TargetStorageClass != "" {
		pvc.TargetStorageClass = o.TargetStorageClass
	}
	if o.TargetCapacity != nil {
		pvc.TargetCapacity = o.TargetCapacity.String()
	}
	pvc.TargetAccessModes = o.TargetAccessModes
}

// validActions and validAccessModes are what a claim override may ask for.
var (
	validActions     = []ferryv1.PVCAction{"", ferryv1.PVCActionCopy, ferryv1.PVCActionSkip}
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
	seen := map[string]string{}
	for _, c := range res.PVCs {
		if c.Action == ferryv1.PVCActionSkip {
			continue
		}
		target := c.TargetNamespace + "/" + c.TargetName
		if prev, ok := seen[target]; ok {
			problems = append(problems, fmt.Sprintf("claims %s and %s/%s would both become %s", prev, c.Namespace, c.Name, target))
		}
		seen[target] = c.Namespace + "/" + c.Name
	}
	sts, err := statefulSetClaims(ctx, src, res.PVCs)
	if err != nil {
		return err
	}
	problems = append(problems, sts...)
	if len(problems) > 0 {
		res.Problem = &Problem{Reason: ferryv1.ReasonInvalidSpec, Message: "persistent volume claim overrides: " + strings.Join(problems, "; ")}
	}
	return nil
}

func overrideProblems(o ferryv1.PVCOverride, found bool) []string {
	key := o.Namespace + "/" + o.Name
	if !found {
		return []string{fmt.Sprintf("claim %s is not in the plan's namespaces (or not selected)", key)}
	}
	var out []string
	if o.Action == ferryv1.PVCActionMove {
		out = append(out, fmt.Sprintf("claim %s: action move is not supported yet; use copy or skip", key))
	} else if !slices.Contains(validActions, o.Action) {
		out = append(out, fmt.Sprintf("claim %s: unknown action %q; use copy or skip", key, o.Action))
	}
	if o.TargetName != "" {
		if errs := validation.IsDNS1123Subdomain(o.TargetName); len(errs) > 0 {
			out = append(out, fmt.Sprintf("claim %s: target name %q: %s", key, o.TargetName, strings.Join(errs, ", ")))
		}
	}
	for _, m := range o.TargetAccessModes {
		if !slices.Contains(validAccessModes, m) {
			out = append(out, fmt.Sprintf("claim %s: unknown access mode %q (use %s)", key, m, strings.Join(validAccessModes, ", ")))
		}
	}
	return out
}

// statefulSetClaims finds renamed claims that a StatefulSet made from a
// claim template, named TEMPLATE-STATEFULSET-ORDINAL.
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
		for _, s := range listed[c.Namespace] {
			for _, t := range s.Spec.VolumeClaimTemplates {
				ordinal, ok := strings.CutPrefix(c.Name, t.Name+"-"+s.Name+"-")
				if _, err := strconv.Atoi(ordinal); ok && err == nil {
					out = append(out, fmt.Sprintf("claim %s/%s belongs to StatefulSet %s (template %s) and cannot be renamed", c.Namespace, c.Name, s.Name, t.Name))
				}
			}
		}
	}
	return out, nil
}

func storageClasses(ctx context.Context, c *cluster.Clients) (map[string]bool, string, error) {
	l, err := c.Kube.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, "", fmt.Errorf("list storage classes on cluster %s: %w", c.Name, err)
	}
	m, def := map[string]bool{}, ""
	for _, sc := range l.Items {
		m[sc.Name] = true
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" {
			def = sc.Name
		}
	}
	return m, def, nil
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func dedupe(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || s[i-1] != x {
			out = append(out, x)
		}
	}
	return out
}

// meta returns the names of the items of a typed list.
func meta(list runtime.Object) ([]string, error) {
	items, err := apimeta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, it := range items {
		a, err := apimeta.Accessor(it)
		if err != nil {
			return nil, err
		}
		out = append(out, a.GetName())
	}
	return out, nil
}
