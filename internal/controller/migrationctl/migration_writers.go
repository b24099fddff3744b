package migrationctl

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/volumes"
)

// nameWriters fills in, for every transfer of err whose source kept
// changing after quiesce, the pods on the source that mount its claim and
// still run, so that the failure says what to stop. A listing that fails
// leaves the error as it was: it already names the claim.
func (s *session) nameWriters(ctx context.Context, err error) {
	for _, sw := range volumes.StillWriting(err) {
		var pods corev1.PodList
		if lerr := s.src.Client.List(ctx, &pods, client.InNamespace(sw.Transfer.SourceNamespace)); lerr != nil {
			logf.FromContext(ctx).Info("cannot list the pods that write to a claim", "claim",
				sw.Transfer.SourceNamespace+"/"+sw.Transfer.SourceClaim, "error", lerr.Error())
			continue
		}
		sw.Writers = writers(pods.Items, sw.Transfer.SourceClaim)
	}
}

// writers names ("namespace/name") the pods that mount claim and have
// not ended, except Ferry's own (its mover pods read the claim).
func writers(pods []corev1.Pod, claim string) []string {
	var out []string
	for i := range pods {
		p := &pods[i]
		if p.Labels[ferryv1.LabelManagedBy] == ferryv1.ManagedByValue ||
			p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || !mounts(p, claim) {
			continue
		}
		out = append(out, fmt.Sprintf("%s/%s", p.Namespace, p.Name))
	}
	sort.Strings(out)
	return out
}

// mounts reports whether the pod has a volume of claim.
func mounts(p *corev1.Pod, claim string) bool {
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
			return true
		}
	}
	return false
}
