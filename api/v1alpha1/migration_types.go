package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MigrationType says which kind of migration to run.
// +kubebuilder:validation:Enum=Stage;Cutover;Rollback
type MigrationType string

const (
	// MigrationStage prepares the destination and copies volume data while
	// the application keeps running; it can be repeated.
	MigrationStage MigrationType = "Stage"
	// MigrationCutover quiesces the source, copies what is left and
	// recreates the application on the destination.
	MigrationCutover MigrationType = "Cutover"
	// MigrationRollback removes what the plan's migrations created on the
	// destination and restores the source application.
	MigrationRollback MigrationType = "Rollback"
)

// MigrationPhase is the state of a Migration as a whole.
type MigrationPhase string

// Migration phases.
const (
	MigrationPending   MigrationPhase = "Pending"
	MigrationRunning   MigrationPhase = "Running"
	MigrationSucceeded MigrationPhase = "Succeeded"
	MigrationFailed    MigrationPhase = "Failed"
	MigrationCanceling MigrationPhase = "Canceling"
	MigrationCanceled  MigrationPhase = "Canceled"
)

// StepPhase is the state of one step of the itinerary.
type StepPhase string

// Step phases.
const (
	StepPending   StepPhase = "Pending"
	StepRunning   StepPhase = "Running"
	StepSucceeded StepPhase = "Succeeded"
	StepFailed    StepPhase = "Failed"
	StepSkipped   StepPhase = "Skipped"
)

// MigrationSpec says which plan to run and how.
type MigrationSpec struct {
	// Plan names the Plan in the same namespace.
	Plan string `json:"plan"`
	// Type of migration.
	Type MigrationType `json:"type"`
	// Quiesce stops the source application before the final copy; true
	// by default for Cutover, ignored otherwise.
	// +optional
	Quiesce *bool `json:"quiesce,omitempty"`
	// Cancel stops the migration and undoes what it did.
	// +optional
	Cancel bool `json:"cancel,omitempty"`
}

// Step is one step of a migration's itinerary.
type Step struct {
	// Name of the step, e.g. "Quiesce".
	Name string `json:"name"`
	// Phase of the step.
	Phase StepPhase `json:"phase"`
	// Started and Completed times.
	// +optional
	Started *metav1.MicroTime `json:"started,omitempty"`
	// +optional
	Completed *metav1.MicroTime `json:"completed,omitempty"`
	// Message says what the step does now or why it failed.
	// +optional
	Message string `json:"message,omitempty"`
	// Attempts counts how often the step was started.
	// +optional
	Attempts int `json:"attempts,omitempty"`
	// Progress of the step, when it can be measured.
	// +optional
	Progress *Progress `json:"progress,omitempty"`
	// Hook is the plan's hook the step runs, for the steps that run one.
	// +optional
	Hook *PlanHook `json:"hook,omitempty"`
	// Log holds the last lines of the step's output (a hook's Job pod
	// logs or exec output), up to MaxStepLogLines.
	// +optional
	Log []string `json:"log,omitempty"`
}

// MaxStepLogLines caps Step.Log.
const MaxStepLogLines = 20

// ImageStatus is the progress of one image copy.
type ImageStatus struct {
	// Source is the image reference as the source's workloads use it.
	Source string `json:"source"`
	// Destination is the reference on the destination, as the migrated
	// workloads use it.
	Destination string `json:"destination"`
	// Digest of the copied manifest or index (the same on both sides).
	// +optional
	Digest string `json:"digest,omitempty"`
	// Phase: Pending, Running, Succeeded or Failed.
	Phase string `json:"phase"`
	// Layers (blobs) and bytes done and to copy; blobs the destination
	// had already count as done and are not sent.
	// +optional
	LayersDone int64 `json:"layersDone,omitempty"`
	// +optional
	LayersTotal int64 `json:"layersTotal,omitempty"`
	// +optional
	BytesDone int64 `json:"bytesDone,omitempty"`
	// +optional
	BytesTotal int64 `json:"bytesTotal,omitempty"`
	// BytesSent counts the blob bytes that travelled (the rest were on
	// the destination already).
	// +optional
	BytesSent int64 `json:"bytesSent,omitempty"`
	// Message says why a copy failed and what to do.
	// +optional
	Message string `json:"message,omitempty"`
}

// Progress counts the work of a step.
type Progress struct {
	// Done and Total items (objects, files or bytes; see Unit).
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
	// Unit of Done and Total.
	Unit string `json:"unit"`
}

// ObjectAction is what a migration did with one object.
type ObjectAction string

// Object actions.
const (
	ObjectCreated   ObjectAction = "Created"
	ObjectUpdated   ObjectAction = "Updated"
	ObjectUnchanged ObjectAction = "Unchanged"
	ObjectSkipped   ObjectAction = "Skipped"
	ObjectFailed    ObjectAction = "Failed"
	ObjectDeleted   ObjectAction = "Deleted"
)

// ObjectResult is what happened to one object.
type ObjectResult struct {
	// Kind as "Kind" or "Kind.group".
	Kind string `json:"kind"`
	// Namespace on the destination; empty for cluster-scoped objects.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the object.
	Name string `json:"name"`
	// Action taken.
	Action ObjectAction `json:"action"`
	// Reason for a skip or a failure.
	// +optional
	Reason string `json:"reason,omitempty"`
}

// KindResults counts the actions for one kind.
type KindResults struct {
	// Kind as "Kind" or "Kind.group".
	Kind string `json:"kind"`
	// Counts per action.
	Created   int `json:"created,omitempty"`
	Updated   int `json:"updated,omitempty"`
	Unchanged int `json:"unchanged,omitempty"`
	Skipped   int `json:"skipped,omitempty"`
	Failed    int `json:"failed,omitempty"`
	Deleted   int `json:"deleted,omitempty"`
}

