// Package order decides in which order Ferry applies objects on the
// destination cluster, and in which order rollback deletes them.
//
// # Basics
//
// [Priority] gives every GroupKind a position; [Sort] and [SortFunc] sort by
// it, [ReverseSort] and [ReverseSortFunc] sort the other way round for
// deletion. The list and the reason for every position live in priority.go.
//
// # Caveats
//
// The order only avoids avoidable failures and restarts (a Pod that starts
// before its ConfigMap exists, a claim before its volume); it does not wait
// for anything to become ready. Kinds not in the list, which are mostly
// custom resources, go last, ordered by group and kind.
package order
