// Package quiesce stops an application on the source cluster before the
// final (cutover) copy of a migration, and starts it again, exactly as it
// was, when the migration is rolled back or cancelled.
//
// # Basics
//
// [Quiesce] works on the workloads of one namespace:
//
//   - Deployments, StatefulSets and ReplicaSets that no Deployment controls
//     are scaled to 0 replicas; a StatefulSet whose claim retention policy
//     says whenScaled: Delete gets Retain as well, or scaling it to 0 would
//     delete its claims (the data to migrate);
//   - OpenShift DeploymentConfigs, where the cluster serves them, are
//     scaled to 0 replicas like Deployments; the pods of the
//     ReplicationControllers they control count as theirs in [Running];
//   - CronJobs and unfinished Jobs get spec.suspend=true (the job
//     controller deletes the pods of a suspended Job);
//   - DaemonSets get the node selector {ferry.dev/quiesced: "true"} in their
//     pod template, which no node matches, so the DaemonSet controller
//     removes their pods.
//
// Before changing a workload it records the value it changes in an
// annotation (see the Annotation* constants of ferry.dev/ferry/api/v1alpha1)
// together with AnnotationQuiescedBy; [Annotations] lists them and the
// Encode*/Decode* functions are their one codec, which the resource
// transforms use too. [Unquiesce] puts the recorded values
// back and removes the annotations. Both are idempotent: a workload that
// already carries AnnotationQuiescedBy keeps the originals it recorded the
// first time, so running Quiesce twice never loses them.
//
// Every change is a JSON merge patch carrying the resourceVersion the change
// was computed from (an optimistic lock), retried on conflict, so a
// concurrent change to another field of the object is never overwritten.
//
// [Running] lists the pods that still belong to a quiesced workload and
// [Wait] polls it until the namespace is quiet.
//
// # Caveats
//
//   - A Deployment or StatefulSet with a HorizontalPodAutoscaler is simply
//     scaled to 0: the HPA controller leaves a target with 0 replicas alone
//     (unless the HPA's minReplicas is 0, which needs the alpha
//     HPAScaleToZero feature gate). Unquiesce restores the replicas recorded
//     before quiesce and the HPA takes over from there.
//   - Pods that no workload handled here controls (bare pods, pods of
//     operators' custom resources) are left running; Quiesce lists them in
//     [Report.Unmanaged] so that the caller can warn.
//   - The deployment controller copies a Deployment's annotations, Ferry's
//     included, to its ReplicaSets and never removes them. Quiesce and
//     Running ignore them there; Unquiesce removes them after restoring the
//     Deployment.
//   - OpenShift's controller does not scale a paused DeploymentConfig
//     (spec.paused: true): Quiesce sets its replicas to 0 and leaves
//     spec.paused alone, so its pods keep running and [Wait] names them
//     when it gives up; resume the DeploymentConfig or scale it down by hand.
//   - Workloads controlled by an operator may be scaled back up by it; this
//     package does not know about operators.
//   - Unquiesce resumes a Job that was suspended; Kubernetes restarts its
//     activeDeadlineSeconds timer when it resumes.
//   - An API server defaults spec.replicas and spec.suspend, so the "unset"
//     original ("") is only recorded for objects that really lack the field;
//     restoring it removes the field and the server defaults it again.
package quiesce
