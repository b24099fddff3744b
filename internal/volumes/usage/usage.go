package usage

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// How long figures are kept, and how long a pod may take.
const (
	// MaxAge is the age after which measured figures are taken again.
	MaxAge = 10 * time.Minute
	// RetryAfter is how long a failed measurement stands before it is
	// tried again.
	RetryAfter = 2 * time.Minute
	// PodTimeout is how long a measurement pod may take, from its
	// creation, before it is deleted and the figures are unknown (a claim
	// that cannot be mounted leaves its pod Pending).
	PodTimeout = 3 * time.Minute
)

// Claim names a source claim to measure.
type Claim struct {
	Namespace, Name string
	// Owners says the claim's owners are needed: a mover of it runs as
	// non-root (a namespace enforces the restricted Pod Security
	// Standard). Only a pod finds them, so the kubelet's figures, which
	// lack them, are not taken.
	Owners bool
}

// key is the claim without its options.
func (c Claim) key() Claim { return Claim{Namespace: c.Namespace, Name: c.Name} }

// Measurer measures the used space of a plan's claims on its source
// cluster.
type Measurer struct {
	// Source is the cluster the claims are on.
	Source *cluster.Clients
	// Plan names the plan, for the pods' names and labels.
	Plan string
	// Image is the ferry image the measurement pods run; without it only
	// the kubelet path measures.
	Image string
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	// state of one Step.
	proxy *bool
	pods  map[string][]corev1.Pod // namespace -> pods
	nodes map[string]*summary     // node -> its stats summary
}

// Progress is what a Step found.
type Progress struct {
	// Usage holds the figures of every claim that has them, in the order
	// of the claims: fresh ones, new ones, and stale ones being measured
	// again.
	Usage []ferryv1.ClaimUsage
	// Measuring counts the claims being measured (call Step again in a
	// few seconds); Missing those of them without any figures yet.
	Measuring, Missing int
}

// Step advances the measurement of claims, given the figures of the last
// call (prev; a Plan's status.usage): figures that are fresh are kept,
// finished pods are read and deleted, and claims without fresh figures
// are read from the kubelet or get a pod. A failure to measure one claim
// is a figure with Unknown set, not an error; an error means a cluster
// did not answer.
func (m *Measurer) Step(ctx context.Context, claims []Claim, prev []ferryv1.ClaimUsage) (Progress, error) {
	m.pods, m.nodes, m.proxy = map[string][]corev1.Pod{}, map[string]*summary{}, nil
	last := map[Claim]ferryv1.ClaimUsage{}
	for _, u := range prev {
		last[Claim{Namespace: u.Namespace, Name: u.Name}] = u
	}
	var p Progress
	for _, c := range claims {
		u, ok := last[c.key()]
		if ok && m.fresh(c, u.VolumeUsage) {
			p.Usage = append(p.Usage, u)
			continue
		}
		var prevUsage *ferryv1.VolumeUsage
		if ok {
			prevUsage = &u.VolumeUsage
		}
		got, err := m.measure(ctx, c, prevUsage)
		if err != nil {
			return Progress{}, err
		}
		switch {
		case got != nil:
			p.Usage = append(p.Usage, ferryv1.ClaimUsage{Namespace: c.Namespace, Name: c.Name, VolumeUsage: *got})
		case ok:
			p.Measuring++
			p.Usage = append(p.Usage, u) // the stale figures stand until the new ones are in
		default:
			p.Measuring++
			p.Missing++
		}
	}
	return p, nil
}

// fresh tells whether figures of claim c need no new measurement; the
// kubelet's never do when c needs its owners.
func (m *Measurer) fresh(c Claim, u ferryv1.VolumeUsage) bool {
	if c.Owners && u.Method == ferryv1.UsageKubelet {
		return false
	}
	age := m.now().Sub(u.MeasuredAt.Time)
	if u.Unknown != "" {
		return age < RetryAfter
	}
	return age < MaxAge
}

func (m *Measurer) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// measure takes the figures of claim c: from its finished pod, else from
// the kubelet (unless c needs its owners), else by starting a pod; prev
// are its last figures, if any. It returns nil while a pod runs.
func (m *Measurer) measure(ctx context.Context, c Claim, prev *ferryv1.VolumeUsage) (*ferryv1.VolumeUsage, error) {
	pods := m.Source.Kube.CoreV1().Pods(c.Namespace)
	pod, err := pods.Get(ctx, podName(m.Plan, c), metav1.GetOptions{})
	switch {
	case err == nil:
		return m.readPod(ctx, pod)
	case !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("get measurement pod %s/%s on cluster %s: %w", c.Namespace, podName(m.Plan, c), m.Source.Name, err)
	}
	claim, err := m.Source.Kube.CoreV1().PersistentVolumeClaims(c.Namespace).Get(ctx, c.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return m.unknown("the claim does not exist on the source"), nil
	}
	if err != nil {
		return nil, fmt.Errorf("get claim %s/%s on cluster %s: %w", c.Namespace, c.Name, m.Source.Name, err)
	}
	node, err := m.claimNode(ctx, c)
	if err != nil {
		return nil, err
	}
	if !c.Owners {
		if u, err := m.fromKubelet(ctx, c, node, claimCapacity(claim)); err != nil || u != nil {
			return u, err
		}
	}
	if m.Image == "" {
		return m.unknown("the kubelet does not report it and there is no mover image to measure it with: set one with `ferry config set mover-image IMAGE`"), nil
	}
	return m.startPod(ctx, c, node, prev)
}

// claimNode is the node where a running pod mounts claim c, or "".
func (m *Measurer) claimNode(ctx context.Context, c Claim) (string, error) {
	l, ok := m.pods[c.Namespace]
	if !ok {
		got, err := m.Source.Kube.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return "", fmt.Errorf("list pods in %s on cluster %s: %w", c.Namespace, m.Source.Name, err)
		}
		l = got.Items
		m.pods[c.Namespace] = l
	}
	return moverpod.ClaimNode(l, c.Name), nil
}

// fromKubelet reads the figures of claim c from the stats summary of the
// node where it is mounted, when Ferry may read it and the figures are
// the claim's own (see claimFigures); nil otherwise.
func (m *Measurer) fromKubelet(ctx context.Context, c Claim, node string, capacity int64) (*ferryv1.VolumeUsage, error) {
	if node == "" {
		return nil, nil
	}
	if m.proxy == nil {
		ok, err := mayProxyNodes(ctx, m.Source)
		if err != nil {
			return nil, err
		}
		m.proxy = &ok
	}
	if !*m.proxy {
		return nil, nil
	}
	s, ok := m.nodes[node]
	if !ok {
		var err error
		if s, err = nodeSummary(ctx, m.Source, node); err != nil {
			// A kubelet that does not answer is no reason to fail: the pod
			// path measures instead.
			s = nil
		}
		m.nodes[node] = s
	}
	if s == nil {
		return nil, nil
	}
	f, ok := claimFigures(s, c.Namespace, c.Name, capacity)
	if !ok {
		return nil, nil
	}
	return &ferryv1.VolumeUsage{UsedBytes: ptr.To(*f.UsedBytes), UsedInodes: f.InodesUsed, MeasuredAt: metav1.NewTime(m.now()),
		Method: ferryv1.UsageKubelet}, nil
}

// unknown is a failed measurement that says why.
func (m *Measurer) unknown(why string) *ferryv1.VolumeUsage {
	return &ferryv1.VolumeUsage{MeasuredAt: metav1.NewTime(m.now()), Unknown: why}
}
