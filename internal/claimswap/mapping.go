package claimswap

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Mapping maps old claim names to new ones within one namespace.
type Mapping map[string]string

// Inverse returns the mapping from the new names back to the old ones.
func (m Mapping) Inverse() Mapping {
	out := make(Mapping, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// swapVolumes replaces the claim references of spec's volumes by the
// mapping; it returns the claims replaced, as "old->new".
func (m Mapping) swapVolumes(spec *corev1.PodSpec) []string {
	var swapped []string
	for i := range spec.Volumes {
		src := spec.Volumes[i].PersistentVolumeClaim
		if src == nil {
			continue
		}
		if to, ok := m[src.ClaimName]; ok {
			swapped = append(swapped, src.ClaimName+"->"+to)
			src.ClaimName = to
		}
	}
	return swapped
}

// uses returns the mapped claims that spec's volumes reference, sorted.
func (m Mapping) uses(spec *corev1.PodSpec) []string {
	var out []string
	for _, v := range spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			if _, ok := m[v.PersistentVolumeClaim.ClaimName]; ok {
				out = append(out, v.PersistentVolumeClaim.ClaimName)
			}
		}
	}
	sort.Strings(out)
	return out
}

// String lists the mapping as "old->new", sorted.
func (m Mapping) String() string {
	var out []string
	for k, v := range m {
		out = append(out, k+"->"+v)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// ordinalClaim splits a StatefulSet claim name "TEMPLATE-SET-ORDINAL"
// for the StatefulSet set; ok is false when name is not of that form.
func ordinalClaim(name, set string) (template string, ordinal string, ok bool) {
	i := strings.LastIndex(name, "-")
	if i <= 0 || i == len(name)-1 {
		return "", "", false
	}
	ordinal = name[i+1:]
	for _, r := range ordinal {
		if r < '0' || r > '9' {
			return "", "", false
		}
	}
	template, ok = strings.CutSuffix(name[:i], "-"+set)
	if !ok || template == "" {
		return "", "", false
	}
	return template, ordinal, true
}
