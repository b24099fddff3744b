// Package claimswap switches the workloads of one namespace from some
// persistent volume claims to others: the reference swap of a storage
// conversion, and its undo.
//
// # Basics
//
// A [Mapping] pairs old claim names with new ones in one namespace.
// [Check] finds every workload and pod that uses a mapped claim and says
// which of them Ferry cannot switch, before anything is changed. [Swap]
// switches them:
//
//   - Deployments, ReplicaSets that no Deployment controls, DaemonSets and
//     CronJobs get their pod template's claim references replaced (a patch
//     with an optimistic lock);
//   - StatefulSets, whose claim templates are immutable, are recreated: a
//     template whose claims are mapped is renamed so that the claims it
//     generates are the new ones (data-web-0 -> data-fast-web-0 for the
//     template data renamed data-fast), its class, access modes and size
//     taken from the new claims, so that a StatefulSet scaled up later gets
//     claims of the new class; the containers' mounts follow the rename;
//   - unfinished Jobs, whose pod templates are immutable, are recreated
//     with the references replaced; finished Jobs are left as they are
//     (they run nothing; their old claims are kept).
//
// Swap expects the namespace quiesced (see package quiesce): a StatefulSet
// is deleted with its pods orphaned and recreated at once, and a quiesced
// one has no pods. Its quiesce annotations travel with it, so Unquiesce
// restores its replicas. Undoing a swap is a Swap with the inverted
// mapping ([Mapping.Inverse]).
//
// # Crash safety
//
// A recreated object is first written, as it will be created, into a
// ConfigMap of the namespace ("ferry-swap-<kind>-<name>", labelled with
// the caller's labels); then the old object is deleted and the new one
// created from that copy, and the ConfigMap is deleted. A Swap that stops
// midway and runs again creates a missing object from its copy, so no
// workload is ever lost between the delete and the create.
//
// # Caveats
//
//   - Pods without an owner, and pods whose owner is a kind this package
//     does not handle (an operator's custom resource), cannot be switched:
//     Check reports them, so a plan that needs them is refused.
//   - A StatefulSet's claim template is renamed, so its volume name in the
//     pod template changes too; tools that patch the StatefulSet by that
//     volume name need the new one.
package claimswap
