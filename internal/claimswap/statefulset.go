package claimswap

import (
	"context"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// templateRenames returns, for the StatefulSet set, the new name of each
// claim template whose claims the mapping maps (old template -> new
// template). Every mapped claim of a template must get a name of the form
// NEWTEMPLATE-SET-ORDINAL with one NEWTEMPLATE; anything else is a
// problem, as is (when complete is set) a claim of the template, among
// claims, that the mapping leaves out.
func templateRenames(set *appsv1.StatefulSet, m Mapping, claims []string, complete bool) (map[string]string, []string) {
	renames := map[string]string{}
	var problems []string
	ref := "StatefulSet/" + set.Name
	for _, t := range set.Spec.VolumeClaimTemplates {
		var mapped, left []string
		newTemplate, bad := "", false
		for _, c := range claims {
			tpl, ord, ok := ordinalClaim(c, set.Name)
			if !ok || tpl != t.Name {
				continue
			}
			to, isMapped := m[c]
			if !isMapped {
				left = append(left, c)
				continue
			}
			mapped = append(mapped, c)
			nt, nord, ok := ordinalClaim(to, set.Name)
			switch {
			case !ok || nord != ord:
				bad = true
				problems = append(problems, fmt.Sprintf("%s: claim %s of template %s must get a name of the form TEMPLATE-%s-%s, not %s",
					ref, c, t.Name, set.Name, ord, to))
			case newTemplate != "" && nt != newTemplate:
				bad = true
				problems = append(problems, fmt.Sprintf("%s: the claims of template %s must all be renamed the same way (%s-... and %s-...)",
					ref, t.Name, newTemplate, nt))
			default:
				newTemplate = nt
			}
		}
		if len(mapped) == 0 || newTemplate == "" || bad {
			continue
		}
		if errs := validation.IsDNS1123Label(newTemplate); len(errs) > 0 {
			problems = append(problems, fmt.Sprintf("%s: the new claim template name %q is not a valid volume name: choose the claims' names with --pvc NS/NAME:name=...", ref, newTemplate))
			continue
		}
		if complete && len(left) > 0 {
			sort.Strings(left)
			problems = append(problems, fmt.Sprintf("%s: claims %v of template %s are not converted while %v are: convert every claim of the template",
				ref, left, t.Name, mapped))
			continue
		}
		renames[t.Name] = newTemplate
	}
	return renames, problems
}

// renameTemplates returns a copy of set, ready to create, whose claim
// templates are renamed by renames and take class, access modes and size
// from an existing claim each (newClaim, the claim of the lowest mapped
// ordinal); the containers' mounts follow. The copy has no status and no
// server-set metadata.
func renameTemplates(ctx context.Context, c client.Client, set *appsv1.StatefulSet, renames map[string]string, m Mapping, claims []string) (*appsv1.StatefulSet, error) {
	out := &appsv1.StatefulSet{
		TypeMeta:   metav1TypeMeta("apps/v1", "StatefulSet"),
		ObjectMeta: freshMeta(&set.ObjectMeta),
		Spec:       *set.Spec.DeepCopy(),
	}
	for i := range out.Spec.VolumeClaimTemplates {
		t := &out.Spec.VolumeClaimTemplates[i]
		nt, ok := renames[t.Name]
		if !ok {
			continue
		}
		var model corev1.PersistentVolumeClaim
		key := client.ObjectKey{Namespace: set.Namespace, Name: firstMapped(set.Name, t.Name, m, claims)}
		if err := c.Get(ctx, key, &model); err != nil {
			return nil, fmt.Errorf("get claim %s, the model of StatefulSet %s's template %s: %w", key.Name, set.Name, nt, err)
		}
		renameMounts(&out.Spec.Template.Spec, t.Name, nt)
		t.Name = nt
		t.Spec.StorageClassName = model.Spec.StorageClassName
		t.Spec.AccessModes = model.Spec.AccessModes
		if q, ok := model.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
			if t.Spec.Resources.Requests == nil {
				t.Spec.Resources.Requests = corev1.ResourceList{}
			}
			t.Spec.Resources.Requests[corev1.ResourceStorage] = q
		}
	}
	return out, nil
}

// firstMapped returns the new name of the mapped claim of template tpl of
// set with the lowest ordinal.
func firstMapped(set, tpl string, m Mapping, claims []string) string {
	best, bestOrd := "", -1
	for _, c := range claims {
		t, ord, ok := ordinalClaim(c, set)
		to, mapped := m[c]
		if !ok || t != tpl || !mapped {
			continue
		}
		var n int
		fmt.Sscan(ord, &n)
		if bestOrd < 0 || n < bestOrd {
			best, bestOrd = to, n
		}
	}
	return best
}

// renameMounts renames the volume old to new in every container's mounts
// and devices.
func renameMounts(spec *corev1.PodSpec, old, new string) {
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			for j := range cs[i].VolumeMounts {
				if cs[i].VolumeMounts[j].Name == old {
					cs[i].VolumeMounts[j].Name = new
				}
			}
			for j := range cs[i].VolumeDevices {
				if cs[i].VolumeDevices[j].Name == old {
					cs[i].VolumeDevices[j].Name = new
				}
			}
		}
	}
	for i := range spec.EphemeralContainers {
		for j := range spec.EphemeralContainers[i].VolumeMounts {
			if spec.EphemeralContainers[i].VolumeMounts[j].Name == old {
				spec.EphemeralContainers[i].VolumeMounts[j].Name = new
			}
		}
	}
}
