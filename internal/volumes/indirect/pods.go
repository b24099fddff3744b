package indirect

import (
	"k8s.io/client-go/kubernetes"

	corev1 "k8s.io/api/core/v1"

	"ferry.dev/ferry/internal/repository"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

type kubeClient = kubernetes.Interface

// accessDir is where the pods mount the access Secret.
const accessDir = "/repository"

// Roles of the path's pods (moverpod.LabelRole).
const (
	RoleBackup  = "backup"
	RoleRestore = "restore"
)

func backupName(migration string, t volumes.Transfer) string {
	return moverpod.TransferName(migration, t) + "-backup"
}

func restoreName(migration string, t volumes.Transfer) string {
	return moverpod.TransferName(migration, t) + "-restore"
}

// tagArgs are the --tag arguments of the snapshot's tags.
func tagArgs(tags map[string]string) []string {
	var out []string
	for _, k := range []string{"plan", "claim"} {
		out = append(out, "--tag", k+"="+tags[k])
	}
	return out
}

// backupPod reads the source claim (read-only) into a snapshot, on node
// when a running pod there mounts the claim.
func (p *Path) backupPod(t volumes.Transfer, node string, env moverpod.Env) *corev1.Pod {
	args := append([]string{"mover", "backup", "--access", accessDir + "/" + repository.AccessFile, "--root", moverpod.DataDir, "--progress=json"}, tagArgs(p.tags(t))...)
	if p.o.Final {
		args = append(args, "--final")
	}
	pod := moverpod.Pod(p.o.Image, backupName(p.o.Migration, t), t.SourceNamespace, args, env,
		moverpod.Mount{Name: "data", Path: moverpod.DataDir, Claim: t.SourceClaim, ReadOnly: true},
		moverpod.Mount{Name: "access", Path: accessDir, Secret: p.secretName()})
	pod.Labels = moverpod.PodLabels(p.o.Migration, t, RoleBackup)
	pod.Annotations = map[string]string{moverpod.AnnotationClaim: t.SourceNamespace + "/" + t.SourceClaim}
	if node != "" {
		pod.Spec.Affinity = moverpod.OnNode(node)
	}
	return pod
}

// restorePod makes the destination claim hold snapshot.
func (p *Path) restorePod(t volumes.Transfer, snapshot string, env moverpod.Env) *corev1.Pod {
	args := []string{"mover", "restore", "--access", accessDir + "/" + repository.AccessFile, "--root", moverpod.DataDir, "--progress=json", "--snapshot", snapshot}
	pod := moverpod.Pod(p.o.Image, restoreName(p.o.Migration, t), t.DestinationNamespace, args, env,
		moverpod.Mount{Name: "data", Path: moverpod.DataDir, Claim: t.DestinationClaim},
		moverpod.Mount{Name: "access", Path: accessDir, Secret: p.secretName()})
	pod.Labels = moverpod.PodLabels(p.o.Migration, t, RoleRestore)
	pod.Annotations = map[string]string{moverpod.AnnotationClaim: t.DestinationNamespace + "/" + t.DestinationClaim}
	return pod
}
