package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PVCAction says what a migration does with a persistent volume claim.
// +kubebuilder:validation:Enum=copy;skip;move
type PVCAction string

const (
	// PVCActionCopy creates a new claim on the destination and copies the data.
	PVCActionCopy PVCAction = "copy"
	// PVCActionSkip leaves the claim and its data behind.
	PVCActionSkip PVCAction = "skip"
	// PVCActionMove re-creates the volume on the destination pointing at
	// the same storage (NFS, hostPath on storage both clusters' nodes
	// reach); no data is copied. Full and State plans between two
	// clusters only.
	PVCActionMove PVCAction = "move"
)

// PlanType says what a plan migrates.
// +kubebuilder:validation:Enum=Full;State;StorageConversion
type PlanType string

const (
	// PlanFull migrates the namespaces' resources and their volumes' data.
	PlanFull PlanType = "Full"
	// PlanState migrates only the data of the chosen claims, into claims
	// on the destination that may already exist (made by a GitOps tool,
	// with other names, classes or sizes); no other resource is applied.
	PlanState PlanType = "State"
	// PlanStorageConversion moves claims onto another storage class within
	// one cluster and namespace: new claims are created and filled, and at
	// cutover the workloads are switched to them; the old claims are kept.
	PlanStorageConversion PlanType = "StorageConversion"
)

// RegistryRewrite rewrites image references whose prefix is From to To.
type RegistryRewrite struct {
	// From is the prefix to replace, e.g. "registry.src.example:5000/".
	From string `json:"from"`
	// To replaces it, e.g. "registry.dst.example/".
	To string `json:"to"`
}

// PVCOverride changes what the plan does with one claim.
type PVCOverride struct {
	// Namespace of the claim on the source.
	Namespace string `json:"namespace"`
	// Name of the claim on the source.
	Name string `json:"name"`
	// Action for the claim; copy when empty.
	// +optional
	Action PVCAction `json:"action,omitempty"`
	// TargetName of the claim on the destination; the same name when empty.
	// +optional
	TargetName string `json:"targetName,omitempty"`
	// TargetStorageClass on the destination; from the plan's mapping when empty.
	// +optional
	TargetStorageClass string `json:"targetStorageClass,omitempty"`
	// TargetCapacity on the destination; the source's request when empty.
	// +optional
	TargetCapacity *resource.Quantity `json:"targetCapacity,omitempty"`
	// TargetAccessModes on the destination; the source's when empty.
	// +optional
	TargetAccessModes []string `json:"targetAccessModes,omitempty"`
	// SourceVolume names the PersistentVolume the source claim is bound
	// to. A moved claim (action move) binds on the destination to a PV of
	// the same name and volume source, which its cutover creates.
	// +optional
	SourceVolume string `json:"sourceVolume,omitempty"`
	// TargetExists says the destination claim exists already and is used
	// as it is (State plans); TargetCapacity is then its capacity.
	// +optional
	TargetExists bool `json:"targetExists,omitempty"`
	// DataPath of this claim's data, when it differs from the plan's.
	// +optional
	DataPath DataPath `json:"dataPath,omitempty"`
	// Verify compares, after the final copy (a cutover's, after quiesce,
	// or a State migration's), the BLAKE3 checksum of every file on both
	// sides; a difference fails the copy naming the paths. The plan's
	// VerifyVolumes turns it on for every claim.
	// +optional
	Verify bool `json:"verify,omitempty"`
}

