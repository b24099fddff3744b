// Package volumes copies persistent-volume data for a migration: the
// orchestration common to every data path, above a small interface,
// [Path], that each data path implements.
//
// # Basics
//
// [Sync] is called by the migration controller once per reconcile with a
// Path, a retry [Policy], the transfers (one per claim) and the volume
// statuses the last call returned, which the Migration's status keeps.
// Each call does one pass and returns the [State] at once; it never waits
// for a copy. For every [Transfer] it asks the path to Observe the
// current round and decides:
//
//   - NotStarted, or a round with a part missing (Incomplete): Prepare
//     the path once for the pass (shared set-up such as certificates; it
//     may answer "not ready yet"), then Start the round;
//   - Starting, Running: report the progress and the path's message;
//   - Done, or a progress report whose phase is "done": Succeeded, and
//     later calls start nothing;
//   - Failed: retry or report (below);
//   - Terminating: wait; Stale (leftovers that cannot go on, such as a
//     receiver whose sender is gone): Reset and start again, costing no
//     attempt.
//
// The paths are described under Paths below.
//
// # Rounds and failures
//
// A failed round puts the transfer in PhaseRetrying: after a pause
// (Policy.RetryPause, 5 s by default, four times longer after each
// attempt) Sync resets the round and the next one copies incrementally.
// The attempt number is kept in the volume's status
// (VolumeStatus.Attempt). When the attempts are used up
// (Policy.MaxAttempts, 3 by default), or at once when a rerun cannot help
// (Failure.Permanent: the destination is full, a path was unsafe), the
// failure is reported once, as an error wrapping [ErrTransferFailed] with
// the copier's own message, and the status says PhaseFailed; the failed
// round is kept for inspection. The next call (the user's "ferry retry")
// sees that status, resets the round and starts over at attempt 1.
//
// The sender's account decides: a round whose receiver ended first while
// the sender that had connected to it still runs (Failure.ReceiverOnly)
// waits up to [SenderGrace] for the sender's report, which names the
// failure and whether a rerun can help.
//
// Why the status and not the clusters remember attempts and reports: the
// orchestration is the same for every path, and a path's objects may not
// outlive a round (a Service, a pod annotation); the status is where the
// user looks too. A lost status update costs at worst a failure reported
// twice. Statuses name their path (VolumeStatus.Path) and Sync takes only
// its own path's.
//
// # Paths
//
//   - [ferry.dev/ferry/internal/volumes/direct], "direct": a receiver pod
//     on the destination and a sender pod on the source per claim, over
//     mutual TLS; across clusters, and within one where the claims cannot
//     share a pod.
//   - [ferry.dev/ferry/internal/volumes/local], "local": within one
//     cluster, one pod per claim mounting both claims on one node (the
//     node of a running pod that uses the source claim, by node affinity;
//     else where the scheduler finds both volumes mountable) and copying
//     through the file system with the mover's fidelity and progress
//     ("ferry mover local"); Prepare has nothing to share and is Ready,
//     Reset and Cleanup delete the pod. local.Decide tells per transfer
//     whether both claims can share a node.
//   - [Dispatch] lets one Sync drive both: it carries each transfer over
//     the path its route names and Prepares each path with its own
//     transfers; each volume's status names its own path
//     (VolumeStatus.Path, from Dispatch.PathOf), so attempts and reports
//     stay with the path that copies the claim. The migration controller
//     routes a transfer by the path its status already names, else by
//     local.Decide.
//
// The interface leaves room for a split-in-time copy through object
// storage (a repository) without a change to Sync: two paths, "upload"
// and "download", each one-sided. During Stage and Cutover the copy step
// runs Sync over the upload path: Prepare checks the Repository and
// ensures its key Secret in the source namespaces (Ready false with the
// Repository's condition while it is not usable), Start creates an
// uploader pod mounting the source claim read-only, Observe reads its pod
// and JSON progress (Done once the snapshot is complete), Reset deletes
// the pod (the next round resumes: stored chunks are not sent again). A
// later step runs Sync over the download path with a restorer pod on the
// destination; as its name differs, the upload's statuses count neither
// as its attempts nor as its reports. Neither sets ReceiverOnly.
//
// # Caveats
//
//   - Sync takes the whole list of transfers on each call; a claim
//     dropped from it is no longer observed (its objects go with the
//     path's Cleanup).
//   - A Path value is made for one pass: it may carry what Prepare found
//     to the Start calls of the same pass, and nothing longer.
package volumes
