// Package planning validates a Plan against its clusters and decides what
// becomes of each of its persistent volume claims.
//
// # Basics
//
// [Validate] runs the checks of the plan's type in order and stops at the
// first that finds a problem (a [cluster.Problem]: the Ready condition's
// reason and a message that says what to do). A Full plan's:
//
//   - checkSameNamespace: within one cluster, no namespace onto itself;
//   - checkSourceNamespaces: the source namespaces exist;
//   - checkSourceAccess, checkExistingDestinationAccess: Ferry holds its
//     namespace roles in the plan's source namespaces and in the
//     destination namespaces that exist (granted by the user, see
//     docs/rbac.md);
//   - checkConflicts: a destination namespace Ferry did not create holds
//     no objects of others;
//   - inventory: the destination serves every kind to migrate;
//   - listClaims: the claim list (raw block claims are refused);
//   - checkClasses: the storage classes the claims to create need;
//   - checkClaimOverrides: the plan's claim overrides are possible;
//   - checkMoves: the claims to move can be moved (see Moved claims);
//   - checkClusterScopedAccess: only when the plan has cluster-scoped
//     objects (CRDs, ClusterRoles and their bindings, SCCs, moved PVs),
//     Ferry's optional cluster-writes role, naming those it lacks;
//   - applyUsage, checkCapacity: the claims' measured usage and proposed
//     capacities, and that each copy fits (see Usage and capacity);
//   - tally: what the migration will apply and skip, counted with the
//     transforms' own decisions (see [migrate.Inventory.Tally]);
//   - checkDestinationAccess, last of every type's checks: Ferry holds its
//     role in every destination namespace; one that does not exist yet is
//     created by the user's grant, which `ferry plan create` makes once
//     this is the only problem left.
//
// A State plan applies only claims, so it has no checkConflicts,
// inventory or tally; after listClaims, findExistingClaims marks the
// targets that exist on the destination (PlanPVC.TargetExists, used as
// they are, their classes not checked), checkExistingClaims checks that
// those can receive the data (bound or binding on first use, a writable
// file system, no running pod writing them; smaller than the source's
// request is a warning while its used bytes are unknown), checkCapacity
// refuses one smaller than the source's used bytes, and countClaims
// counts the claims to create.
// A StorageConversion plan stays in one cluster and namespace
// (checkConversionScope); after listClaims (which leaves out the claims
// the plan created: they are targets), convertClaims keeps the claims
// whose target class differs from their own, and names each new claim
// ([ConversionName]; a StatefulSet's claims follow their template,
// renamed the same way); checkConversionTargets refuses new names that
// are taken, checkCapacity copies that would not fit, and checkSwitchable
// refuses workloads whose claims cannot be switched at cutover (package
// claimswap: bare pods, operators' pods, a StatefulSet converted in
// part). [ConversionMappings] gives the steps the old-to-new names.
//
// [Claims] runs only the claim checks, for the steps that need the claim
// list but not the rest (a volume copy).
//
// # The claim list
//
// Result.PVCs is the one place where what becomes of a claim is decided:
// its action, target namespace, name, storage class, capacity and access
// modes, from the source claim, the namespace mapping, the storage-class
// mapping ([transform.StorageClassMap]) and the plan's override. The
// transforms apply it as it stands ([TransformContext] puts it into
// transform.Context.Claims) and the volume copy copies the claims whose
// action is copy into their targets. A new decision about claims (a
// destination claim that already exists, another action, a capacity from
// the used bytes) is a field of ferryv1.PlanPVC set in decideClaim or a
// check after it; its consumers read it from the list.
//
// # Moved claims
//
// A claim with action move keeps its data where it is: storage both
// clusters reach. checkMoves (in every plan type's checks, after
// checkClaimOverrides) refuses a move in a StorageConversion plan or
// within one cluster, an override of the moved claim's class, capacity or
// access modes, a target claim that exists already (one the plan
// created for the move is its own: findExistingClaims leaves it alone), an
// unbound claim, a volume type other than NFS and hostPath
// ([MoveSupport] names it and says to copy), and a PV of the volume's
// name on the destination that is not the plan's. It warns, for NFS,
// that the destination nodes' reach of the server is not tested, and,
// for hostPath, that the path must be the same storage on the
// destination's nodes (Ferry cannot know it). PlanPVC.SourceVolume names
// the source PV; the destination claim binds by name to a PV of that name
// and class "" (PlanPVC.TargetStorageClass is empty). After a cutover the
// source claim is gone; listClaims still lists it from its record on the
// PV (annotation ferryv1.AnnotationMovedClaim, [MovedClaim]), so that the
// plan, a retried cutover and the rollback know it. [Result.Moved] gives
// the claims to move, as [Result.Copied] the claims to copy.
//
// # Usage and capacity
//
// The plan's controller measures the used space of the claims to copy
// (package usage) and keeps the figures in the Plan's status.usage;
// validation takes them from there as they are (the controller keeps
// them at most ten minutes old, and does not measure again while a
// migration of the plan runs), so a Migration's Validate step and its
// copy use the figures of the plan's validation. applyUsage puts them
// into the claim list (PlanPVC.Usage) with PlanPVC.ProposedCapacity,
// [ProposeCapacity] of them: the used bytes plus
// spec.resizeHeadroomPercent (10%), rounded up to a whole GiB, never
// below the source's request. With spec.autoResize the proposal is the
// target capacity of each claim the migration creates; a capacity the
// plan's override gives wins (the user said so), and a destination claim
// that exists is never resized. checkCapacity then refuses, with reason
// InsufficientCapacity and both figures, a copy whose used bytes exceed
// its destination's capacity (the target capacity, else the source's
// request), and with reason UsageUnknown an autoResize plan with a claim
// whose usage is unknown and that has no explicit capacity. Without
// autoResize unknown usage does not block.
//
// # Caveats
//
// Validation reads both clusters at one moment: a claim created on the
// source after it is not in the list; the transforms map its storage class
// and leave the rest as it is. Data written after the measurement is not
// in the figures: the headroom is for it, and a copy that still does not
// fit fails as a full destination volume.
package planning
