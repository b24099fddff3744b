package local

import (
	corev1 "k8s.io/api/core/v1"

	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// sourceDir is where the local copy's pod mounts the source claim; the
// destination claim is at moverpod.DataDir.
const sourceDir = "/source"

// podName is the name of a transfer's pod.
func podName(migration string, t volumes.Transfer) string {
	return moverpod.TransferName(migration, t) + "-local"
}

// copyArgs are the arguments of the pod's ferry command; with verify it
// compares every file's checksum once the copy is done.
func copyArgs(final, verify bool) []string {
	args := []string{"mover", "local", "--source", sourceDir, "--destination", moverpod.DataDir, "--delete", "--progress=json"}
	if final {
		args = append(args, "--final")
	}
	if verify {
		args = append(args, "--verify")
	}
	return args
}

// copyPod is a transfer's pod: the source claim read-only at /source, the
// destination claim at /data, required to run on node when it is set.
// (moverpod.OnNode).
func copyPod(o Options, t volumes.Transfer, node string, env moverpod.Env) *corev1.Pod {
	p := moverpod.Pod(o.Image, podName(o.Migration, t), t.SourceNamespace, copyArgs(o.Final, t.Verify), env,
		moverpod.Mount{Name: "source", Path: sourceDir, Claim: t.SourceClaim, ReadOnly: true},
		moverpod.Mount{Name: "data", Path: moverpod.DataDir, Claim: t.DestinationClaim})
	p.Labels = moverpod.PodLabels(o.Migration, t, moverpod.RoleLocal)
	p.Annotations = map[string]string{moverpod.AnnotationClaim: t.SourceNamespace + "/" + t.SourceClaim}
	if node != "" {
		p.Spec.Affinity = moverpod.OnNode(node)
	}
	return p
}
