package planning

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/migrate"
	"ferry.dev/ferry/internal/resources/transform"
)

// listClaims builds the claim list from the source claims. Claims of
// volume mode Block, which the mover cannot copy, are refused by name
// unless the plan skips them.
func listClaims(ctx context.Context, p *ferryv1.Plan, s migrate.Scope, src, _ *cluster.Clients, res *Result) error {
	overrides := map[string]ferryv1.PVCOverride{}
	for _, o := range p.Spec.PersistentVolumeClaims {
		overrides[o.Namespace+"/"+o.Name] = o
	}
	classes := transform.StorageClassMap(p.Spec.StorageClassMapping)
	var block []string
	for _, m := range s.Namespaces {
		l, err := src.Kube.CoreV1().PersistentVolumeClaims(m.Source).List(ctx, metav1.ListOptions{LabelSelector: s.Selector})
		if err != nil {
			return fmt.Errorf("list claims in %s on cluster %s: %w", m.Source, src.Name, err)
		}
		moved, err := movedAway(ctx, p, src, m.Source, l.Items)
		if err != nil {
			return err
		}
		for _, c := range append(l.Items, moved...) {
			if p.Spec.Kind() == ferryv1.PlanStorageConversion && c.Labels[ferryv1.LabelPlan] == p.Name {
				continue // a claim this conversion created: a target, not a source
			}
			pvc := decideClaim(&c, m.Destination, classes, overrides[c.Namespace+"/"+c.Name])
			pvc.Verify = pvc.Verify || p.Spec.VerifyVolumes
			if isBlock(&c) && pvc.Action != ferryv1.PVCActionSkip {
				block = append(block, c.Namespace+"/"+c.Name)
			}
			res.PVCs = append(res.PVCs, pvc)
		}
	}
	if len(block) > 0 {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonClaimNotUsable, Message: fmt.Sprintf(
			"claims %s are raw block volumes (volumeMode Block), which Ferry does not copy: skip them (--pvc NS/NAME:action=skip) and move their data another way",
			strings.Join(block, ", "))}
	}
	return nil
}

func isBlock(c *corev1.PersistentVolumeClaim) bool {
	return c.Spec.VolumeMode != nil && *c.Spec.VolumeMode == corev1.PersistentVolumeBlock
}

// checkClasses checks that the storage classes the claims to create need
// exist on the destination.
func checkClasses(ctx context.Context, p *ferryv1.Plan, _ migrate.Scope, _, dst *cluster.Clients, res *Result) error {
	have, def, err := storageClasses(ctx, dst)
	if apierrors.IsForbidden(err) && dst.AsUser {
		if wanted := missingClasses(res.PVCs, p.Spec.StorageClassMapping, map[string]bool{}, ""); len(wanted) > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf(
				"your token may not read the storage classes of destination cluster %s, so Ferry cannot check that %s exist there; a claim of a missing class stays Pending at cutover",
				dst.Name, strings.Join(wanted, ", ")))
		}
		return nil
	}
	if err != nil {
		return err
	}
	if missing := missingClasses(res.PVCs, p.Spec.StorageClassMapping, have, def); len(missing) > 0 {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonStorageClassNotFound, Message: fmt.Sprintf(
			"destination cluster %s has no storage class %s: map them to an existing class with --storage-class-map OLD=NEW (it has: %s)",
			dst.Name, strings.Join(missing, ", "), strings.Join(sortedKeys(have), ", "))}
	}
	return nil
}

// decideClaim decides what becomes of the source claim c in the
// destination namespace: copied under its own name, its class mapped by
// classes, then changed by the plan's override o (the zero override
// changes nothing).
func decideClaim(c *corev1.PersistentVolumeClaim, namespace string, classes transform.StorageClassMap, o ferryv1.PVCOverride) ferryv1.PlanPVC {
	pvc := ferryv1.PlanPVC{Namespace: c.Namespace, Name: c.Name, Action: ferryv1.PVCActionCopy,
		TargetNamespace: namespace, TargetName: c.Name}
	pvc.SourceVolume = c.Spec.VolumeName
	if c.Spec.StorageClassName != nil {
		pvc.StorageClass = *c.Spec.StorageClassName
	}
	if q, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
		pvc.Capacity = q.String()
	}
	for _, am := range c.Spec.AccessModes {
		pvc.AccessModes = append(pvc.AccessModes, string(am))
	}
	pvc.TargetStorageClass = classes.Target(pvc.StorageClass)
	applyOverride(&pvc, o)
	if pvc.Action == ferryv1.PVCActionMove {
		// Bound by name to a PV of class "" (see checkMoves).
		pvc.TargetStorageClass = ""
	}
	return pvc
}

// applyOverride changes a claim's decision by the plan's override: the
// fields the override sets win.
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
	pvc.Verify = pvc.Verify || o.Verify
}

// missingClasses names, sorted and once each, the storage classes that
// the claims the migration creates (not those that exist), or the
// mapping, need and that the destination does not have (a moved claim
// needs none: it binds to its PV by name); a claim without a class needs
// the default class def ("" when there is none).
func missingClasses(pvcs []ferryv1.PlanPVC, mapping map[string]string, have map[string]bool, def string) []string {
	var missing []string
	for _, c := range pvcs {
		target := c.TargetStorageClass
		if target == "" {
			target = def
		}
		if c.Action != ferryv1.PVCActionSkip && c.Action != ferryv1.PVCActionMove && !c.TargetExists && (target == "" || !have[target]) {
			missing = append(missing, fmt.Sprintf("%q (for claim %s/%s)", target, c.Namespace, c.Name))
		}
	}
	for _, to := range mapping {
		if !have[to] {
			missing = append(missing, fmt.Sprintf("%q (in the storage-class mapping)", to))
		}
	}
	sort.Strings(missing)
	return dedupe(missing)
}

// storageClasses returns the storage classes of a cluster and the name of
// its default class.
func storageClasses(ctx context.Context, c *cluster.Clients) (map[string]bool, string, error) {
	l, err := c.Kube.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, "", fmt.Errorf("list storage classes on cluster %s: %w", c.Name, err)
	}
	have, def := map[string]bool{}, ""
	for i := range l.Items {
		have[l.Items[i].Name] = true
		if cluster.IsDefaultStorageClass(&l.Items[i]) {
			def = l.Items[i].Name
		}
	}
	return have, def, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// dedupe drops adjacent duplicates of a sorted slice.
func dedupe(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || s[i-1] != x {
			out = append(out, x)
		}
	}
	return out
}
