// Package moverpod is what the data paths that run Ferry's mover in pods
// share (package direct's pod pair, package local's one pod): the pod's
// shape (no service account token, no restarts, the ferry image), what a
// namespace allows it (Env: resources fitted to the namespace's
// LimitRanges, and the Pod Security Standard its labels enforce: root
// without privilege escalation, or under the restricted standard
// non-root as the volume's main owner, RunAs, with every capability
// dropped and fsGroup on pods that write), the labels every mover object
// carries, reading a mover's JSON progress and its error from the pod's
// log, and the pod states the paths' Observe methods read.
//
// A path keeps its own names, arguments and mounts; what a mover pod is
// and how its log is read has its home here.
package moverpod
