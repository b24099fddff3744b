package transform

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/quiesce"
)

// podSpecPaths says where each workload kind keeps its pod spec.
var podSpecPaths = map[schema.GroupKind][]string{
	gkPod:         {"spec"},
	gkDeployment:  {"spec", "template", "spec"},
	gkStatefulSet: {"spec", "template", "spec"},
	gkReplicaSet:  {"spec", "template", "spec"},
	gkDaemonSet:   {"spec", "template", "spec"},
	gkJob:         {"spec", "template", "spec"},
	gkCronJob:     {"spec", "jobTemplate", "spec", "template", "spec"},
	// OpenShift's.
	gkDeploymentConfig:      {"spec", "template", "spec"},
	gkReplicationController: {"spec", "template", "spec"},
}

// containerLists are the fields of a pod spec that hold containers.
var containerLists = []string{"containers", "initContainers", "ephemeralContainers"}

// jobGeneratedLabels are put on a Job's pod template by the Job controller,
// together with the generated selector; the destination generates new ones
// with the new Job's UID.
var jobGeneratedLabels = []string{
	"controller-uid",
	"batch.kubernetes.io/controller-uid",
	"job-name",
	"batch.kubernetes.io/job-name",
}

// workloadTransform rewrites container images, gives the destination the
// values quiesce changed on the source, and drops what the source's
// controllers generated for Jobs and Pods.
type workloadTransform struct{}

var _ Transformer = (*workloadTransform)(nil)

// Name implements Transformer.
func (*workloadTransform) Name() string { return "workload" }

// AppliesTo implements Transformer: Deployments, StatefulSets, ReplicaSets,
// DaemonSets, Jobs, CronJobs, Pods, ReplicationControllers and OpenShift's
// DeploymentConfigs.
func (*workloadTransform) AppliesTo(gk schema.GroupKind) bool {
	_, ok := podSpecPaths[gk]
	return ok
}

// Transform implements Transformer. It fails when a quiesce annotation does
// not parse, rather than apply a guessed value.
func (*workloadTransform) Transform(tc *Context, obj *unstructured.Unstructured) (string, error) {
	gk := obj.GroupVersionKind().GroupKind()
	podSpecPath := podSpecPaths[gk]
	if err := restoreQuiesced(obj, gk, podSpecPath); err != nil {
		return "", err
	}
	if podSpec := nestedMap(obj.Object, podSpecPath...); podSpec != nil {
		rewriteImages(tc, podSpec)
		renameClaims(tc, obj.GetNamespace(), podSpec)
	}
	switch gk {
	case gkJob:
		unstructured.RemoveNestedField(obj.Object, "spec", "selector")
		unstructured.RemoveNestedField(obj.Object, "spec", "manualSelector")
		removeMapKeys(obj.Object, []string{"spec", "template", "metadata", "labels"}, jobGeneratedLabels...)
	case gkPod:
		unstructured.RemoveNestedField(obj.Object, "spec", "nodeName")
	}
	return "", nil
}

// restoreQuiesced puts back the values quiesce saved in annotations, on the
// kinds quiesce changes: replicas of Deployments, StatefulSets and
// ReplicaSets, suspend of Jobs and CronJobs, the pod-template node selector
// of DaemonSets. It then removes the annotations and Ferry's node-selector
// key.
func restoreQuiesced(obj *unstructured.Unstructured, gk schema.GroupKind, podSpecPath []string) error {
	annotations := obj.GetAnnotations()
	switch gk {
	case gkDeployment, gkStatefulSet, gkReplicaSet, gkDeploymentConfig:
		if v, ok := annotations[ferryv1.AnnotationOriginalReplicas]; ok {
			if err := restoreReplicas(obj, v); err != nil {
				return err
			}
		}
		if v, ok := annotations[ferryv1.AnnotationOriginalWhenScaled]; ok && gk == gkStatefulSet {
			if err := restoreWhenScaled(obj, v); err != nil {
				return err
			}
		}
	case gkJob, gkCronJob:
		if v, ok := annotations[ferryv1.AnnotationOriginalSuspend]; ok {
			if err := restoreSuspend(obj, v); err != nil {
				return err
			}
		}
	case gkDaemonSet:
		if v, ok := annotations[ferryv1.AnnotationOriginalNodeSelector]; ok {
			if err := restoreNodeSelector(obj, podSpecPath, v); err != nil {
				return err
			}
		}
	}
	removeMapKeys(obj.Object, fieldPath(podSpecPath, "nodeSelector"), ferryv1.QuiesceNodeSelectorKey)
	removeAnnotations(obj, quiesce.Annotations...)
	return nil
}

