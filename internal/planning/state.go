package planning

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/migrate"
)

// destClaims holds the destination claims a State plan found, by
// "namespace/name", for checkExistingClaims.
type destClaims map[string]*corev1.PersistentVolumeClaim

// findExistingClaims marks the claims of the list whose target exists on
// the destination: a State plan copies into them as they are.
func findExistingClaims(ctx context.Context, _ *ferryv1.Plan, _ migrate.Scope, _, dst *cluster.Clients, res *Result) error {
	res.existing = destClaims{}
	for i := range res.PVCs {
		c := &res.PVCs[i]
		if c.Action == ferryv1.PVCActionSkip {
			continue
		}
		got, err := dst.Kube.CoreV1().PersistentVolumeClaims(c.TargetNamespace).Get(ctx, c.TargetName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get claim %s/%s on cluster %s: %w", c.TargetNamespace, c.TargetName, dst.Name, err)
		}
		c.TargetExists = true
		c.TargetStorageClass = ptrValue(got.Spec.StorageClassName)
		capacity := claimCapacity(got)
		c.TargetCapacity = capacity.String()
		c.TargetAccessModes = nil
		for _, am := range got.Spec.AccessModes {
			c.TargetAccessModes = append(c.TargetAccessModes, string(am))
		}
		res.existing[c.TargetNamespace+"/"+c.TargetName] = got
	}
	return nil
}

// checkExistingClaims checks that each destination claim a State plan
// uses as it is can receive the data: it is bound, or will bind when the
// mover's pod mounts it; it is a file system the mover can write; no
// running pod on the destination mounts it for writing. A claim smaller
// than its source's request is a warning while the source's used bytes
// are unknown (the copy fails if the data does not fit); once they are
// measured, checkCapacity refuses a claim smaller than them.
func checkExistingClaims(ctx context.Context, _ *ferryv1.Plan, _ migrate.Scope, _, dst *cluster.Clients, res *Result) error {
	var problems []string
	users := map[string]map[string][]string{} // namespace -> claim -> running pods writing it
	for _, c := range res.Copied() {
		if !c.TargetExists {
			continue
		}
		got := res.existing[c.TargetNamespace+"/"+c.TargetName]
		name := fmt.Sprintf("destination claim %s/%s (for %s/%s)", c.TargetNamespace, c.TargetName, c.Namespace, c.Name)
		if p, err := claimProblem(ctx, dst, got); err != nil {
			return err
		} else if p != "" {
			problems = append(problems, name+" "+p)
			continue
		}
		if users[c.TargetNamespace] == nil {
			u, err := claimWriters(ctx, dst, c.TargetNamespace)
			if err != nil {
				return err
			}
			users[c.TargetNamespace] = u
		}
		if pods := users[c.TargetNamespace][c.TargetName]; len(pods) > 0 {
			problems = append(problems, fmt.Sprintf("%s is mounted for writing by running pods %s: scale their workload to zero on the destination until the cutover is done",
				name, strings.Join(pods, ", ")))
			continue
		}
		if src, err := resource.ParseQuantity(c.Capacity); err == nil && !c.Usage.Known() && capacityBelow(got, src) {
			// With the used bytes measured, checkCapacity decides instead.
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s has %s, less than the source's request of %s: the copy fails if the data does not fit",
				name, c.TargetCapacity, c.Capacity))
		}
	}
	if len(problems) > 0 {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonClaimNotUsable, Message: strings.Join(problems, "; ")}
	}
	return nil
}

// claimProblem says why the existing claim c cannot receive data, or "".
func claimProblem(ctx context.Context, dst *cluster.Clients, c *corev1.PersistentVolumeClaim) (string, error) {
	switch {
	case isBlock(c):
		return "is a raw block volume (volumeMode Block), which Ferry does not copy into: give it volumeMode Filesystem", nil
	case len(c.Spec.AccessModes) > 0 && !slices.ContainsFunc(c.Spec.AccessModes, writable):
		return "allows only read-only access: give it ReadWriteOnce, ReadWriteOncePod or ReadWriteMany", nil
	case c.DeletionTimestamp != nil:
		return "is being deleted", nil
	case c.Status.Phase == corev1.ClaimBound:
		return "", nil
	case c.Status.Phase == corev1.ClaimLost:
		return "has lost its volume: recreate it", nil
	}
	waits, err := waitsForConsumer(ctx, dst, ptrValue(c.Spec.StorageClassName))
	if err != nil || waits {
		return "", err
	}
	return "is not bound to a volume: bind it (check its storage class and events) or delete it so that Ferry creates one", nil
}

func writable(m corev1.PersistentVolumeAccessMode) bool {
	return m == corev1.ReadWriteOnce || m == corev1.ReadWriteOncePod || m == corev1.ReadWriteMany
}

// waitsForConsumer reports whether claims of the storage class bind only
// once a pod uses them: a Pending claim of such a class binds when the
// mover's pod mounts it.
func waitsForConsumer(ctx context.Context, dst *cluster.Clients, class string) (bool, error) {
	if class == "" {
		return false, nil
	}
	sc, err := dst.Kube.StorageV1().StorageClasses().Get(ctx, class, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get storage class %s on cluster %s: %w", class, dst.Name, err)
	}
	return sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer, nil
}

// claimWriters maps each claim of namespace ns to the running pods that
// mount it other than read-only.
func claimWriters(ctx context.Context, dst *cluster.Clients, ns string) (map[string][]string, error) {
	pods, err := dst.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list pods in %s on cluster %s: %w", ns, dst.Name, err)
	}
	out := map[string][]string{}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || p.Labels[ferryv1.LabelManagedBy] == ferryv1.ManagedByValue {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && !v.PersistentVolumeClaim.ReadOnly {
				out[v.PersistentVolumeClaim.ClaimName] = append(out[v.PersistentVolumeClaim.ClaimName], p.Name)
			}
		}
	}
	return out, nil
}

// claimCapacity is a claim's capacity: what its volume has when bound,
// else what it requests.
func claimCapacity(c *corev1.PersistentVolumeClaim) resource.Quantity {
	if q, ok := c.Status.Capacity[corev1.ResourceStorage]; ok {
		return q
	}
	return c.Spec.Resources.Requests[corev1.ResourceStorage]
}

func capacityBelow(c *corev1.PersistentVolumeClaim, q resource.Quantity) bool {
	have := claimCapacity(c)
	return have.Cmp(q) < 0
}

// countClaims counts what a State plan applies: the claims it creates.
func countClaims(_ context.Context, _ *ferryv1.Plan, _ migrate.Scope, _, _ *cluster.Clients, res *Result) error {
	n := 0
	for _, c := range res.Copied() {
		if !c.TargetExists {
			n++
		}
	}
	if n > 0 {
		res.Counts = []ferryv1.KindCount{{Kind: "PersistentVolumeClaim", Count: n}}
	}
	res.Total = int64(n)
	return nil
}

func ptrValue(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
