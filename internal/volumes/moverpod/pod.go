package moverpod

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Default resources of a mover container. The memory request is about a
// sync's working set (a sync of 70,000 files, one directory of 50,000,
// peaked at 150 MiB on the sender and 110 MiB on the receiver). The
// memory limit makes the mover set its soft memory limit (GOMEMLIMIT) to
// 768 MiB, three quarters of it, above the most an authenticated but
// hostile peer can make it hold: on the receiver, 17 connections (one
// control, 16 data) of a 16 MiB frame, its decoded strings and 8 MiB of
// decoded lists, about 700 MiB; on the sender, a 256 MiB destination
// listing besides the source's. No CPU limit is set, so that a LimitRange default applies
// when the namespace has one.
var (
	defaultCPURequest    = resource.MustParse("50m")
	defaultMemoryRequest = resource.MustParse("128Mi")
	defaultMemoryLimit   = resource.MustParse("1Gi")
)

// DataDir is where a mover pod mounts the claim it copies (for the local
// path, the destination claim).
const DataDir = "/data"

// Mount is a volume of a mover pod: a claim or a Secret (then always
// read-only; its files mode 0400 for a root mover, readable by the
// mover's identity for a non-root one), mounted at Path.
type Mount struct {
	Name, Path string
	// Claim or Secret names what is mounted.
	Claim, Secret string
	ReadOnly      bool
}

// writes reports whether a mount is a claim mounted read-write.
func (m Mount) writes() bool { return m.Secret == "" && !m.ReadOnly }

// Pod is what every mover pod shares: one container "mover" running the
// ferry image with args, the given mounts, env's resources, no service
// account token, no restarts; root without privilege escalation
// (numeric owners are kept), or, where the namespace enforces the
// restricted Pod Security Standard, non-root as env.RunAs with what
// that standard requires (see secure).
func Pod(image, name, namespace string, args []string, env Env, mounts ...Mount) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			AutomountServiceAccountToken:  ptr.To(false),
			EnableServiceLinks:            ptr.To(false),
			TerminationGracePeriodSeconds: ptr.To[int64](10),
			Containers: []corev1.Container{{
				Name:                     "mover",
				Image:                    image,
				Args:                     args,
				Resources:                env.Resources,
				TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
			}},
		},
	}
	writes := slices.ContainsFunc(mounts, Mount.writes)
	secure(p, env, writes)
	c := &p.Spec.Containers[0]
	for _, m := range mounts {
		v := corev1.Volume{Name: m.Name}
		readOnly := m.ReadOnly
		if m.Secret != "" {
			readOnly = true
			v.Secret = &corev1.SecretVolumeSource{SecretName: m.Secret, DefaultMode: ptr.To(secretMode(env, writes))}
		} else {
			v.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: m.Claim, ReadOnly: readOnly}
		}
		p.Spec.Volumes = append(p.Spec.Volumes, v)
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: m.Name, MountPath: m.Path, ReadOnly: readOnly})
	}
	return p
}

// Resources are the resources of a mover container in a namespace
// with the given LimitRanges: the defaults, fitted so that admission
// accepts them.
func Resources(ranges []corev1.LimitRange) corev1.ResourceRequirements {
	req := requests(ranges)
	limit := memoryLimit(ranges, req[corev1.ResourceMemory])
	if limit.Cmp(req[corev1.ResourceMemory]) < 0 {
		req[corev1.ResourceMemory] = limit.DeepCopy()
	}
	return corev1.ResourceRequirements{Requests: req, Limits: corev1.ResourceList{corev1.ResourceMemory: limit}}
}

// requests are the requests of a mover container in a namespace with
// the given LimitRanges: the defaults, lowered to a default or maximum
// limit and raised to a minimum so that admission accepts them.
func requests(ranges []corev1.LimitRange) corev1.ResourceList {
	req := corev1.ResourceList{
		corev1.ResourceCPU:    defaultCPURequest.DeepCopy(),
		corev1.ResourceMemory: defaultMemoryRequest.DeepCopy(),
	}
	for _, item := range containerLimits(ranges) {
		for name, q := range req {
			if lim, ok := item.Max[name]; ok && lim.Cmp(q) < 0 {
				q = lim.DeepCopy()
			}
			if lim, ok := item.Default[name]; ok && item.Type == corev1.LimitTypeContainer && lim.Cmp(q) < 0 {
				q = lim.DeepCopy()
			}
			if lim, ok := item.Min[name]; ok && lim.Cmp(q) > 0 {
				q = lim.DeepCopy()
			}
			req[name] = q
		}
	}
	return req
}

// memoryLimit is the default memory limit lowered to a maximum,
// raised to a minimum, and lowered so that a maximum ratio of limit to
// request holds.
func memoryLimit(ranges []corev1.LimitRange, request resource.Quantity) resource.Quantity {
	limit := defaultMemoryLimit.DeepCopy()
	for _, item := range containerLimits(ranges) {
		if lim, ok := item.Max[corev1.ResourceMemory]; ok && lim.Cmp(limit) < 0 {
			limit = lim.DeepCopy()
		}
		if lim, ok := item.Min[corev1.ResourceMemory]; ok && lim.Cmp(limit) > 0 {
			limit = lim.DeepCopy()
		}
		if ratio, ok := item.MaxLimitRequestRatio[corev1.ResourceMemory]; ok && ratio.Value() > 0 {
			if most := request.Value() * ratio.Value(); most < limit.Value() {
				limit = *resource.NewQuantity(most, resource.BinarySI)
			}
		}
	}
	return limit
}

// containerLimits are the LimitRange items that constrain a container.
func containerLimits(ranges []corev1.LimitRange) []corev1.LimitRangeItem {
	var items []corev1.LimitRangeItem
	for _, lr := range ranges {
		for _, item := range lr.Spec.Limits {
			if item.Type == corev1.LimitTypeContainer || item.Type == corev1.LimitTypePod {
				items = append(items, item)
			}
		}
	}
	return items
}

// CreatePod creates pod; one that exists already is fine.
func CreatePod(ctx context.Context, kube kubernetes.Interface, pod *corev1.Pod) error {
	_, err := kube.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{FieldManager: ferryv1.FieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}
