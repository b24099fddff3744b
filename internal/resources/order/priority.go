package order

import "k8s.io/apimachinery/pkg/runtime/schema"

// priorities is the apply order; an object's position in it is its
// priority.
var priorities = []schema.GroupKind{
	// Custom resources of the namespace need their definitions first.
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"},
	// Every namespaced object needs its namespace.
	{Kind: "Namespace"},
	// Not migrated by Ferry (the plan maps classes instead), but if a class
	// is ever applied it must precede the volumes and claims that name it.
	{Group: "storage.k8s.io", Kind: "StorageClass"},
	// Pre-provisioned volumes before the claims that bind to them.
	{Kind: "PersistentVolume"},
	// Pods are rejected when their ServiceAccount does not exist, and
	// ServiceAccounts list Secrets as image pull secrets.
	{Kind: "ServiceAccount"},
	// Pods mount Secrets and ConfigMaps as volumes and environment; a
	// missing one keeps a Pod in ContainerCreating.
	{Kind: "Secret"},
	{Kind: "ConfigMap"},
	// LimitRanges default the resources of Pods at admission, and
	// ResourceQuotas count them: both must be in place before any Pod.
	{Kind: "LimitRange"},
	{Kind: "ResourceQuota"},
	// Roles before the bindings that reference them, and all RBAC before
	// the workloads whose ServiceAccounts need the permissions at start.
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"},
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"},
	{Group: "rbac.authorization.k8s.io", Kind: "Role"},
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"},
	// OpenShift admits a Pod only under a SecurityContextConstraints its
	// service account may use: the SCCs naming the migrated service
	// accounts before any workload.
	{Group: "security.openshift.io", Kind: "SecurityContextConstraints"},
	// Network policies before the Pods they isolate, so that no Pod ever
	// runs unprotected on the destination.
	{Group: "networking.k8s.io", Kind: "NetworkPolicy"},
	// Claims before the workloads that mount them; the data was copied into
	// them before apply.
	{Kind: "PersistentVolumeClaim"},
	// Disruption budgets before the Pods they protect.
	{Group: "policy", Kind: "PodDisruptionBudget"},
	// Workloads, controllers before the objects they would own. Standalone
	// Pods last: they have no controller to retry them.
	{Group: "apps", Kind: "Deployment"},
	{Group: "apps", Kind: "StatefulSet"},
	{Group: "apps", Kind: "DaemonSet"},
	{Group: "apps", Kind: "ReplicaSet"},
	{Group: "batch", Kind: "Job"},
	{Group: "batch", Kind: "CronJob"},
	{Kind: "Pod"},
	// Autoscalers after their targets, which they read on creation.
	{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"},
	// Services after the workloads, so that endpoints fill as soon as the
	// Service exists instead of a window where it answers with no backend.
	{Kind: "Service"},
	// Ingresses and Routes after the Services they route to.
	{Group: "networking.k8s.io", Kind: "Ingress"},
	{Group: "route.openshift.io", Kind: "Route"},
}

// unknownPriority is the priority of kinds that are not in the list.
// Custom resources go after every built-in kind: operators reconcile them
// into workloads and Services of their own, and typically adopt what
// already exists, and custom resources often reference built-in objects
// (Secrets, Services) that must exist for the operator to succeed.
var unknownPriority = len(priorities)

// positions indexes priorities.
var positions = func() map[schema.GroupKind]int {
	m := make(map[schema.GroupKind]int, len(priorities))
	for i, gk := range priorities {
		m[gk] = i
	}
	return m
}()

// Priority returns the apply position of a kind; lower goes first. Kinds
// that are not built in (custom resources and anything else) share the
// highest priority, after Ingresses and Routes.
func Priority(gk schema.GroupKind) int {
	if p, ok := positions[gk]; ok {
		return p
	}
	return unknownPriority
}
