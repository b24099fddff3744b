package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HookPhase is the point of a migration where a hook runs.
// +kubebuilder:validation:Enum=PreBackup;PostBackup;PreRestore;PostRestore;PreRollback;PostRollback
type HookPhase string

// Hook phases.
const (
	// HookPreBackup runs on the source before quiesce and the final copy
	// (before each stage's copy too, for hooks with stages set).
	HookPreBackup HookPhase = "PreBackup"
	// HookPostBackup runs on the source after the final copy (after each
	// stage's copy too, for hooks with stages set).
	HookPostBackup HookPhase = "PostBackup"
	// HookPreRestore runs on the destination before resources are applied.
	HookPreRestore HookPhase = "PreRestore"
	// HookPostRestore runs on the destination once the workloads are
	// available there.
	HookPostRestore HookPhase = "PostRestore"
	// HookPreRollback runs before a rollback deletes anything.
	HookPreRollback HookPhase = "PreRollback"
	// HookPostRollback runs once a rollback restored the source.
	HookPostRollback HookPhase = "PostRollback"
)

// HookSide says on which cluster of a plan a hook runs.
// +kubebuilder:validation:Enum=source;destination
type HookSide string

// Hook sides.
const (
	HookSource      HookSide = "source"
	HookDestination HookSide = "destination"
)

// HookOnError says what a failed hook does to its migration.
// +kubebuilder:validation:Enum=Fail;Continue
type HookOnError string

// Values of HookSpec.OnError.
const (
	// HookFail fails the migration at the hook's step (the default).
	HookFail HookOnError = "Fail"
	// HookContinue records the failure in the step and goes on.
	HookContinue HookOnError = "Continue"
)

// Default hook timeouts.
const (
	DefaultJobHookTimeout  = 30 * 60 // seconds
	DefaultExecHookTimeout = 60      // seconds
)

// HookSpec is a user's step: a Job, or a command run in running pods.
// Exactly one of Job and Exec is set.
type HookSpec struct {
	// Job runs the hook as a Kubernetes Job.
	// +optional
	Job *JobHook `json:"job,omitempty"`
	// Exec runs the hook's command in each selected running pod, like
	// kubectl exec.
	// +optional
	Exec *ExecHook `json:"exec,omitempty"`
	// Timeout of one run: 30m for Jobs, 1m for exec when unset. A Job
	// that exceeds it is killed (its pods deleted).
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// Retries after a failed run; none when unset.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=20
	// +optional
	Retries int32 `json:"retries,omitempty"`
	// OnError is Fail (the default) or Continue.
	// +optional
	OnError HookOnError `json:"onError,omitempty"`
	// Cluster and Namespace are where the hook runs when the plan's entry
	// does not say (see PlanHook).
	// +optional
	Cluster HookSide `json:"cluster,omitempty"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// JobHook is a hook run as a Job.
type JobHook struct {
	// Image of the Job's container.
	Image string `json:"image"`
	// Command and Args of the container (the image's when empty).
	// +optional
	Command []string `json:"command,omitempty"`
	// +optional
	Args []string `json:"args,omitempty"`
	// Script, when set, is run by /bin/sh -c instead of Command and Args.
	// +optional
	Script string `json:"script,omitempty"`
	// Env adds environment variables to the migration's context (see
	// docs/hooks.md).
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`
	// ServiceAccountName the Job's pod runs as; the namespace's default
	// when empty. It must exist on the side where the hook runs.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// Resources of the container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	// Claims are persistent volume claims of the hook's namespace mounted
	// into the container; the pod runs on the node where a running pod
	// mounts the first of them, so that ReadWriteOnce volumes work.
	// +optional
	Claims []HookClaim `json:"claims,omitempty"`
}

// HookClaim mounts a claim into a Job hook's container.
type HookClaim struct {
	// Name of the claim, in the hook's namespace (on the destination
	// side: the claim's name there).
	Name string `json:"name"`
	// MountPath in the container.
	MountPath string `json:"mountPath"`
	// ReadOnly mounts it read-only.
	// +optional
	ReadOnly bool `json:"readOnly,omitempty"`
}

// ExecHook is a command run in running containers.
type ExecHook struct {
	// Selector selects the pods of the hook's namespace to run in; every
	// running pod it selects runs the command, one after the other.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
	// PodName names one pod instead of a selector.
	// +optional
	PodName string `json:"podName,omitempty"`
	// Container to run in; the pod's first container when empty.
	// +optional
	Container string `json:"container,omitempty"`
	// Command and its arguments.
	// +kubebuilder:validation:MinItems=1
	Command []string `json:"command"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=fhook,categories=ferry
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.spec.job.image`
// +kubebuilder:printcolumn:name="Container",type=string,JSONPath=`.spec.exec.container`
// +kubebuilder:printcolumn:name="OnError",type=string,JSONPath=`.spec.onError`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Hook is a user's step that plans run at fixed points of a migration.
type Hook struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec HookSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// HookList is a list of Hooks.
type HookList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Hook `json:"items"`
}

// PlanHook runs a Hook at one phase of the plan's migrations.
type PlanHook struct {
	// Hook names the Hook, in the Plan's namespace.
	Hook string `json:"hook"`
	// Phase the hook runs at.
	Phase HookPhase `json:"phase"`
	// Cluster is the side where a Job hook runs and an exec hook selects
	// its pods: by default the Hook's, else the phase's own side (source for PreBackup,
	// PostBackup, PreRollback and PostRollback; destination for
	// PreRestore and PostRestore).
	// +optional
	Cluster HookSide `json:"cluster,omitempty"`
	// Namespace where the hook runs; by default the Hook's, else the
	// first migrated namespace, as it is named on that side.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Order among the hooks of the same phase, lowest first; hooks of
	// equal order run in the order of the list.
	// +optional
	Order int32 `json:"order,omitempty"`
	// Stages makes a PreBackup or PostBackup hook run around the copy of
	// every Stage migration too, not only in the cutover.
	// +optional
	Stages bool `json:"stages,omitempty"`
}
