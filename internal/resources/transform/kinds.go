package transform

import "k8s.io/apimachinery/pkg/runtime/schema"

// The kinds the built-in steps know about.
var (
	gkPod                   = schema.GroupKind{Kind: "Pod"}
	gkService               = schema.GroupKind{Kind: "Service"}
	gkServiceAccount        = schema.GroupKind{Kind: "ServiceAccount"}
	gkSecret                = schema.GroupKind{Kind: "Secret"}
	gkConfigMap             = schema.GroupKind{Kind: "ConfigMap"}
	gkEndpoints             = schema.GroupKind{Kind: "Endpoints"}
	gkEvent                 = schema.GroupKind{Kind: "Event"}
	gkPersistentVolumeClaim = schema.GroupKind{Kind: "PersistentVolumeClaim"}
	gkEventsEvent           = schema.GroupKind{Group: "events.k8s.io", Kind: "Event"}
	gkEndpointSlice         = schema.GroupKind{Group: "discovery.k8s.io", Kind: "EndpointSlice"}
	gkDeployment            = schema.GroupKind{Group: "apps", Kind: "Deployment"}
	gkStatefulSet           = schema.GroupKind{Group: "apps", Kind: "StatefulSet"}
	gkReplicaSet            = schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}
	gkDaemonSet             = schema.GroupKind{Group: "apps", Kind: "DaemonSet"}
	gkJob                   = schema.GroupKind{Group: "batch", Kind: "Job"}
	gkCronJob               = schema.GroupKind{Group: "batch", Kind: "CronJob"}
	gkRoleBinding           = schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}
	gkClusterRoleBinding    = schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}
	gkReplicationController = schema.GroupKind{Kind: "ReplicationController"}
	gkRoute                 = schema.GroupKind{Group: "route.openshift.io", Kind: "Route"}
	gkDeploymentConfig      = schema.GroupKind{Group: "apps.openshift.io", Kind: "DeploymentConfig"}
	gkImageStream           = schema.GroupKind{Group: "image.openshift.io", Kind: "ImageStream"}
	gkSCC                   = schema.GroupKind{Group: "security.openshift.io", Kind: "SecurityContextConstraints"}
)
