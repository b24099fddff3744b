package v1alpha1

// Labels and annotations Ferry puts on the objects it touches. Everything
// Ferry creates carries LabelPlan and LabelMigration, which is how rollback
// and cancel find it; everything it quiesces carries the original values
// in annotations, which is how they are restored exactly.
const (
	// LabelPlan names the Plan whose migration created the object.
	LabelPlan = "ferry.dev/plan"
	// LabelMigration names the Migration that created or last applied the object.
	LabelMigration = "ferry.dev/migration"
	// LabelManagedBy is set to ManagedByValue on every object Ferry itself
	// creates (mover pods, Services, Secrets, its service accounts), never
	// on the objects it migrates: those keep their own value.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// LabelHookStep marks a hook's Job with the index of the itinerary
	// step that runs it, so that the step finds its Job again.
	LabelHookStep = "ferry.dev/hook-step"
	// ManagedByValue is the value of LabelManagedBy.
	ManagedByValue = "ferry"
	// LabelGrantPlan names the plan whose grant a RoleBinding is: it
	// gives Ferry's service account its role in one of the plan's
	// namespaces (docs/rbac.md). Not LabelPlan: a rollback deletes what
	// carries that, and the grant must outlive the rollback's steps. Such
	// RoleBindings are never migrated.
	LabelGrantPlan = "ferry.dev/grant-for-plan"
	// LabelGrantNamespace is Ferry's namespace on the host, where the
	// plan of a grant is.
	LabelGrantNamespace = "ferry.dev/grant-for-namespace"

	// AnnotationQuiescedBy names the Migration that quiesced a source workload.
	AnnotationQuiescedBy = "ferry.dev/quiesced-by"
	// AnnotationOriginalReplicas keeps a Deployment's, StatefulSet's or
	// ReplicaSet's replicas from before quiesce ("" when the field was unset).
	AnnotationOriginalReplicas = "ferry.dev/original-replicas"
	// AnnotationOriginalSuspend keeps a CronJob's or Job's spec.suspend from
	// before quiesce ("true", "false", or "" when unset).
	AnnotationOriginalSuspend = "ferry.dev/original-suspend"
	// AnnotationOriginalNodeSelector keeps a DaemonSet's pod-template
	// nodeSelector from before quiesce, as JSON ("" when unset).
	AnnotationOriginalNodeSelector = "ferry.dev/original-node-selector"
	// AnnotationOriginalWhenScaled keeps a StatefulSet's claim retention
	// policy whenScaled when quiesce changed it from Delete to Retain (so
	// that scaling to 0 deletes no claim).
	AnnotationOriginalWhenScaled = "ferry.dev/original-when-scaled"
	// AnnotationAddedSubjects records, on an OpenShift
	// SecurityContextConstraints of the destination that Ferry did not
	// create, the users and groups each plan added to it (JSON by plan
	// name), so that rollback removes them again.
	AnnotationAddedSubjects = "ferry.dev/added-subjects"
	// QuiesceNodeSelectorKey is the node-selector key that no node carries,
	// added to a DaemonSet's template so that its pods go away.
	QuiesceNodeSelectorKey = "ferry.dev/quiesced"

	// LabelSuperseded ("true") marks a claim that a storage conversion
	// replaced: its workloads use the new claim, named in
	// AnnotationSupersededBy; Ferry keeps it until the user deletes it.
	LabelSuperseded = "ferry.dev/superseded"
	// AnnotationSupersededBy names the claim that replaced a superseded
	// claim (in its namespace); AnnotationSupersededByPlan names the plan.
	// Rollback switches back by these, whatever the claims' names.
	AnnotationSupersededBy = "ferry.dev/superseded-by"
	// AnnotationSupersededByPlan names the plan that superseded a claim.
	AnnotationSupersededByPlan = "ferry.dev/superseded-by-plan"

	// AnnotationMovedClaim, on a source PersistentVolume whose claim a
	// cutover moved (action move), keeps that claim as JSON (its name,
	// namespace, labels, annotations and spec): rollback recreates it
	// from there, and validation still lists the claim after its
	// deletion. The PV carries LabelPlan while it is moved.
	AnnotationMovedClaim = "ferry.dev/moved-claim"
	// AnnotationOriginalReclaimPolicy keeps a moved source PV's
	// persistentVolumeReclaimPolicy from before the move (it is Retain
	// while moved); rollback restores it.
	AnnotationOriginalReclaimPolicy = "ferry.dev/original-reclaim-policy"

	// FinalizerMigration keeps a deleted Migration until its cancel steps
	// have undone what it did (movers, destination objects, quiesce).
	FinalizerMigration = "ferry.dev/migration"
	// FinalizerPlan keeps a deleted Plan until its Migrations are gone.
	FinalizerPlan = "ferry.dev/plan"

	// FieldManager is the server-side-apply field manager of Ferry.
	FieldManager = "ferry"
)