// restoreReplicas sets spec.replicas from the original-replicas annotation.
func restoreReplicas(obj *unstructured.Unstructured, v string) error {
	r, err := quiesce.DecodeReplicas(v)
	if err != nil {
		return fmt.Errorf("annotation %s: %w", ferryv1.AnnotationOriginalReplicas, err)
	}
	if r == nil {
		unstructured.RemoveNestedField(obj.Object, "spec", "replicas")
		return nil
	}
	return setNested(obj, int64(*r), "spec", "replicas")
}

// restoreWhenScaled sets a StatefulSet's claim retention policy
// whenScaled from the original-when-scaled annotation ("" removes it: the
// API server defaults it).
func restoreWhenScaled(obj *unstructured.Unstructured, v string) error {
	if v == "" {
		unstructured.RemoveNestedField(obj.Object, "spec", "persistentVolumeClaimRetentionPolicy", "whenScaled")
		return nil
	}
	return setNested(obj, v, "spec", "persistentVolumeClaimRetentionPolicy", "whenScaled")
}

// restoreSuspend sets spec.suspend from the original-suspend annotation.
func restoreSuspend(obj *unstructured.Unstructured, v string) error {
	b, err := quiesce.DecodeSuspend(v)
	if err != nil {
		return fmt.Errorf("annotation %s: %w", ferryv1.AnnotationOriginalSuspend, err)
	}
	if b == nil {
		unstructured.RemoveNestedField(obj.Object, "spec", "suspend")
		return nil
	}
	return setNested(obj, *b, "spec", "suspend")
}

// restoreNodeSelector sets the pod-template node selector from the
// original-node-selector annotation; an empty selector removes the field.
func restoreNodeSelector(obj *unstructured.Unstructured, podSpecPath []string, v string) error {
	path := fieldPath(podSpecPath, "nodeSelector")
	selector, err := quiesce.DecodeNodeSelector(v)
	if err != nil {
		return fmt.Errorf("annotation %s: %w", ferryv1.AnnotationOriginalNodeSelector, err)
	}
	if len(selector) == 0 {
		unstructured.RemoveNestedField(obj.Object, path...)
		return nil
	}
	m := make(map[string]interface{}, len(selector))
	for k, val := range selector {
		m[k] = val
	}
	return setNested(obj, m, path...)
}

// rewriteImages rewrites the image of every container of an unstructured
// pod spec.
func rewriteImages(tc *Context, podSpec map[string]interface{}) {
	for _, list := range containerLists {
		for _, c := range nestedSlice(podSpec, list) {
			container, ok := c.(map[string]interface{})
			if !ok {
				continue
			}
			if image, ok := container["image"].(string); ok {
				container["image"] = tc.Image(image)
			}
		}
	}
}

// setNested sets a field, wrapping the error with the field's path.
func setNested(obj *unstructured.Unstructured, value interface{}, path ...string) error {
	if err := unstructured.SetNestedField(obj.Object, value, path...); err != nil {
		return fmt.Errorf("set %v: %w", path, err)
	}
	return nil
}

// renameClaims points the pod spec's claim volumes at the claims' names on
// the destination.
func renameClaims(tc *Context, ns string, podSpec map[string]interface{}) {
	for _, v := range nestedSlice(podSpec, "volumes") {
		vol, ok := v.(map[string]interface{})
		if !ok {
			continue
		}
		pvc := nestedMap(vol, "persistentVolumeClaim")
		if name, ok := pvc["claimName"].(string); ok {
			pvc["claimName"] = tc.claimName(ns, name)
		}
	}
}
