package images

import (
	"context"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Use is an image reference and the first object found using it.
type Use struct {
	// Image is the reference as written in the pod spec.
	Image string
	// By is "Kind/name" of the object whose pod spec names it.
	By string
}

// podSpecsOf lists one kind and returns the pod specs of its objects that
// no other object owns (an owned ReplicaSet, Job or Pod runs its owner's
// template, which is read from the owner).
type podSpecsOf struct {
	kind  string
	list  func() client.ObjectList
	specs func(client.ObjectList) []ownedSpec
}

type ownedSpec struct {
	name  string
	owned bool
	spec  *corev1.PodSpec
}

// kinds are the kinds whose pod specs name images.
var kinds = []podSpecsOf{
	{"Deployment", func() client.ObjectList { return &appsv1.DeploymentList{} }, func(l client.ObjectList) (out []ownedSpec) {
		for i := range l.(*appsv1.DeploymentList).Items {
			o := &l.(*appsv1.DeploymentList).Items[i]
			out = append(out, ownedSpec{o.Name, len(o.OwnerReferences) > 0, &o.Spec.Template.Spec})
		}
		return out
	}},
	{"StatefulSet", func() client.ObjectList { return &appsv1.StatefulSetList{} }, func(l client.ObjectList) (out []ownedSpec) {
		for i := range l.(*appsv1.StatefulSetList).Items {
			o := &l.(*appsv1.StatefulSetList).Items[i]
			out = append(out, ownedSpec{o.Name, len(o.OwnerReferences) > 0, &o.Spec.Template.Spec})
		}
		return out
	}},
	{"DaemonSet", func() client.ObjectList { return &appsv1.DaemonSetList{} }, func(l client.ObjectList) (out []ownedSpec) {
		for i := range l.(*appsv1.DaemonSetList).Items {
			o := &l.(*appsv1.DaemonSetList).Items[i]
			out = append(out, ownedSpec{o.Name, len(o.OwnerReferences) > 0, &o.Spec.Template.Spec})
		}
		return out
	}},
	{"ReplicaSet", func() client.ObjectList { return &appsv1.ReplicaSetList{} }, func(l client.ObjectList) (out []ownedSpec) {
		for i := range l.(*appsv1.ReplicaSetList).Items {
			o := &l.(*appsv1.ReplicaSetList).Items[i]
			out = append(out, ownedSpec{o.Name, len(o.OwnerReferences) > 0, &o.Spec.Template.Spec})
		}
		return out
	}},
	{"ReplicationController", func() client.ObjectList { return &corev1.ReplicationControllerList{} }, func(l client.ObjectList) (out []ownedSpec) {
		for i := range l.(*corev1.ReplicationControllerList).Items {
			o := &l.(*corev1.ReplicationControllerList).Items[i]
			if o.Spec.Template != nil {
				out = append(out, ownedSpec{o.Name, len(o.OwnerReferences) > 0, &o.Spec.Template.Spec})
			}
		}
		return out
	}},
	{"CronJob", func() client.ObjectList { return &batchv1.CronJobList{} }, func(l client.ObjectList) (out []ownedSpec) {
		for i := range l.(*batchv1.CronJobList).Items {
			o := &l.(*batchv1.CronJobList).Items[i]
			out = append(out, ownedSpec{o.Name, len(o.OwnerReferences) > 0, &o.Spec.JobTemplate.Spec.Template.Spec})
		}
		return out
	}},
	{"Job", func() client.ObjectList { return &batchv1.JobList{} }, func(l client.ObjectList) (out []ownedSpec) {
		for i := range l.(*batchv1.JobList).Items {
			o := &l.(*batchv1.JobList).Items[i]
			out = append(out, ownedSpec{o.Name, len(o.OwnerReferences) > 0, &o.Spec.Template.Spec})
		}
		return out
	}},
	{"Pod", func() client.ObjectList { return &corev1.PodList{} }, func(l client.ObjectList) (out []ownedSpec) {
		for i := range l.(*corev1.PodList).Items {
			o := &l.(*corev1.PodList).Items[i]
			out = append(out, ownedSpec{o.Name, len(o.OwnerReferences) > 0, &o.Spec})
		}
		return out
	}},
}

// Collect returns the image references of the pod specs (regular, init
// and ephemeral containers) of every workload, CronJob, Job and bare Pod
// in a namespace that sel selects, each once, sorted.
func Collect(ctx context.Context, c client.Reader, namespace string, sel labels.Selector) ([]Use, error) {
	first := map[string]string{}
	for _, k := range kinds {
		l := k.list()
		if err := c.List(ctx, l, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
			return nil, fmt.Errorf("list %ss in %s: %w", k.kind, namespace, err)
		}
		for _, s := range k.specs(l) {
			if s.owned {
				continue
			}
			for _, img := range SpecImages(s.spec) {
				if _, ok := first[img]; !ok {
					first[img] = k.kind + "/" + s.name
				}
			}
		}
	}
	if err := collectDeploymentConfigs(ctx, c, namespace, sel, first); err != nil {
		return nil, err
	}
	out := make([]Use, 0, len(first))
	for img, by := range first {
		out = append(out, Use{Image: img, By: by})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Image < out[j].Image })
	return out, nil
}

// deploymentConfigList is OpenShift's DeploymentConfigs, read as
// unstructured; a cluster that does not serve them has none.
var deploymentConfigList = schema.GroupVersionKind{Group: "apps.openshift.io", Version: "v1", Kind: "DeploymentConfigList"}

// collectDeploymentConfigs adds the images of the DeploymentConfigs'
// pod templates to first.
func collectDeploymentConfigs(ctx context.Context, c client.Reader, namespace string, sel labels.Selector, first map[string]string) error {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(deploymentConfigList)
	err := c.List(ctx, l, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: sel})
	if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list DeploymentConfigs in %s: %w", namespace, err)
	}
	for _, dc := range l.Items {
		tmpl, found, err := unstructured.NestedMap(dc.Object, "spec", "template", "spec")
		if !found || err != nil {
			continue
		}
		var spec corev1.PodSpec
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, &spec); err != nil {
			return fmt.Errorf("DeploymentConfig %s/%s: pod template: %w", namespace, dc.GetName(), err)
		}
		for _, img := range SpecImages(&spec) {
			if _, ok := first[img]; !ok {
				first[img] = "DeploymentConfig/" + dc.GetName()
			}
		}
	}
	return nil
}

// SpecImages returns the images of a pod spec's init, regular and
// ephemeral containers.
func SpecImages(sp *corev1.PodSpec) []string {
	var out []string
	for _, c := range sp.InitContainers {
		out = append(out, c.Image)
	}
	for _, c := range sp.Containers {
		out = append(out, c.Image)
	}
	for _, c := range sp.EphemeralContainers {
		out = append(out, c.Image)
	}
	return out
}
