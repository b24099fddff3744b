// Package prepull pulls the images of a migration's workloads onto the
// destination's nodes before the cutover, so that starting the workloads
// there does not wait for pulls: the downtime ends sooner.
//
// # Basics
//
// [Images] lists the images of pod specs (init, regular and ephemeral
// containers) as the destination will run them. [Pass] runs one pass:
// for every image and schedulable node it creates a puller pod bound to
// the node (spec.nodeName) in the namespace of the workload that uses it,
// with the workload's pull secrets that exist there; then it reads the
// pods. A puller runs no code of the image: its command is a path that no
// image has, so the container fails to start once the kubelet has pulled
// the image, and the pod ends. A pulled, or already present, image is
// done; a pull that fails (ErrImagePull, ImagePullBackOff) is reported,
// never an error: the workloads will pull it themselves, and the user
// learns early that they may not start. Once no pull is going, [Cleanup]
// deletes every puller of the migration.
//
// # Caveats
//
//   - An image whose pull policy is Always is pulled again when its
//     workload starts; the layers are then local, so that pull is short.
//   - Pull secrets applied only at cutover (with the other resources)
//     are not there yet during a stage: such images may fail to pre-pull
//     and are reported.
//   - The number of pullers is bounded (MaxPullers); images beyond it are
//     left to the workloads and reported.
package prepull

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Labels of the pullers.
const (
	// LabelComponent is app.kubernetes.io/component, ComponentPuller on
	// every puller.
	LabelComponent = "app.kubernetes.io/component"
	// ComponentPuller is the value of LabelComponent on pullers.
	ComponentPuller = "image-puller"
	// MaxPullers bounds the pullers of one migration.
	MaxPullers = 200
	// noCommand is the command of a puller: no image has it.
	noCommand = "/.ferry-pre-pull-runs-nothing"
	// deadline bounds a puller's life, should it be left behind.
	deadline = 600
)

// Want is an image to pull for the workloads of one destination
// namespace, with the pull secrets those name.
type Want struct {
	Namespace   string
	Image       string
	PullSecrets []string
}

// Images returns what to pull for pod specs of a destination namespace:
// each image once, with the pull secrets of the specs that use it.
func Images(namespace string, specs []*corev1.PodSpec) []Want {
	secrets := map[string]map[string]bool{}
	for _, s := range specs {
		for _, img := range specImages(s) {
			if secrets[img] == nil {
				secrets[img] = map[string]bool{}
			}
			for _, ps := range s.ImagePullSecrets {
				secrets[img][ps.Name] = true
			}
		}
	}
	out := make([]Want, 0, len(secrets))
	for img, ss := range secrets {
		w := Want{Namespace: namespace, Image: img}
		for s := range ss {
			w.PullSecrets = append(w.PullSecrets, s)
		}
		sort.Strings(w.PullSecrets)
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Image < out[j].Image })
	return out
}

func specImages(s *corev1.PodSpec) []string {
	var out []string
	for _, c := range s.InitContainers {
		out = append(out, c.Image)
	}
	for _, c := range s.Containers {
		out = append(out, c.Image)
	}
	for _, c := range s.EphemeralContainers {
		out = append(out, c.Image)
	}
	var kept []string
	for _, img := range out {
		if img != "" {
			kept = append(kept, img)
		}
	}
	return kept
}

// Result is what a Pass found.
type Result struct {
	// Pulled counts the image and node pairs whose image is there.
	Pulled int
	// Pending lists the pulls still going, as "image on node".
	Pending []string
	// Failed maps "image on node" to the kubelet's reason and message.
	Failed map[string]string
	// Skipped counts the pairs beyond MaxPullers.
	Skipped int
}

// Done reports whether no pull is still going.
func (r Result) Done() bool { return len(r.Pending) == 0 }

// Pass creates the missing pullers of migration for wants on nodes and
// reads them; labels are added to the pullers (the migration's marks).
// Finished pullers stay (they run nothing) so that a later pass still
// sees their outcome; once the Result is Done, the caller deletes them
// with Cleanup. It is idempotent.
func Pass(ctx context.Context, kube kubernetes.Interface, migration string, labels map[string]string, wants []Want, nodes []string) (Result, error) {
	res := Result{Failed: map[string]string{}}
	n := 0
	for _, w := range wants {
		for _, node := range nodes {
			if n++; n > MaxPullers {
				res.Skipped++
				continue
			}
			outcome, err := pull(ctx, kube, migration, labels, w, node)
			if err != nil {
				return res, err
			}
			key := w.Image + " on " + node
			switch outcome {
			case "":
				res.Pending = append(res.Pending, key)
			case pulled:
				res.Pulled++
			default:
				res.Failed[key] = outcome
			}
		}
	}
	return res, nil
}

const pulled = "pulled"

