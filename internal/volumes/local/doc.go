// Package local is the local data path: within one cluster, per claim,
// one Ferry mover pod mounts both claims on one node and copies through
// the file system ("ferry mover local": the mover's sender and receiver in
// one process over socket pairs, no TLS, no network), with the mover's
// fidelity, delta, partial files, progress and Final semantics. [Path]
// implements volumes.Path; the retries, pauses and reports are package
// volumes'. It serves storage-class conversion and any copy whose two
// claims share a namespace.
//
// # Basics
//
// A round of a transfer is one pod in the claims' namespace,
// <transfer>-local (the transfer's name as package moverpod makes it),
// running
//
//	ferry mover local --source /source --destination /data --delete --progress=json [--final]
//
// with the source claim mounted read-only at /source and the destination
// claim at /data. It looks like the direct path's mover pods (package
// moverpod: root without privilege escalation, no service account token,
// no restarts, the same resources fitted to the namespace's LimitRanges,
// the labels ferry.dev/migration, app.kubernetes.io/managed-by=ferry and
// app.kubernetes.io/component=mover, role "local"). Prepare has nothing to
// share and is ready; Start creates the pod; Observe reads the pod and its
// last JSON progress line, as the direct path reads its sender's; Reset
// deletes the pod; Cleanup deletes the migration's mover pods.
//
// # Where the pod runs
//
// When a running pod (not a mover) uses the source claim, the copy pod
// is required, by node affinity on the node's name, to run on that node:
// a ReadWriteOnce volume is attached there, and a stage copies while the
// application runs. Node affinity rather than spec.nodeName, so that the
// scheduler still runs and binds a destination claim that waits for its
// first consumer on that node. Otherwise (a cutover's copy, after
// quiesce) the scheduler places it where both claims' volumes' node
// affinities allow, as for any pod.
//
// # Which transfers go local
//
// [Decide] tells, per transfer, whether one pod can mount both claims:
// they are in one namespace (a pod mounts claims of its own namespace
// only, so a copy into a renamed namespace goes direct), the source claim
// is bound, and some node satisfies at once the node of a running pod
// using either claim, each bound volume's node affinity, and for an
// unbound destination claim whose class waits for the first consumer,
// the class's allowed topologies. An unbound destination claim of a class
// that binds at once is Undecided until it is bound. The caller lists the
// other transfers for the direct path and drives both with one
// volumes.Sync through a volumes.Dispatch; a transfer keeps the path its
// status names.
//
// # Caveats
//
//   - The pod runs as root (numeric owners are kept): a namespace
//     enforcing the "restricted" Pod Security Standard rejects it, as it
//     rejects the direct path's.
//   - Both sides of the mover share one container's memory: a copy of a
//     tree with a huge directory holds both sides' listings there.
//   - A ReadWriteOncePod source claim used by a running pod cannot be
//     mounted by a second pod; neither path can copy it while it runs.
package local
