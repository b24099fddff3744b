package claimswap

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Labels and keys of the copies of recreated workloads.
const (
	// LabelCopyOf marks a ConfigMap that holds a workload being recreated;
	// its value is the workload's kind.
	LabelCopyOf = "ferry.dev/swap-copy-of"
	copyKey     = "object.json"
	// goneTimeout bounds the wait for a deleted workload to go.
	goneTimeout = time.Minute
)

// patchChange is a change that mutates obj in place, sent as a merge
// patch with obj's resourceVersion as an optimistic lock and redone on
// conflict from a fresh copy.
func patchChange(c client.Client, ref string, obj client.Object, mutate func(client.Object)) change {
	return change{ref: ref, apply: func(ctx context.Context) error {
		key := client.ObjectKeyFromObject(obj)
		first := true
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur := obj.DeepCopyObject().(client.Object)
			if !first {
				if err := c.Get(ctx, key, cur); err != nil {
					return fmt.Errorf("get: %w", err)
				}
			}
			first = false
			before := cur.DeepCopyObject().(client.Object)
			mutate(cur)
			p := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
			if err := c.Patch(ctx, cur, p, client.FieldOwner(ferryv1.FieldManager)); err != nil {
				return fmt.Errorf("patch: %w", err)
			}
			return nil
		})
	}}
}

// recreate replaces old by n: it keeps n in a ConfigMap copy first, so
// that a crash between the delete and the create loses nothing (resume
// finishes it), deletes old with its dependents orphaned, waits until it
// is gone, creates n and drops the copy.
func recreate(ctx context.Context, c client.Client, old, n client.Object, labels map[string]string) error {
	cm, err := saveCopy(ctx, c, n, labels)
	if err != nil {
		return err
	}
	uid := old.GetUID()
	err = c.Delete(ctx, old, client.PropagationPolicy(metav1.DeletePropagationOrphan), client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete the old object: %w", err)
	}
	return restoreCopy(ctx, c, cm)
}

// copyName is the name of the ConfigMap that holds a workload being
// recreated.
func copyName(kind, name string) string {
	return fmt.Sprintf("ferry-swap-%s-%s", lower(kind), name)
}

func lower(s string) string {
	b := []byte(s)
	for i, r := range b {
		if r >= 'A' && r <= 'Z' {
			b[i] = r + 'a' - 'A'
		}
	}
	return string(b)
}

// saveCopy writes n into its ConfigMap copy (created, or replaced when an
// earlier attempt left one).
func saveCopy(ctx context.Context, c client.Client, n client.Object, labels map[string]string) (*corev1.ConfigMap, error) {
	data, err := json.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("encode the new object: %w", err)
	}
	kind := n.GetObjectKind().GroupVersionKind().Kind
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: copyName(kind, n.GetName()), Namespace: n.GetNamespace(), Labels: map[string]string{}}}
	for k, v := range labels {
		cm.Labels[k] = v
	}
	cm.Labels[LabelCopyOf] = kind
	cm.Labels[ferryv1.LabelManagedBy] = ferryv1.ManagedByValue
	cm.Data = map[string]string{copyKey: string(data)}
	err = c.Create(ctx, cm)
	if apierrors.IsAlreadyExists(err) {
		var cur corev1.ConfigMap
		if err = c.Get(ctx, client.ObjectKeyFromObject(cm), &cur); err == nil {
			cur.Data = cm.Data
			err = c.Update(ctx, &cur)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("save a copy of the new object in ConfigMap %s: %w", cm.Name, err)
	}
	return cm, nil
}

// restoreCopy waits until the object of the copy cm is gone (deleted), creates it from
// the copy unless it exists, and deletes the copy.
func restoreCopy(ctx context.Context, c client.Client, cm *corev1.ConfigMap) error {
	obj := &unstructured.Unstructured{}
	if err := json.Unmarshal([]byte(cm.Data[copyKey]), &obj.Object); err != nil {
		return fmt.Errorf("decode the copy in ConfigMap %s: %w", cm.Name, err)
	}
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, goneTimeout, true, func(ctx context.Context) (bool, error) {
		cur := &unstructured.Unstructured{}
		cur.SetGroupVersionKind(obj.GroupVersionKind())
		err := c.Get(ctx, client.ObjectKeyFromObject(obj), cur)
		switch {
		case apierrors.IsNotFound(err):
			return true, c.Create(ctx, obj, client.FieldOwner(ferryv1.FieldManager))
		case err != nil:
			return false, err
		case cur.GetDeletionTimestamp() == nil:
			return true, nil // created already (an earlier attempt)
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("create %s %s again from ConfigMap %s: %w", obj.GetKind(), obj.GetName(), cm.Name, err)
	}
	if err := c.Delete(ctx, cm); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete the copy in ConfigMap %s: %w", cm.Name, err)
	}
	return nil
}

// resume finishes the recreations an earlier Swap left midway in
// namespace ns.
func resume(ctx context.Context, c client.Client, ns string) error {
	var l corev1.ConfigMapList
	if err := c.List(ctx, &l, client.InNamespace(ns), client.HasLabels{LabelCopyOf}); err != nil {
		return fmt.Errorf("list copies of recreated workloads in namespace %s: %w", ns, err)
	}
	for i := range l.Items {
		if err := restoreCopy(ctx, c, &l.Items[i]); err != nil {
			return err
		}
	}
	return nil
}

// freshMeta is the metadata of a recreated object: name, namespace,
// labels, annotations and owners; nothing the server sets.
func freshMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	out := metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, OwnerReferences: m.OwnerReferences}
	if m.Labels != nil {
		out.Labels = map[string]string{}
		for k, v := range m.Labels {
			out.Labels[k] = v
		}
	}
	if m.Annotations != nil {
		out.Annotations = map[string]string{}
		for k, v := range m.Annotations {
			out.Annotations[k] = v
		}
	}
	return out
}

func metav1TypeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

// jobGenerated are the labels the API server adds to a Job and its pod
// template; a recreated Job gets its own.
var jobGenerated = []string{"controller-uid", "job-name", batchv1.ControllerUidLabel, batchv1.JobNameLabel}

// freshJob is j, ready to create again: without the selector and labels
// the API server generated for the old Job.
func freshJob(j *batchv1.Job) *batchv1.Job {
	n := &batchv1.Job{TypeMeta: metav1TypeMeta("batch/v1", "Job"), ObjectMeta: freshMeta(&j.ObjectMeta), Spec: *j.Spec.DeepCopy()}
	if j.Spec.ManualSelector == nil || !*j.Spec.ManualSelector {
		n.Spec.Selector = nil
		for _, k := range jobGenerated {
			delete(n.Labels, k)
			delete(n.Spec.Template.Labels, k)
		}
	}
	return n
}

// isMover tells Ferry's own pods (movers) apart.
func isMover(p *corev1.Pod) bool {
	return p.Labels[ferryv1.LabelManagedBy] == ferryv1.ManagedByValue
}
