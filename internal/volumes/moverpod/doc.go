// Package moverpod is what the data paths that run Ferry's mover in pods
// share (package direct's pod pair, package local's one pod): the pod's
// shape (root without privilege escalation, no service account token, no
// restarts, the ferry image), its resources fitted to the namespace's
// LimitRanges, the labels every mover object carries, reading a mover's
// JSON progress and its error from the pod's log, and the pod states the
// paths' Observe methods read.
//
// A path keeps its own names, arguments and mounts; what a mover pod is
// and how its log is read has its home here.
package moverpod
