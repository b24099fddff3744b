package order

import (
	"cmp"
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Compare returns -1 when a is applied before b, 1 when after, and 0 when
// they are the same kind. Kinds of equal priority are ordered by group,
// then kind name, so that the order is total.
func Compare(a, b schema.GroupKind) int {
	return cmp.Or(
		cmp.Compare(Priority(a), Priority(b)),
		cmp.Compare(a.Group, b.Group),
		cmp.Compare(a.Kind, b.Kind),
	)
}

// Less reports whether a is applied before b.
func Less(a, b schema.GroupKind) bool { return Compare(a, b) < 0 }

// Sort sorts kinds into apply order.
func Sort(gks []schema.GroupKind) { SortFunc(gks, identity) }

// ReverseSort sorts kinds into deletion order, the reverse of apply order.
func ReverseSort(gks []schema.GroupKind) { ReverseSortFunc(gks, identity) }

// SortFunc sorts items into apply order of the kind key returns for each;
// items of the same kind keep their relative order.
func SortFunc[T any](items []T, key func(T) schema.GroupKind) {
	slices.SortStableFunc(items, func(a, b T) int { return Compare(key(a), key(b)) })
}

// ReverseSortFunc sorts items into deletion order of the kind key returns
// for each; items of the same kind keep their relative order.
func ReverseSortFunc[T any](items []T, key func(T) schema.GroupKind) {
	slices.SortStableFunc(items, func(a, b T) int { return Compare(key(b), key(a)) })
}

func identity(gk schema.GroupKind) schema.GroupKind { return gk }
