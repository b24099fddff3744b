package quiesce

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// kind is a workload kind that Quiesce stops.
type kind struct {
	// name is the Kind, as in "Deployment".
	name string
	// gvk is the kind's group, version and kind.
	gvk schema.GroupVersionKind
	// optional kinds are not served by every cluster (OpenShift's); where
	// the cluster does not serve them there is nothing of them to quiesce.
	optional bool
	// newObject returns an empty object of the kind.
	newObject func() client.Object
	// newList returns an empty list of the kind.
	newList func() client.ObjectList
	// field is the spec field that quiescing changes.
	field field
	// extra are fields changed along with field only when they are not in
	// their quiesced state already; their originals are recorded then
	// only, and restored when recorded.
	extra []field
	// skip returns why Quiesce leaves a workload that it has not quiesced
	// yet alone, or "" when it quiesces it; nil means never.
	skip func(client.Object) string
	// partOf returns the workload that controls obj, when that is one
	// Quiesce handles itself (a Deployment controlling a ReplicaSet), or "";
	// nil means never. Such an object is never quiesced on its own, and the
	// annotations its controller copies to it are not its own (the
	// deployment controller copies a Deployment's annotations to its
	// ReplicaSets and never removes them).
	partOf func(client.Object) string
}

// Kinds in the order Quiesce stops them; Unquiesce starts them in the
// reverse order.
var (
	// CronJobs first, so that they start no new Job while the rest stops.
	cronJobKind = kind{
		name:      "CronJob",
		gvk:       batchv1.SchemeGroupVersion.WithKind("CronJob"),
		newObject: func() client.Object { return &batchv1.CronJob{} },
		newList:   func() client.ObjectList { return &batchv1.CronJobList{} },
		field:     suspendField(func(o client.Object) **bool { return &o.(*batchv1.CronJob).Spec.Suspend }),
	}
	// Jobs next, including those the CronJobs started until they were
	// suspended; suspending a Job deletes its pods.
	jobKind = kind{
		name:      "Job",
		gvk:       batchv1.SchemeGroupVersion.WithKind("Job"),
		newObject: func() client.Object { return &batchv1.Job{} },
		newList:   func() client.ObjectList { return &batchv1.JobList{} },
		field:     suspendField(func(o client.Object) **bool { return &o.(*batchv1.Job).Spec.Suspend }),
		skip:      skipJob,
	}
	// ReplicaSets and Deployments (typically the front of the application)
	// before StatefulSets (typically its data), so that clients stop writing
	// before the stores they write to stop. ReplicaSets before Deployments
	// so that Unquiesce restores a Deployment before it removes the
	// annotations that the Deployment copied to its ReplicaSets.
	deploymentKind = kind{
		name:      "Deployment",
		gvk:       appsv1.SchemeGroupVersion.WithKind("Deployment"),
		newObject: func() client.Object { return &appsv1.Deployment{} },
		newList:   func() client.ObjectList { return &appsv1.DeploymentList{} },
		field:     replicasField(func(o client.Object) **int32 { return &o.(*appsv1.Deployment).Spec.Replicas }),
	}
	replicaSetKind = kind{
		name:      "ReplicaSet",
		gvk:       appsv1.SchemeGroupVersion.WithKind("ReplicaSet"),
		newObject: func() client.Object { return &appsv1.ReplicaSet{} },
		newList:   func() client.ObjectList { return &appsv1.ReplicaSetList{} },
		field:     replicasField(func(o client.Object) **int32 { return &o.(*appsv1.ReplicaSet).Spec.Replicas }),
		partOf:    replicaSetDeployment,
	}
	statefulSetKind = kind{
		name:      "StatefulSet",
		gvk:       appsv1.SchemeGroupVersion.WithKind("StatefulSet"),
		newObject: func() client.Object { return &appsv1.StatefulSet{} },
		newList:   func() client.ObjectList { return &appsv1.StatefulSetList{} },
		field:     replicasField(func(o client.Object) **int32 { return &o.(*appsv1.StatefulSet).Spec.Replicas }),
		// With whenScaled: Delete, scaling to 0 would delete every claim
		// of the StatefulSet, the data to migrate.
		extra: []field{whenScaledField},
	}
	// DaemonSets last: they are often node agents (log shippers, proxies)
	// that the other pods use until they stop.
	daemonSetKind = kind{
		name:      "DaemonSet",
		gvk:       appsv1.SchemeGroupVersion.WithKind("DaemonSet"),
		newObject: func() client.Object { return &appsv1.DaemonSet{} },
		newList:   func() client.ObjectList { return &appsv1.DaemonSetList{} },
		field: nodeSelectorField(func(o client.Object) *map[string]string {
			return &o.(*appsv1.DaemonSet).Spec.Template.Spec.NodeSelector
		}),
	}

	// quiesceOrder is the order in which Quiesce stops the kinds.
	// DeploymentConfigs (OpenShift) stop with the Deployments.
	quiesceOrder = []kind{cronJobKind, jobKind, replicaSetKind, deploymentKind, deploymentConfigKind, statefulSetKind, daemonSetKind}
)

// unquiesceOrder returns the order in which Unquiesce starts the kinds: the
// reverse of quiesceOrder, so that what stopped last starts first.
func unquiesceOrder() []kind {
	order := make([]kind, 0, len(quiesceOrder))
	for i := len(quiesceOrder) - 1; i >= 0; i-- {
		order = append(order, quiesceOrder[i])
	}
	return order
}

// replicaSetDeployment returns "Deployment/name" when a Deployment controls
// the ReplicaSet: the Deployment is quiesced instead, and would scale the
// ReplicaSet back anyway. It only reads metadata.
func replicaSetDeployment(obj client.Object) string {
	if ref := metav1.GetControllerOf(obj); ref != nil && ref.Kind == "Deployment" &&
		refGroup(ref) == appsv1.GroupName {
		return "Deployment/" + ref.Name
	}
	return ""
}

// skipJob leaves finished Jobs alone: they run nothing, and a resumed
// finished Job would not start again anyway.
func skipJob(obj client.Object) string {
	for _, c := range obj.(*batchv1.Job).Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return "finished"
		}
	}
	return ""
}

// refGroup returns the API group of an owner reference.
func refGroup(ref *metav1.OwnerReference) string {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return ""
	}
	return gv.Group
}
