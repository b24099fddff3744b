package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RepositorySpec says how to reach a replication repository: an S3
// bucket (or a prefix in one) that both clusters of an indirect
// migration reach.
type RepositorySpec struct {
	// Endpoint is the URL of the S3 service, http:// or https://, e.g.
	// https://s3.eu-west-1.amazonaws.com or http://10.0.0.5:7070.
	// +kubebuilder:validation:Pattern=`^https?://`
	Endpoint string `json:"endpoint"`
	// Bucket holds the repository.
	// +kubebuilder:validation:MinLength=3
	Bucket string `json:"bucket"`
	// Prefix, when set, is the folder of the bucket the repository lives
	// in, so that several repositories share a bucket.
	// +optional
	Prefix string `json:"prefix,omitempty"`
	// Region of the bucket; us-east-1 when empty.
	// +optional
	Region string `json:"region,omitempty"`
	// PathStyle addresses the bucket as ENDPOINT/BUCKET instead of
	// BUCKET.ENDPOINT (virtual-host style): what most S3-compatible
	// servers other than AWS want.
	// +optional
	PathStyle bool `json:"pathStyle,omitempty"`
	// InsecureSkipTLSVerify skips verification of the endpoint's
	// certificate.
	// +optional
	InsecureSkipTLSVerify bool `json:"insecureSkipTLSVerify,omitempty"`
	// CABundle is the PEM bundle that signs the endpoint's certificate,
	// when the system's roots do not.
	// +optional
	CABundle []byte `json:"caBundle,omitempty"`
	// CredentialsSecretRef names a Secret in the Repository's namespace
	// with the keys aws_access_key_id and aws_secret_access_key.
	CredentialsSecretRef SecretReference `json:"credentialsSecretRef"`
	// KeySecretRef names a Secret in the Repository's namespace whose key
	// repository-key holds the repository's encryption key (32 bytes).
	// The key never goes to the bucket: without it the repository's data
	// cannot be read.
	KeySecretRef SecretReference `json:"keySecretRef"`
}

// Keys of a Repository's Secrets.
const (
	// RepositoryAccessKeyID is the access key of CredentialsSecretRef.
	RepositoryAccessKeyID = "aws_access_key_id"
	// RepositorySecretAccessKey is the secret key of CredentialsSecretRef.
	RepositorySecretAccessKey = "aws_secret_access_key"
	// RepositoryKey is the encryption key of KeySecretRef.
	RepositoryKey = "repository-key"
	// RepositoryKeySize is the length of the encryption key in bytes.
	RepositoryKeySize = 32
)

// Reasons of a Repository's Ready condition (besides ReasonReady).
// ObjectStore checks (list, write and delete a test object) name what
// failed with the first six; the message says what to do.
const (
	// ReasonRepositoryDNS: the endpoint's host name does not resolve.
	ReasonRepositoryDNS = "DNS"
	// ReasonRepositoryUnreachable: nothing answered at the endpoint
	// (connection refused, a timeout).
	ReasonRepositoryUnreachable = "Unreachable"
	// ReasonRepositoryTLS: TLS with the endpoint failed (an unknown CA, a
	// name the certificate does not cover, plain HTTP on an https URL).
	ReasonRepositoryTLS = "TLS"
	// ReasonRepositoryCredentials: the service rejected the keys (an
	// unknown access key, a wrong secret key).
	ReasonRepositoryCredentials = "Credentials"
	// ReasonRepositoryBucketMissing: the bucket does not exist.
	ReasonRepositoryBucketMissing = "BucketMissing"
	// ReasonRepositoryPermission: the keys may not list, write or delete
	// objects of the bucket.
	ReasonRepositoryPermission = "Permission"
	// ReasonRepositorySecretMissing: a Secret the Repository names is
	// missing or lacks its keys.
	ReasonRepositorySecretMissing = "SecretMissing"
	// ReasonRepositoryInvalid: the spec cannot be used as it is (an
	// endpoint that is not a URL, a CA bundle that is not PEM).
	ReasonRepositoryInvalid = "Invalid"
)

// RepositoryStatus is what the last check of the repository found.
type RepositoryStatus struct {
	// Conditions: Ready, with reasons Ready, DNS, Unreachable, TLS,
	// Credentials, BucketMissing, Permission, SecretMissing, Invalid.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// LastChecked is when the repository was last checked.
	// +optional
	LastChecked *metav1.Time `json:"lastChecked,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=frp,categories=ferry
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.spec.endpoint`
// +kubebuilder:printcolumn:name="Bucket",type=string,JSONPath=`.spec.bucket`
// +kubebuilder:printcolumn:name="Prefix",type=string,JSONPath=`.spec.prefix`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Repository is a replication repository: S3 object storage that indirect
// migrations copy volume snapshots and resource bundles through.
type Repository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RepositorySpec   `json:"spec,omitempty"`
	Status RepositoryStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// RepositoryList is a list of Repositories.
type RepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Repository `json:"items"`
}

// DataPath says how a volume's data goes from the source to the
// destination.
// +kubebuilder:validation:Enum=direct;repository
type DataPath string

const (
	// DataPathDirect copies cluster to cluster, a mover on each side (the
	// default).
	DataPathDirect DataPath = "direct"
	// DataPathRepository goes through the plan's Repository: the source's
	// mover writes a snapshot, the destination's restores it. For clusters
	// that cannot reach each other.
	DataPathRepository DataPath = "repository"
)