// VolumeStatus is the progress of one volume copy.
type VolumeStatus struct {
	// Namespace and Claim on the source.
	Namespace string `json:"namespace"`
	Claim     string `json:"claim"`
	// TargetNamespace and TargetClaim on the destination.
	TargetNamespace string `json:"targetNamespace"`
	TargetClaim     string `json:"targetClaim"`
	// Phase: Pending, Running, Retrying (a mover failed and runs again
	// after a pause), Succeeded or Failed. Failed means the failure was
	// reported (the step failed with it); the next copy, after a retry of
	// the step, starts the volume over at attempt 1.
	Phase string `json:"phase"`
	// Path names the data path that copies the volume (direct).
	// +optional
	Path string `json:"path,omitempty"`
	// Attempt numbers the current round of the copy, from 1; it grows by
	// one each time a failed round is started again.
	// +optional
	Attempt int `json:"attempt,omitempty"`
	// Bytes and files done and known so far (totals grow while the
	// source is scanned).
	BytesDone  int64 `json:"bytesDone,omitempty"`
	BytesTotal int64 `json:"bytesTotal,omitempty"`
	FilesDone  int64 `json:"filesDone,omitempty"`
	FilesTotal int64 `json:"filesTotal,omitempty"`
	// What the round did: file data bytes sent (the rest matched by
	// block comparison or was unchanged), files skipped as unchanged,
	// entries deleted on the destination, large files kept in part for
	// the next round (they changed while read) and large files sent
	// against a renamed one's content.
	// +optional
	BytesSent int64 `json:"bytesSent,omitempty"`
	// +optional
	FilesSkipped int64 `json:"filesSkipped,omitempty"`
	// +optional
	Deleted int64 `json:"deleted,omitempty"`
	// +optional
	Partial int64 `json:"partial,omitempty"`
	// +optional
	Reused int64 `json:"reused,omitempty"`
	// BytesMatched counts the bytes of large files that block comparison
	// found unchanged, so that they did not travel.
	// +optional
	BytesMatched int64 `json:"bytesMatched,omitempty"`
	// BytesNew, BytesUploaded and BytesDownloaded count a copy through
	// the repository: file bytes the repository did not hold yet, bytes
	// uploaded (compressed and packed), bytes the restore fetched.
	// +optional
	BytesNew int64 `json:"bytesNew,omitempty"`
	// +optional
	BytesUploaded int64 `json:"bytesUploaded,omitempty"`
	// +optional
	BytesDownloaded int64 `json:"bytesDownloaded,omitempty"`
	// Verified says the copy was verified: after the final copy, the
	// BLAKE3 checksum of every file matched on both sides (through the
	// repository, every chunk's hash was checked as it was restored).
	// +optional
	Verified bool `json:"verified,omitempty"`
	// Message says why a copy waits or failed.
	// +optional
	Message string `json:"message,omitempty"`
}

// MaxObjectResults caps Status.Objects so that the status of a migration
// of many objects stays small; the counts in Status.Results are complete.
const MaxObjectResults = 200

// MigrationStatus reports the migration's progress.
type MigrationStatus struct {
	// Phase of the migration as a whole.
	// +optional
	Phase MigrationPhase `json:"phase,omitempty"`
	// Itinerary lists the steps in order with their state.
	// +optional
	Itinerary []Step `json:"itinerary,omitempty"`
	// Conditions: Running, Succeeded, Failed (with the failed step).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Results counts what happened to the objects, per kind.
	// +optional
	Results []KindResults `json:"results,omitempty"`
	// Objects lists the objects that were skipped (with a reason other
	// than "recreated by a controller") or failed, up to MaxObjectResults.
	// +optional
	Objects []ObjectResult `json:"objects,omitempty"`
	// Volumes is the progress of each volume copy of the last CopyVolumes
	// step.
	// +optional
	Volumes []VolumeStatus `json:"volumes,omitempty"`
	// Images is the progress of each image copy of the last CopyImages
	// step.
	// +optional
	Images []ImageStatus `json:"images,omitempty"`
	// Errors of the last failed attempt.
	// +optional
	Errors []string `json:"errors,omitempty"`
	// StartTime and CompletionTime of the migration.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// SourceStopped is when a cutover began to stop the source
	// application (its Quiesce step started), and DestinationAvailable
	// when the application's workloads were available on the
	// destination: the application's downtime lies between them.
	// +optional
	SourceStopped *metav1.MicroTime `json:"sourceStopped,omitempty"`
	// +optional
	DestinationAvailable *metav1.MicroTime `json:"destinationAvailable,omitempty"`
	// ObservedRetry is the value of the retry annotation last acted on.
	// +optional
	ObservedRetry string `json:"observedRetry,omitempty"`
}

// AnnotationRetry, set to a new value (e.g. a timestamp) on a failed
// Migration, makes the controller retry the failed step.
const AnnotationRetry = "ferry.dev/retry"

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=fmig,categories=ferry
// +kubebuilder:printcolumn:name="Plan",type=string,JSONPath=`.spec.plan`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Started",type=date,JSONPath=`.status.startTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Migration is one run of a Plan.
type Migration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MigrationSpec   `json:"spec,omitempty"`
	Status MigrationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// MigrationList is a list of Migrations.
type MigrationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Migration `json:"items"`
}

// Downtime is how long the application was down in a cutover: from
// SourceStopped to DestinationAvailable; false until both are known.
func (m *Migration) Downtime() (time.Duration, bool) {
	st := &m.Status
	if st.SourceStopped == nil || st.DestinationAvailable == nil {
		return 0, false
	}
	return st.DestinationAvailable.Sub(st.SourceStopped.Time), true
}
