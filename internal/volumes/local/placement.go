package local

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// Verdict is what the placement decision found for one transfer.
type Verdict string

// Verdicts of Decide.
const (
	// Local: one pod can mount both claims; the local path copies.
	Local Verdict = "local"
	// Direct: the claims cannot share a pod; the direct path copies.
	Direct Verdict = "direct"
	// Undecided: the destination claim is not bound yet and its class
	// binds it wherever its provisioner likes: decide once it is bound.
	Undecided Verdict = "undecided"
)

// Placement is the decision for one transfer and why.
type Placement struct {
	Verdict Verdict
	// Reason says why, for messages ("source claim is used on node n1,
	// destination volume is bound to node n2").
	Reason string
}

// claimState is what the decision needs to know of one claim.
type claimState struct {
	claim *corev1.PersistentVolumeClaim
	// volume is the bound PersistentVolume, nil while unbound.
	volume *corev1.PersistentVolume
	// class is the claim's StorageClass, nil when it has none or it is
	// not found; only read for an unbound claim.
	class *storagev1.StorageClass
	// usedOn is the node of a running pod (not a mover) that mounts the
	// claim, "" when none does.
	usedOn string
}

// Decide tells whether one pod on one node of a cluster can mount both
// claims of t, reading the claims, their volumes and classes, the pods
// that use them and the nodes.
func Decide(ctx context.Context, kube kubernetes.Interface, t volumes.Transfer) (Placement, error) {
	if t.SourceNamespace != t.DestinationNamespace {
		return decide(t, claimState{}, claimState{}, nil), nil
	}
	pods, err := kube.CoreV1().Pods(t.SourceNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return Placement{}, fmt.Errorf("list pods in %s: %w", t.SourceNamespace, err)
	}
	src, err := readClaim(ctx, kube, t.SourceNamespace, t.SourceClaim, pods.Items)
	if err != nil {
		return Placement{}, err
	}
	dst, err := readClaim(ctx, kube, t.DestinationNamespace, t.DestinationClaim, pods.Items)
	if err != nil {
		return Placement{}, err
	}
	nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return Placement{}, fmt.Errorf("list nodes: %w", err)
	}
	return decide(t, src, dst, nodes.Items), nil
}

// readClaim reads a claim, its volume (when bound) or else its class, and
// the node a running pod uses it on.
func readClaim(ctx context.Context, kube kubernetes.Interface, namespace, name string, pods []corev1.Pod) (claimState, error) {
	pvc, err := kube.CoreV1().PersistentVolumeClaims(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return claimState{}, fmt.Errorf("get claim %s/%s: %w", namespace, name, err)
	}
	out := claimState{claim: pvc, usedOn: moverpod.ClaimNode(pods, name)}
	if pvc.Status.Phase == corev1.ClaimBound && pvc.Spec.VolumeName != "" {
		pv, err := kube.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
		if err != nil {
			return claimState{}, fmt.Errorf("get volume %s of claim %s/%s: %w", pvc.Spec.VolumeName, namespace, name, err)
		}
		out.volume = pv
		return out, nil
	}
	if cls := pvc.Spec.StorageClassName; cls != nil && *cls != "" {
		sc, err := kube.StorageV1().StorageClasses().Get(ctx, *cls, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return claimState{}, fmt.Errorf("get storage class %s of claim %s/%s: %w", *cls, namespace, name, err)
		}
		if err == nil {
			out.class = sc
		}
	}
	return out, nil
}

// decide is the placement rule. One pod can mount both claims when they
// are in one namespace (a pod mounts claims of its own namespace only),
// the source claim is bound, and some node satisfies all of: the node
// of a running pod that uses either claim (a ReadWriteOnce volume is
// attached there), the node affinity of each bound volume, and, for a
// destination claim still unbound, its class's allowed topologies when
// the class waits for the first consumer (the claim is then provisioned
// where the local pod is scheduled). An unbound destination claim of a
// class that binds at once is Undecided: its provisioner picks a place
// the decision cannot know.
func decide(t volumes.Transfer, src, dst claimState, nodes []corev1.Node) Placement {
	switch {
	case t.SourceNamespace != t.DestinationNamespace:
		return Placement{Direct, "the claims are in different namespaces, and a pod mounts claims of its own namespace only"}
	case src.volume == nil:
		return Placement{Direct, "the source claim is not bound"}
	case dst.volume == nil && dst.class == nil:
		return Placement{Direct, "the destination claim is not bound and its storage class is unknown"}
	case dst.volume == nil && !waits(dst.class):
		return Placement{Undecided, "the destination claim is not bound yet"}
	}
	var fits []string
	for i := range nodes {
		n := &nodes[i]
		if mayHost(n, src) && mayHost(n, dst) {
			fits = append(fits, n.Name)
		}
	}
	if len(fits) == 0 {
		return Placement{Direct, "no node can mount both claims (" + constraints(src, dst) + ")"}
	}
	if src.usedOn != "" {
		return Placement{Local, "both claims can be mounted on node " + src.usedOn + ", where the source claim is in use"}
	}
	slices.Sort(fits)
	return Placement{Local, fmt.Sprintf("both claims can be mounted on %d of %d nodes (%s)", len(fits), len(nodes), clipList(fits))}
}

