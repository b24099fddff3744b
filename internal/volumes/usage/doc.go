// Package usage measures the space the data of a plan's source claims
// takes, for the proposed capacities and the capacity check of package
// planning.
//
// # Basics
//
// [Measurer.Step] is called by the plan's controller on every reconcile
// and never waits: per claim it keeps figures younger than [MaxAge]
// (failures: [RetryAfter]), reads a finished measurement pod, or takes
// new figures, in this order of preference:
//
//  1. the kubelet: when a running pod mounts the claim and a
//     SelfSubjectAccessReview says Ferry may get nodes/proxy, the stats
//     summary of that node (GET /api/v1/nodes/NODE/proxy/stats/summary)
//     lists the claim's volume with its usedBytes and inodesUsed. Those
//     are taken only when they describe the volume's own file system: its
//     reported capacity no more than the claim's (plus 10%) and not the
//     node's root file system's. A volume on a shared file system (a host
//     path, an NFS export without quotas) reports that file system's
//     statfs, every tenant's bytes, which would be wrong;
//  2. a pod: "ferry mover usage /data" on the claim mounted read-only,
//     on the node where a running pod mounts it (a ReadWriteOnce claim
//     cannot be mounted on another node), its JSON result (package mover's
//     Usage) written to /dev/termination-log and read from the pod's
//     termination message, then the pod is deleted. Its bytes are the
//     allocated ones, as du counts them, with the sync's own walk rules:
//     what a copy needs on the destination, since the mover keeps holes.
//
// A pod that fails, or does not finish within [PodTimeout] (a claim that
// cannot be mounted leaves it Pending or ContainerCreating), is deleted
// and its claim's figures are Unknown, with why; validation blocks on
// them only when the plan resizes by them (spec.autoResize).
//
// Measurement pods carry the labels ferry.dev/plan=<plan>,
// app.kubernetes.io/managed-by=ferry, app.kubernetes.io/component=mover
// and ferry.dev/mover-role=usage, and are named
// ferry-usage-<hash of the plan and the claim>; [Cleanup] deletes a
// plan's.
//
// # Caveats
//
//   - nodes/proxy is a broad privilege (the kubelet API of every node);
//     Ferry does not ask for it, and uses it only where the cluster grants
//     it anyway. Without it every claim is measured by a pod.
//   - The kubelet's figures are statfs of the volume: they include the
//     file system's own overhead (journal, lost+found), a little more
//     than the walk counts.
//   - A source file system that compresses or deduplicates reports fewer
//     allocated bytes than an ordinary destination needs.
//   - The pods run as root, as the movers do, except in a namespace
//     enforcing the "restricted" Pod Security Standard: there they run as
//     the identity the claim's last figures chose (package moverpod's
//     RunAs), else 1000:1000, and cannot see into directories that
//     identity may not read (counted as unreadable, their contents not
//     measured). A first measurement as 1000:1000 of data owned by
//     another user may thus count little; the next one, MaxAge later,
//     runs as that user.
//   - A claim marked Claim.Owners (its movers run as non-root) is
//     always measured by a pod: the kubelet's figures have no owners.
package usage
