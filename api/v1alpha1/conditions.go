package v1alpha1

// Condition types. Every kind has Ready; Plans add Warning for problems
// that do not block a migration; Migrations add Succeeded and Failed.
const (
	// ConditionReady says the object can be used: a Cluster is reachable
	// with enough permissions, a Repository can be listed, written and
	// deleted from, a Plan validated.
	ConditionReady = "Ready"
	// ConditionWarning lists problems that do not block a migration.
	ConditionWarning = "Warning"
	// ConditionRegistryReady says a Cluster's image registry answered and
	// accepted its credentials; absent when the Cluster has no registry.
	ConditionRegistryReady = "RegistryReady"
	// ConditionTokenRenewed says the controller renews a Cluster's token
	// (one Ferry requested, that expires); absent for a token of the
	// user's own.
	ConditionTokenRenewed = "TokenRenewed"
	// ConditionRunning is true while a Migration runs.
	ConditionRunning = "Running"
	// ConditionSucceeded is true once a Migration finished its itinerary.
	ConditionSucceeded = "Succeeded"
	// ConditionFailed is true when a Migration stopped on an error; the
	// message says what to fix, and `ferry retry` resumes it.
	ConditionFailed = "Failed"
)

// Condition reasons. The message of a condition says what is wrong and
// what to do about it; the reason is the stable, machine-readable part.
const (
	// ReasonReady: everything checked out.
	ReasonReady = "Ready"
	// ReasonUnreachable: the cluster's API server did not answer.
	ReasonUnreachable = "Unreachable"
	// ReasonUnauthorized: the API server rejected the token (revoked:
	// its service account deleted, or the signing key changed).
	ReasonUnauthorized = "Unauthorized"
	// ReasonTokenExpired: the token Ferry requested expired before the
	// controller renewed it.
	ReasonTokenExpired = "TokenExpired"
	// ReasonTokenRenewalFailed: the controller could not renew the token
	// (it still works until it expires).
	ReasonTokenRenewalFailed = "TokenRenewalFailed"
	// ReasonInsufficientPermissions: the token lacks permissions Ferry needs.
	ReasonInsufficientPermissions = "InsufficientPermissions"
	// ReasonNotGranted: Ferry is not granted (or no longer: a rollback
	// deleted the destination namespace) a namespace of the plan; the user
	// grants it with `ferry plan grant`.
	ReasonNotGranted = "NotGranted"
	// ReasonNotPermitted: the user whose own token a Cluster holds may
	// not do what the plan needs in one of its namespaces.
	ReasonNotPermitted = "NotPermitted"
	// ReasonSecretNotFound: the token Secret of a Cluster is missing or incomplete.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonRegistryUnreachable: the cluster's image registry did not answer.
	ReasonRegistryUnreachable = "RegistryUnreachable"
	// ReasonRegistryUnauthorized: the image registry rejected the credentials.
	ReasonRegistryUnauthorized = "RegistryUnauthorized"
	// ReasonRegistryTLS: TLS with the image registry failed (an unknown
	// CA, a name the certificate does not cover, or plain HTTP).
	ReasonRegistryTLS = "RegistryTLSFailed"
	// ReasonRegistryCredentials: the registry's credentials Secret is
	// missing or lacks its keys.
	ReasonRegistryCredentials = "RegistryCredentialsInvalid"
	// ReasonHookNotFound: a Plan names a Hook that does not exist.
	ReasonHookNotFound = "HookNotFound"
	// ReasonInvalidHook: a Plan's hook cannot run as given (a phase the
	// migration type does not have, a service account that does not
	// exist on the side where it runs); the message says which.
	ReasonInvalidHook = "InvalidHook"
	// ReasonClusterNotFound: a Plan names a Cluster that does not exist.
	ReasonClusterNotFound = "ClusterNotFound"
	// ReasonClusterNotReady: a Plan names a Cluster that is not Ready.
	ReasonClusterNotReady = "ClusterNotReady"
	// ReasonRepositoryNotFound: a Plan's claims go through a Repository
	// (data path repository) that does not exist, or the plan names none.
	ReasonRepositoryNotFound = "RepositoryNotFound"
	// ReasonRepositoryNotReady: a Plan's claims go through a Repository
	// that is not Ready; the message gives the Repository's.
	ReasonRepositoryNotReady = "RepositoryNotReady"
	// ReasonInvalidSpec: the spec itself is wrong (a bad namespace mapping, say).
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonNamespaceNotFound: a source namespace does not exist.
	ReasonNamespaceNotFound = "NamespaceNotFound"
	// ReasonNamespaceConflict: a destination namespace holds objects Ferry did not create.
	ReasonNamespaceConflict = "NamespaceConflict"
	// ReasonStorageClassNotFound: a storage class the plan needs is missing on the destination.
	ReasonStorageClassNotFound = "StorageClassNotFound"
	// ReasonUnsupportedKinds: the destination does not serve some exported kinds.
	ReasonUnsupportedKinds = "UnsupportedKinds"
	// ReasonNotSupported: the plan asks for what this version of Ferry
	// cannot do yet.
	ReasonNotSupported = "NotSupported"
	// ReasonClaimNotUsable: a destination claim that exists already cannot
	// receive the data; the message says why and what to do.
	ReasonClaimNotUsable = "ClaimNotUsable"
	// ReasonUnsupportedWorkload: a storage conversion would have to switch
	// a workload whose claims Ferry cannot switch (a bare pod, an
	// operator's resource).
	ReasonUnsupportedWorkload = "UnsupportedWorkload"
	// ReasonInsufficientCapacity: a claim's data does not fit the capacity
	// of its destination claim; the message gives both figures.
	ReasonInsufficientCapacity = "InsufficientCapacity"
	// ReasonUsageUnknown: a plan resizes claims by their used space
	// (spec.autoResize), and a claim's could not be measured.
	ReasonUsageUnknown = "UsageUnknown"
	// ReasonMeasuring: the plan's controller is measuring the used space
	// of its claims; the plan is validated once the figures are in.
	ReasonMeasuring = "Measuring"
	// ReasonPlanNotFound: a Migration names a Plan that does not exist; it
	// stays Pending until the plan is created.
	ReasonPlanNotFound = "PlanNotFound"
	// ReasonStepFailed: a step of the itinerary failed; the message names it.
	ReasonStepFailed = "StepFailed"
	// ReasonCanceled: the user canceled the Migration.
	ReasonCanceled = "Canceled"
	// ReasonDeleting: a deleted Plan waits for its Migrations to undo what
	// they did and go.
	ReasonDeleting = "Deleting"
	// ReasonCompleted: the itinerary finished.
	ReasonCompleted = "Completed"
	// ReasonInProgress: the itinerary is running.
	ReasonInProgress = "InProgress"
)
