package quiesce

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// owner is what Running needs to know of a workload that controls pods or
// controls what controls them (a Deployment its ReplicaSets, a CronJob its
// Jobs).
type owner struct {
	// quiesced: the workload carries ferryv1.AnnotationQuiescedBy.
	quiesced bool
	// controller is the UID of the workload's own controller, if any.
	controller types.UID
}

// index holds the workloads of a namespace by UID.
type index map[types.UID]owner

// load reads the workloads of every kind Quiesce handles (their metadata
// only) and the pods of namespace.
func load(ctx context.Context, c client.Client, namespace string) (index, []corev1.Pod, error) {
	idx := index{}
	for _, k := range quiesceOrder {
		l := &metav1.PartialObjectMetadataList{}
		l.SetGroupVersionKind(k.gvk.GroupVersion().WithKind(k.gvk.Kind + "List"))
		if err := c.List(ctx, l, client.InNamespace(namespace)); err != nil {
			if invisible(k, err) {
				continue
			}
			return nil, nil, fmt.Errorf("list %ss in namespace %q: %w", k.name, namespace, err)
		}
		for i := range l.Items {
			idx[l.Items[i].UID] = ownerOf(k, &l.Items[i])
		}
	}
	if err := indexDCReplicationControllers(ctx, c, namespace, idx); err != nil {
		return nil, nil, err
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(namespace)); err != nil {
		return nil, nil, fmt.Errorf("list pods in namespace %q: %w", namespace, err)
	}
	return idx, pods.Items, nil
}

// indexDCReplicationControllers adds the ReplicationControllers that a
// DeploymentConfig controls to idx (metadata only), so that their pods
// count as the DeploymentConfig's.
func indexDCReplicationControllers(ctx context.Context, c client.Client, namespace string, idx index) error {
	l := &metav1.PartialObjectMetadataList{}
	l.SetGroupVersionKind(replicationControllerGVK.GroupVersion().WithKind("ReplicationControllerList"))
	if err := c.List(ctx, l, client.InNamespace(namespace)); err != nil {
		return fmt.Errorf("list ReplicationControllers in namespace %q: %w", namespace, err)
	}
	for i := range l.Items {
		if rc := &l.Items[i]; controlledByDC(rc) {
			idx[rc.UID] = owner{controller: metav1.GetControllerOf(rc).UID}
		}
	}
	return nil
}

// ownerOf returns what the index keeps of obj, a workload of kind k; it
// only reads metadata.
func ownerOf(k kind, obj client.Object) owner {
	var w owner
	// The annotations of a part were copied from the whole.
	if k.partOf == nil || k.partOf(obj) == "" {
		w.quiesced = isQuiesced(obj)
	}
	if ref := metav1.GetControllerOf(obj); ref != nil {
		w.controller = ref.UID
	}
	return w
}

// terminated reports whether a pod has run to its end.
func terminated(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// quiescedPods returns, as "name (phase)", the pods that have not
// terminated and whose controller, or their controller's controller, is
// quiesced.
func quiescedPods(idx index, pods []corev1.Pod) []string {
	var out []string
	for i := range pods {
		p := &pods[i]
		if terminated(p) {
			continue
		}
		ref := metav1.GetControllerOf(p)
		if ref == nil {
			continue
		}
		w, ok := idx[ref.UID]
		if !ok {
			continue
		}
		if w.quiesced || (w.controller != "" && idx[w.controller].quiesced) {
			out = append(out, fmt.Sprintf("%s (%s)", p.Name, p.Status.Phase))
		}
	}
	sort.Strings(out)
	return out
}

// unmanagedPods returns the names of the pods that have not terminated and
// whose controller is no workload in idx: bare pods, pods of custom
// controllers, mirror pods; Ferry's own (movers, hook Jobs) aside.
func unmanagedPods(idx index, pods []corev1.Pod) []string {
	var out []string
	for i := range pods {
		p := &pods[i]
		if terminated(p) || p.Labels[ferryv1.LabelManagedBy] == ferryv1.ManagedByValue {
			// Ferry's own pods (movers, hooks) are not the application's.
			continue
		}
		if ref := metav1.GetControllerOf(p); ref != nil {
			if _, ok := idx[ref.UID]; ok {
				continue
			}
		}
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

// Running lists the pods in namespace that belong to a quiesced workload
// (directly, or through a ReplicaSet or Job) and have not terminated, as
// "pod-name (phase)". An empty list means the namespace is quiesced. Pods
// being deleted count until they are gone.
func Running(ctx context.Context, c client.Client, namespace string) ([]string, error) {
	if err := checkNamespace("list running pods", namespace); err != nil {
		return nil, err
	}
	idx, pods, err := load(ctx, c, namespace)
	if err != nil {
		return nil, err
	}
	return quiescedPods(idx, pods), nil
}

// Wait polls Running every interval until it returns no pod, or ctx ends;
// then the error names the pods still running (as of the last successful
// poll) and wraps the context's cause. Errors of single polls do not end the
// wait; the last one is reported with the timeout.
func Wait(ctx context.Context, c client.Client, namespace string, interval time.Duration) error {
	if err := checkNamespace("wait for quiesce", namespace); err != nil {
		return err
	}
	if interval <= 0 {
		return fmt.Errorf("wait for namespace %q to quiesce: poll interval %v is not positive", namespace, interval)
	}
	logger := log.FromContext(ctx).WithValues("namespace", namespace)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var (
		running []string
		lastErr error
	)
	for {
		pods, err := Running(ctx, c, namespace)
		switch {
		case err != nil:
			lastErr = err
			logger.V(1).Info("polling running pods failed", "error", err.Error())
		case len(pods) == 0:
			return nil
		default:
			running, lastErr = pods, nil
			logger.V(1).Info("waiting for pods to stop", "pods", pods)
		}
		select {
		case <-ctx.Done():
			err := fmt.Errorf("wait for namespace %q to quiesce: %d pods still running: %s: %w",
				namespace, len(running), strings.Join(running, ", "), context.Cause(ctx))
			if lastErr != nil {
				err = fmt.Errorf("%w (last poll failed: %w)", err, lastErr)
			}
			return err
		case <-ticker.C:
		}
	}
}