// pull creates the puller of w on node unless it exists, and returns its
// outcome: "" while it pulls, pulled, or why it failed.
func pull(ctx context.Context, kube kubernetes.Interface, migration string, labels map[string]string, w Want, node string) (string, error) {
	pods := kube.CoreV1().Pods(w.Namespace)
	name := pullerName(migration, w, node)
	p, err := pods.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		secrets, err := existingSecrets(ctx, kube, w)
		if err != nil {
			return "", err
		}
		_, err = pods.Create(ctx, puller(name, migration, labels, w, node, secrets), metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("create image puller %s/%s for %s on node %s: %w", w.Namespace, name, w.Image, node, err)
		}
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get image puller %s/%s: %w", w.Namespace, name, err)
	}
	return observe(p), nil
}

// observe reads a puller: "" while the image is being pulled, pulled
// once it is there, or the kubelet's reason the pull failed.
func observe(p *corev1.Pod) string {
	for _, s := range p.Status.ContainerStatuses {
		switch {
		case s.State.Terminated != nil, s.State.Running != nil, s.ImageID != "":
			return pulled
		case s.State.Waiting != nil && isPullFailure(s.State.Waiting.Reason):
			return strings.TrimSpace(s.State.Waiting.Reason + ": " + s.State.Waiting.Message)
		}
	}
	if p.Status.Phase == corev1.PodFailed {
		return "the puller failed: " + p.Status.Reason + " " + p.Status.Message
	}
	return ""
}

func isPullFailure(reason string) bool {
	switch reason {
	case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable":
		return true
	}
	return false
}

// existingSecrets returns those of w's pull secrets that exist in its
// namespace.
func existingSecrets(ctx context.Context, kube kubernetes.Interface, w Want) ([]corev1.LocalObjectReference, error) {
	var out []corev1.LocalObjectReference
	for _, s := range w.PullSecrets {
		_, err := kube.CoreV1().Secrets(w.Namespace).Get(ctx, s, metav1.GetOptions{})
		switch {
		case err == nil:
			out = append(out, corev1.LocalObjectReference{Name: s})
		case !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("get pull secret %s/%s: %w", w.Namespace, s, err)
		}
	}
	return out, nil
}

// pullerName is a puller's name, the same for the same migration, image,
// namespace and node.
func pullerName(migration string, w Want, node string) string {
	sum := sha256.Sum256([]byte(migration + "\x00" + w.Namespace + "\x00" + w.Image + "\x00" + node))
	return "ferry-pull-" + hex.EncodeToString(sum[:8])
}

// Selector selects the pullers of a migration.
func Selector(migration string) string {
	return fmt.Sprintf("%s=%s,%s=%s,%s=%s", ferryv1.LabelMigration, migration, LabelComponent, ComponentPuller,
		ferryv1.LabelManagedBy, ferryv1.ManagedByValue)
}

// puller is the pod that pulls w's image on node and runs nothing.
func puller(name, migration string, labels map[string]string, w Want, node string, secrets []corev1.LocalObjectReference) *corev1.Pod {
	l := map[string]string{LabelComponent: ComponentPuller, ferryv1.LabelManagedBy: ferryv1.ManagedByValue}
	for k, v := range labels {
		l[k] = v
	}
	l[ferryv1.LabelMigration] = migration
	small := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1m"), corev1.ResourceMemory: resource.MustParse("8Mi")}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.Namespace, Labels: l,
			Annotations: map[string]string{"ferry.dev/image": w.Image}},
		Spec: corev1.PodSpec{
			NodeName:                      node,
			RestartPolicy:                 corev1.RestartPolicyNever,
			AutomountServiceAccountToken:  ptr.To(false),
			EnableServiceLinks:            ptr.To(false),
			ActiveDeadlineSeconds:         ptr.To[int64](deadline),
			TerminationGracePeriodSeconds: ptr.To[int64](0),
			ImagePullSecrets:              secrets,
			Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{
				Name: "pull", Image: w.Image, ImagePullPolicy: corev1.PullIfNotPresent,
				Command:   []string{noCommand},
				Resources: corev1.ResourceRequirements{Requests: small, Limits: small},
				SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false),
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			}},
		},
	}
}

// Cleanup deletes every puller of migration on the cluster; done is false
// while some still terminate.
func Cleanup(ctx context.Context, kube kubernetes.Interface, migration string) (bool, error) {
	pods := kube.CoreV1().Pods(metav1.NamespaceAll)
	l, err := pods.List(ctx, metav1.ListOptions{LabelSelector: Selector(migration)})
	if err != nil {
		return false, fmt.Errorf("list image pullers: %w", err)
	}
	for _, p := range l.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		err := kube.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
		if err != nil && !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("delete image puller %s/%s: %w", p.Namespace, p.Name, err)
		}
	}
	return len(l.Items) == 0, nil
}

// Nodes returns the names of the cluster's nodes that run pods: Ready and
// not cordoned.
func Nodes(ctx context.Context, kube kubernetes.Interface) ([]string, error) {
	l, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var out []string
	for _, n := range l.Items {
		if n.Spec.Unschedulable {
			continue
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				out = append(out, n.Name)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