// PlanSpec says what to migrate, from where to where.
type PlanSpec struct {
	// Type of the plan: Full (the default), State or StorageConversion.
	// +kubebuilder:default=Full
	// +optional
	Type PlanType `json:"type,omitempty"`
	// SourceCluster names the Cluster to migrate from.
	SourceCluster string `json:"sourceCluster"`
	// DestinationCluster names the Cluster to migrate to; it may be the
	// source cluster (namespace rename, storage-class conversion).
	DestinationCluster string `json:"destinationCluster"`
	// Namespaces to migrate, each "name" or "source:destination" to rename.
	// +kubebuilder:validation:MinItems=1
	Namespaces []string `json:"namespaces"`
	// LabelSelector limits the migrated objects to those it selects.
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
	// IncludedKinds, when set, limits the migrated kinds, as "Kind" or
	// "Kind.group" (e.g. "Deployment.apps").
	// +optional
	IncludedKinds []string `json:"includedKinds,omitempty"`
	// ExcludedKinds are never migrated, as "Kind" or "Kind.group".
	// +optional
	ExcludedKinds []string `json:"excludedKinds,omitempty"`
	// StorageClassMapping maps source storage classes to destination ones.
	// +optional
	StorageClassMapping map[string]string `json:"storageClassMapping,omitempty"`
	// RegistryRewrites rewrite image references, first match wins.
	// +optional
	RegistryRewrites []RegistryRewrite `json:"registryRewrites,omitempty"`
	// RouteDomainMapping maps the router domains of the source (OpenShift
	// Routes) to the destination's, e.g. "apps.old.example":
	// "apps.new.example". A Route host that the source's router generated
	// (NAME-NAMESPACE.<domain>) under a mapped domain becomes
	// NAME-NAMESPACE.<new domain>, with the destination namespace; under a
	// domain that is not mapped it is dropped, so that the destination's
	// router generates one. Hosts that users chose are kept.
	// +optional
	RouteDomainMapping map[string]string `json:"routeDomainMapping,omitempty"`
	// PersistentVolumeClaims overrides the action and target of single claims.
	// +optional
	PersistentVolumeClaims []PVCOverride `json:"persistentVolumeClaims,omitempty"`
	// AutoResize makes each copied claim's proposed capacity (its measured
	// used bytes plus ResizeHeadroomPercent, see PlanPVC.ProposedCapacity)
	// its target capacity. A capacity an override sets wins over the
	// proposal; a destination claim that exists already is never resized.
	// +optional
	AutoResize bool `json:"autoResize,omitempty"`
	// ResizeHeadroomPercent is the room a proposed capacity leaves above
	// the used bytes, in percent; 10 when unset.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	ResizeHeadroomPercent *int32 `json:"resizeHeadroomPercent,omitempty"`
	// Hooks are the user's steps, run at their phases of the plan's
	// migrations.
	// +optional
	Hooks []PlanHook `json:"hooks,omitempty"`
	// Repository names the Repository (in the plan's namespace) that
	// claims with data path repository go through.
	// +optional
	Repository string `json:"repository,omitempty"`
	// DataPath of the claims' data: direct (the default) or repository
	// (through Repository). A claim's override may choose another.
	// +optional
	DataPath DataPath `json:"dataPath,omitempty"`
	// VerifyVolumes verifies every copied claim's final copy by checksums
	// (see PVCOverride.Verify).
	// +optional
	VerifyVolumes bool `json:"verifyVolumes,omitempty"`
}

// DefaultResizeHeadroomPercent is the headroom of a proposed capacity when
// the plan sets none.
const DefaultResizeHeadroomPercent = 10

// Headroom returns the plan's resize headroom in percent.
func (s *PlanSpec) Headroom() int32 {
	if s.ResizeHeadroomPercent == nil {
		return DefaultResizeHeadroomPercent
	}
	return *s.ResizeHeadroomPercent
}

// PathOf returns the data path of the claim namespace/name: its
// override's, else the plan's, else direct.
func (s *PlanSpec) PathOf(namespace, name string) DataPath {
	for _, o := range s.PersistentVolumeClaims {
		if o.Namespace == namespace && o.Name == name && o.DataPath != "" {
			return o.DataPath
		}
	}
	if s.DataPath == "" {
		return DataPathDirect
	}
	return s.DataPath
}

// UsesRepository reports whether the plan or one of its claim overrides
// asks for the repository data path.
func (s *PlanSpec) UsesRepository() bool {
	if s.DataPath == DataPathRepository {
		return true
	}
	for _, o := range s.PersistentVolumeClaims {
		if o.DataPath == DataPathRepository {
			return true
		}
	}
	return false
}

// Kind returns the plan's type, Full when unset.
func (s *PlanSpec) Kind() PlanType {
	if s.Type == "" {
		return PlanFull
	}
	return s.Type
}

