package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterSpec says how to reach a Kubernetes cluster.
// +kubebuilder:validation:XValidation:rule="!has(self.moverService) || self.moverService != 'Ingress' || (has(self.moverIngressClass) && has(self.moverIngressDomain))",message="moverService Ingress needs moverIngressClass (an ingress class whose controller does TLS passthrough) and moverIngressDomain (a domain whose names resolve to that controller)"
type ClusterSpec struct {
	// URL of the cluster's API server, e.g. https://10.0.0.1:6443.
	// Empty for the host cluster, which is reached with the controller's
	// own credentials.
	// +optional
	URL string `json:"url,omitempty"`
	// CABundle is the PEM bundle that signs the API server's certificate.
	// +optional
	CABundle []byte `json:"caBundle,omitempty"`
	// Insecure skips verification of the API server's certificate.
	// +optional
	Insecure bool `json:"insecure,omitempty"`
	// TokenSecretRef names a Secret in the Cluster's namespace whose key
	// "token" holds a service-account token for the cluster.
	// +optional
	TokenSecretRef *SecretReference `json:"tokenSecretRef,omitempty"`
	// IsHost marks the cluster Ferry's controller runs in.
	// +optional
	IsHost bool `json:"isHost,omitempty"`
	// Access says whose rights the token carries: Agent (the default) is
	// Ferry's own service account on the cluster, with Ferry's roles and
	// the namespaces granted per plan; User is a user's own token (a
	// namespace admin's), with which Ferry does exactly what that user
	// may do there, asks for no grants, and reads cluster-scoped objects
	// only where the user may.
	// +kubebuilder:validation:Enum=Agent;User
	// +optional
	Access ClusterAccess `json:"access,omitempty"`
	// MoverService is how senders on other clusters reach the data
	// mover's receivers on this cluster: NodePort (the default; a node
	// address and port), LoadBalancer (a Service of that type, for
	// clusters whose nodes are not reachable from outside), Route (an
	// OpenShift passthrough Route on the router's port 443; the sender
	// dials the Route's host with SNI) or Ingress (an Ingress of
	// MoverIngressClass with TLS passthrough, host
	// <receiver>.<MoverIngressDomain>, dialed on 443 with SNI).
	// +kubebuilder:validation:Enum=NodePort;LoadBalancer;Route;Ingress
	// +optional
	MoverService string `json:"moverService,omitempty"`
	// MoverIngressClass is the ingress class of the receivers' Ingresses
	// when MoverService is Ingress: one whose controller forwards TLS
	// untouched by server name (ingress-nginx started with
	// --enable-ssl-passthrough, HAProxy).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	MoverIngressClass string `json:"moverIngressClass,omitempty"`
	// MoverIngressDomain is the DNS domain of the receivers' hosts when
	// MoverService is Ingress (a receiver's host is the name of its
	// Service, a dot and this domain). The names under it must resolve,
	// from the source cluster's pods, to the ingress controller (a
	// wildcard record).
	// +kubebuilder:validation:MaxLength=230
	// +optional
	MoverIngressDomain string `json:"moverIngressDomain,omitempty"`
	// Registry is the cluster's internal image registry, whose images a
	// migration copies to the destination's registry.
	// +optional
	Registry *RegistrySpec `json:"registry,omitempty"`
}

// ClusterAccess is whose rights a Cluster's token carries.
type ClusterAccess string

const (
	// ClusterAccessAgent is Ferry's own service account with Ferry's
	// roles.
	ClusterAccessAgent ClusterAccess = "Agent"
	// ClusterAccessUser is a user's own token: Ferry acts with that
	// user's rights only.
	ClusterAccessUser ClusterAccess = "User"
)

// ActsAsUser says that the Cluster's token is a user's own.
func (s *ClusterSpec) ActsAsUser() bool { return s.Access == ClusterAccessUser }

// RegistrySpec says how to reach a cluster's internal image registry.
type RegistrySpec struct {
	// Address of the registry as reached from where the copy runs
	// (Ferry's controller), HOST[:PORT].
	Address string `json:"address"`
	// InternalAddress is the registry's address as pods reference it,
	// when it differs from Address (often a Service name, e.g.
	// image-registry.openshift-image-registry.svc:5000). Image
	// references with either prefix count as internal.
	// +optional
	InternalAddress string `json:"internalAddress,omitempty"`
	// CABundle is the PEM bundle that signs the registry's certificate.
	// +optional
	CABundle []byte `json:"caBundle,omitempty"`
	// Insecure allows plain HTTP and skips verification of the registry's
	// certificate.
	// +optional
	Insecure bool `json:"insecure,omitempty"`
	// CredentialsSecretRef names a Secret in the Cluster's namespace with
	// the registry's credentials: keys "username" and "password" (basic
	// auth), or "token" (a bearer token, e.g. an OpenShift
	// service-account token). Anonymous access without it.
	// +optional
	CredentialsSecretRef *SecretReference `json:"credentialsSecretRef,omitempty"`
}

// Values of ClusterSpec.MoverService.
const (
	MoverServiceNodePort     = "NodePort"
	MoverServiceLoadBalancer = "LoadBalancer"
	MoverServiceRoute        = "Route"
	MoverServiceIngress      = "Ingress"
)

// SecretReference names a Secret in the same namespace.
type SecretReference struct {
	// Name of the Secret.
	Name string `json:"name"`
}

// StorageClassInfo describes a storage class of a cluster.
type StorageClassInfo struct {
	// Name of the storage class.
	Name string `json:"name"`
	// Provisioner of its volumes.
	Provisioner string `json:"provisioner"`
	// Default is true for the cluster's default storage class.
	// +optional
	Default bool `json:"default,omitempty"`
}

// ClusterStatus is what Ferry found out about the cluster.
type ClusterStatus struct {
	// Conditions: Ready, with reasons Unreachable, Unauthorized,
	// InsufficientPermissions, SecretNotFound.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// KubernetesVersion of the API server.
	// +optional
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// APIVersions the cluster serves, as group/version.
	// +optional
	APIVersions []string `json:"apiVersions,omitempty"`
	// StorageClasses of the cluster.
	// +optional
	StorageClasses []StorageClassInfo `json:"storageClasses,omitempty"`
	// LastChecked is when the cluster was last checked.
	// +optional
	LastChecked *metav1.Time `json:"lastChecked,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=fcl,categories=ferry
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Host",type=boolean,JSONPath=`.spec.isHost`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.kubernetesVersion`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Cluster is a Kubernetes cluster Ferry migrates from or to.
type Cluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterSpec   `json:"spec,omitempty"`
	Status ClusterStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterList is a list of Clusters.
type ClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Cluster `json:"items"`
}
