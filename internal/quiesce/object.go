package quiesce

import (
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// outcome is what quiesceObject or unquiesceObject did to an object.
type outcome int

const (
	// unchanged: the object already was in the wanted state.
	unchanged outcome = iota
	// changed: the object was modified and must be patched.
	changed
	// skipped: the object is not one to quiesce (see kind.skip and
	// kind.partOf).
	skipped
	// cleaned: Unquiesce removed the annotations that a controller copied
	// to the object (see kind.partOf); it must be patched.
	cleaned
)

// isQuiesced reports whether Quiesce has recorded obj's originals.
func isQuiesced(obj client.Object) bool {
	_, ok := obj.GetAnnotations()[ferryv1.AnnotationQuiescedBy]
	return ok
}

// quiesceObject modifies obj, a workload of kind k, to its quiesced state,
// recording the original value of the field it changes unless obj already
// carries ferryv1.AnnotationQuiescedBy. The second return value explains a
// skipped outcome.
func quiesceObject(obj client.Object, k kind, by string) (outcome, string, error) {
	if k.partOf != nil {
		if whole := k.partOf(obj); whole != "" {
			return skipped, "part of " + whole, nil
		}
	}
	out := unchanged
	if isQuiesced(obj) {
		if _, ok := obj.GetAnnotations()[k.field.annotation]; !ok {
			return unchanged, "", fmt.Errorf("%s has annotation %s but not %s: the original value is lost, restore it by hand and remove %[2]s",
				k.name, ferryv1.AnnotationQuiescedBy, k.field.annotation)
		}
	} else {
		if k.skip != nil {
			if why := k.skip(obj); why != "" {
				return skipped, why, nil
			}
		}
		orig, err := k.field.encode(obj)
		if err != nil {
			return unchanged, "", fmt.Errorf("record original of %s: %w", k.name, err)
		}
		ann := obj.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[ferryv1.AnnotationQuiescedBy] = by
		ann[k.field.annotation] = orig
		obj.SetAnnotations(ann)
		out = changed
	}
	if !k.field.isQuiesced(obj) {
		k.field.quiesce(obj)
		out = changed
	}
	for _, f := range k.extra {
		if f.isQuiesced(obj) {
			continue
		}
		ann := obj.GetAnnotations()
		if _, ok := ann[f.annotation]; !ok {
			orig, err := f.encode(obj)
			if err != nil {
				return unchanged, "", fmt.Errorf("record original of %s: %w", k.name, err)
			}
			ann[f.annotation] = orig
			obj.SetAnnotations(ann)
		}
		f.quiesce(obj)
		out = changed
	}
	return out, "", nil
}

// unquiesceObject restores the field of obj, a workload of kind k, that
// quiesceObject changed, from the recorded original, and removes the
// annotations. An object without ferryv1.AnnotationQuiescedBy is unchanged.
// An object that is part of another workload (kind.partOf) only loses the
// annotations copied to it.
func unquiesceObject(obj client.Object, k kind) (outcome, error) {
	if k.partOf != nil && k.partOf(obj) != "" {
		if removeAnnotations(obj) {
			return cleaned, nil
		}
		return skipped, nil
	}
	if !isQuiesced(obj) {
		return unchanged, nil
	}
	orig, ok := obj.GetAnnotations()[k.field.annotation]
	if !ok {
		return unchanged, fmt.Errorf("%s has annotation %s but not %s: the original value is lost, restore it by hand and remove %[2]s",
			k.name, ferryv1.AnnotationQuiescedBy, k.field.annotation)
	}
	if err := k.field.restore(obj, orig); err != nil {
		return unchanged, fmt.Errorf("restore %s from annotation %s: %w", k.name, k.field.annotation, err)
	}
	for _, f := range k.extra {
		if v, ok := obj.GetAnnotations()[f.annotation]; ok {
			if err := f.restore(obj, v); err != nil {
				return unchanged, fmt.Errorf("restore %s from annotation %s: %w", k.name, f.annotation, err)
			}
		}
	}
	removeAnnotations(obj)
	return changed, nil
}

// removeAnnotations removes the annotations of this package from obj and
// reports whether there were any.
func removeAnnotations(obj client.Object) bool {
	ann := obj.GetAnnotations()
	found := false
	for _, a := range Annotations {
		if _, ok := ann[a]; ok {
			delete(ann, a)
			found = true
		}
	}
	if found {
		obj.SetAnnotations(ann)
	}
	return found
}