// PlanPVC is a claim the plan found on the source and what it will do with it.
type PlanPVC struct {
	// Namespace and Name of the claim on the source.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// StorageClass of the claim on the source.
	// +optional
	StorageClass string `json:"storageClass,omitempty"`
	// Capacity requested on the source.
	// +optional
	Capacity string `json:"capacity,omitempty"`
	// AccessModes on the source.
	// +optional
	AccessModes []string `json:"accessModes,omitempty"`
	// Action the migration takes.
	Action PVCAction `json:"action"`
	// TargetNamespace, TargetName and TargetStorageClass on the destination.
	TargetNamespace    string `json:"targetNamespace"`
	TargetName         string `json:"targetName"`
	TargetStorageClass string `json:"targetStorageClass,omitempty"`
	// TargetCapacity and TargetAccessModes on the destination, when an
	// override changes them.
	// +optional
	TargetCapacity string `json:"targetCapacity,omitempty"`
	// +optional
	TargetAccessModes []string `json:"targetAccessModes,omitempty"`
	// SourceVolume names the PersistentVolume the source claim is bound
	// to. A moved claim (action move) binds on the destination to a PV of
	// the same name and volume source, which its cutover creates.
	// +optional
	SourceVolume string `json:"sourceVolume,omitempty"`
	// TargetExists says the destination claim exists already and is used
	// as it is (State plans); TargetCapacity is then its capacity.
	// +optional
	TargetExists bool `json:"targetExists,omitempty"`
	// DataPath is repository for a copied claim whose data goes through
	// the plan's Repository (its override's data path, else the plan's);
	// empty for the direct path.
	// +optional
	DataPath DataPath `json:"dataPath,omitempty"`
	// Usage is the space the claim's data takes on the source, as last
	// measured; nil before the first measurement.
	// +optional
	Usage *VolumeUsage `json:"usage,omitempty"`
	// ProposedCapacity is what the destination claim should have: the
	// used bytes plus the plan's headroom, rounded up to a whole GiB, and
	// never below the source's request. Empty while the used bytes are
	// unknown. With spec.autoResize it is the TargetCapacity, unless an
	// override sets one.
	// +optional
	ProposedCapacity string `json:"proposedCapacity,omitempty"`
	// Verify says the final copy is verified by checksums (the claim's
	// override or the plan's VerifyVolumes).
	// +optional
	Verify bool `json:"verify,omitempty"`
}

// UsageMethod says how a claim's usage was measured.
// +kubebuilder:validation:Enum=Kubelet;Pod
type UsageMethod string

const (
	// UsageKubelet: read from the kubelet's stats summary of the node
	// where a pod mounts the claim (through the API server's node proxy).
	UsageKubelet UsageMethod = "Kubelet"
	// UsagePod: a short-lived pod mounted the claim read-only and walked
	// it with the mover's own walk (`ferry mover usage`).
	UsagePod UsageMethod = "Pod"
)

// VolumeUsage is the space a claim's data takes, or why it is unknown.
type VolumeUsage struct {
	// UsedBytes is the space allocated to the claim's files (st_blocks,
	// as du counts it; hard links once). Nil when unknown.
	// +optional
	UsedBytes *int64 `json:"usedBytes,omitempty"`
	// UsedInodes is the number of files, directories and other entries.
	// +optional
	UsedInodes *int64 `json:"usedInodes,omitempty"`
	// MeasuredAt is when the figures (or the failure) were taken.
	MeasuredAt metav1.Time `json:"measuredAt"`
	// Method says how they were taken; empty when the measurement failed.
	// +optional
	Method UsageMethod `json:"method,omitempty"`
	// Unknown, when set, says why the figures could not be taken.
	// +optional
	Unknown string `json:"unknown,omitempty"`
	// Owners are the users and groups that own the most bytes of the
	// claim's data (at most five, the largest first; the volume's root
	// directory not counted). Only a measurement pod finds them.
	// +optional
	Owners []VolumeOwner `json:"owners,omitempty"`
	// OtherOwners counts the owners not listed; OtherOwnerFiles their
	// files.
	// +optional
	OtherOwners int32 `json:"otherOwners,omitempty"`
	// +optional
	OtherOwnerFiles int64 `json:"otherOwnerFiles,omitempty"`
	// NonRoot is the identity ("uid:gid") a mover of this claim runs as
	// where a namespace enforces the restricted Pod Security Standard.
	// +optional
	NonRoot string `json:"nonRoot,omitempty"`
	// UnreadableFiles counts the files and directories that a mover
	// running as NonRoot cannot read; UnreadableExample names one.
	// +optional
	UnreadableFiles int64 `json:"unreadableFiles,omitempty"`
	// +optional
	UnreadableExample string `json:"unreadableExample,omitempty"`
}