// waits tells whether a class binds its claims only once a pod uses them.
func waits(sc *storagev1.StorageClass) bool {
	return sc != nil && sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer
}

// mayHost tells whether a pod on node n can mount the claim c.
func mayHost(n *corev1.Node, c claimState) bool {
	if c.usedOn != "" && c.usedOn != n.Name {
		return false
	}
	if c.volume != nil {
		if a := c.volume.Spec.NodeAffinity; a != nil && a.Required != nil && !matchesTerms(n, a.Required.NodeSelectorTerms) {
			return false
		}
		return true
	}
	return topologyAllows(n, c.class)
}

// topologyAllows tells whether a class's allowed topologies (none: any)
// include node n.
func topologyAllows(n *corev1.Node, sc *storagev1.StorageClass) bool {
	if sc == nil || len(sc.AllowedTopologies) == 0 {
		return true
	}
	for _, term := range sc.AllowedTopologies {
		ok := true
		for _, req := range term.MatchLabelExpressions {
			if v, has := n.Labels[req.Key]; !has || !slices.Contains(req.Values, v) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// matchesTerms tells whether node n satisfies node selector terms (ORed;
// within a term, expressions and fields ANDed), as the scheduler reads a
// volume's node affinity. matchFields knows only metadata.name.
func matchesTerms(n *corev1.Node, terms []corev1.NodeSelectorTerm) bool {
	for _, term := range terms {
		if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
			continue // an empty term matches nothing
		}
		if matches(term.MatchExpressions, labels.Set(n.Labels)) &&
			matches(term.MatchFields, labels.Set{"metadata.name": n.Name}) {
			return true
		}
	}
	return false
}

// operators maps node selector operators to label selector ones.
var operators = map[corev1.NodeSelectorOperator]selection.Operator{
	corev1.NodeSelectorOpIn:           selection.In,
	corev1.NodeSelectorOpNotIn:        selection.NotIn,
	corev1.NodeSelectorOpExists:       selection.Exists,
	corev1.NodeSelectorOpDoesNotExist: selection.DoesNotExist,
	corev1.NodeSelectorOpGt:           selection.GreaterThan,
	corev1.NodeSelectorOpLt:           selection.LessThan,
}

// matches tells whether set satisfies every requirement; a malformed one
// matches nothing.
func matches(reqs []corev1.NodeSelectorRequirement, set labels.Set) bool {
	for _, r := range reqs {
		op, ok := operators[r.Operator]
		if !ok {
			return false
		}
		req, err := labels.NewRequirement(r.Key, op, r.Values)
		if err != nil || !req.Matches(set) {
			return false
		}
	}
	return true
}

// constraints says what held the claims apart.
func constraints(src, dst claimState) string {
	var parts []string
	for _, c := range []struct {
		what string
		s    claimState
	}{{"source", src}, {"destination", dst}} {
		switch {
		case c.s.usedOn != "":
			parts = append(parts, c.what+" claim in use on node "+c.s.usedOn)
		case c.s.volume != nil && c.s.volume.Spec.NodeAffinity != nil:
			parts = append(parts, c.what+" volume "+c.s.volume.Name+" limited by its node affinity")
		case c.s.volume == nil && c.s.class != nil && len(c.s.class.AllowedTopologies) > 0:
			parts = append(parts, c.what+" class "+c.s.class.Name+" limited by its allowed topologies")
		}
	}
	if len(parts) == 0 {
		return "no nodes"
	}
	return strings.Join(parts, ", ")
}

// clipList names at most three items.
func clipList(items []string) string {
	if len(items) <= 3 {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:3], ", ") + fmt.Sprintf(" and %d more", len(items)-3)
}
