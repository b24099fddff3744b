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
//   - checkDestinationAccess: Ferry may create and delete there;
//   - checkSourceNamespaces: the source namespaces exist;
//   - checkConflicts: a destination namespace Ferry did not create holds
//     no objects of others;
//   - inventory: the destination serves every kind to migrate;
//   - listClaims: the claim list (raw block claims are refused);
//   - checkClasses: the storage classes the claims to create need;
//   - checkClaimOverrides: the plan's claim overrides are possible;
//   - tally: what the migration will apply and skip, counted with the
//     transforms' own decisions (see [migrate.Inventory.Tally]).
//
// A State plan applies only claims, so it has no checkConflicts,
// inventory or tally; after listClaims, findExistingClaims marks the
// targets that exist on the destination (PlanPVC.TargetExists, used as
// they are, their classes not checked), checkExistingClaims checks that
// those can receive the data (bound or binding on first use, a writable
// file system, no running pod writing them; smaller than the source's
// request is a warning), and countClaims counts the claims to create.
// A StorageConversion plan stays in one cluster and namespace
// (checkConversionScope); after listClaims (which leaves out the claims
// the plan created: they are targets), convertClaims keeps the claims
// whose target class differs from their own, and names each new claim
// ([ConversionName]; a StatefulSet's claims follow their template,
// renamed the same way); checkConversionTargets refuses new names that
// are taken, and checkSwitchable refuses workloads whose claims cannot be
// switched at cutover (package claimswap: bare pods, operators' pods, a
// StatefulSet converted in part). [ConversionMappings] gives the steps
// the old-to-new names.
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
// # Caveats
//
// Validation reads both clusters at one moment: a claim created on the
// source after it is not in the list; the transforms map its storage class
// and leave the rest as it is.
package planning