// VolumeOwner is a numeric user and group owning files of a volume,
// with what they own.
type VolumeOwner struct {
	UID int64 `json:"uid"`
	GID int64 `json:"gid"`
	// Bytes allocated to the owner's files.
	Bytes int64 `json:"bytes"`
	// Files counts the owner's files, directories and other entries.
	Files int64 `json:"files"`
}

// Known reports whether the used bytes were measured.
func (u *VolumeUsage) Known() bool { return u != nil && u.UsedBytes != nil }

// ClaimUsage is the measured usage of one source claim.
type ClaimUsage struct {
	// Namespace and Name of the claim on the source.
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	VolumeUsage `json:",inline"`
}

// KindCount is how many objects of one kind the plan migrates.
type KindCount struct {
	// Kind as "Kind" or "Kind.group".
	Kind string `json:"kind"`
	// Count of objects.
	Count int `json:"count"`
}

// SkippedCount is how many objects of one kind a migration would leave out
// for one reason.
type SkippedCount struct {
	// Kind as "Kind" or "Kind.group".
	Kind string `json:"kind"`
	// Reason the objects are left out, as the migration's results give it.
	Reason string `json:"reason"`
	// Count of objects.
	Count int `json:"count"`
}

// MaxSkippedCounts caps PlanStatus.Skipped; the objects of further kinds
// and reasons are counted in its last entry.
const MaxSkippedCounts = 20

// PlanStatus is the result of validating the plan.
type PlanStatus struct {
	// Conditions: Ready (false with a reason when the plan cannot run)
	// and Warning (problems that do not block it).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// PersistentVolumeClaims found on the source, with their actions.
	// +optional
	PersistentVolumeClaims []PlanPVC `json:"persistentVolumeClaims,omitempty"`
	// Usage holds the used space the plan's controller measured for the
	// claims to copy, which validation (the plan's and a Migration's)
	// reads; the controller measures again figures older than ten minutes.
	// +optional
	Usage []ClaimUsage `json:"usage,omitempty"`
	// ObjectCounts per kind of the objects the plan would apply now on
	// the destination, its namespaces included.
	// +optional
	ObjectCounts []KindCount `json:"objectCounts,omitempty"`
	// Skipped counts the objects of the source namespaces that the plan
	// would not apply (recreated on the destination by its controllers,
	// being deleted, skipped claims), per kind and reason.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	Skipped []SkippedCount `json:"skipped,omitempty"`
	// Warnings in full, one line each.
	// +optional
	Warnings []string `json:"warnings,omitempty"`
	// Images are the images of the source's registry that a migration of
	// the plan copies (Full plans whose clusters both have a registry),
	// and how the destination references each.
	// +optional
	Images []PlanImage `json:"images,omitempty"`
	// ActiveMigration names the Migration of the plan that runs now; one
	// runs at a time, and the others wait. A Migration claims the plan by
	// an update that fails on conflict.
	// +optional
	ActiveMigration string `json:"activeMigration,omitempty"`
	// ObservedValidate is the value of the ferry.dev/validate annotation
	// the status was computed for; the CLI sets the annotation to ask for
	// a fresh validation and waits for it here.
	// +optional
	ObservedValidate string `json:"observedValidate,omitempty"`
}

// AnnotationValidate, set to a new value, asks the controller to validate
// the plan (or check the Repository) again now.
const AnnotationValidate = "ferry.dev/validate"

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=fpl,categories=ferry
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Source",type=string,JSONPath=`.spec.sourceCluster`
// +kubebuilder:printcolumn:name="Destination",type=string,JSONPath=`.spec.destinationCluster`
// +kubebuilder:printcolumn:name="Namespaces",type=string,JSONPath=`.spec.namespaces`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Plan says what to migrate from which cluster to which.
type Plan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   PlanSpec   `json:"spec,omitempty"`
	Status PlanStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// PlanList is a list of Plans.
type PlanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Plan `json:"items"`
}

// PlanImage is one image a migration of the plan copies.
type PlanImage struct {
	// Source is the reference as the source's workloads use it.
	Source string `json:"source"`
	// Destination is the reference the migrated workloads get.
	Destination string `json:"destination"`
}
