// Package planning validates a Plan against its clusters and decides what
// becomes of each of its persistent volume claims.
//
// # Basics
//
// [Validate] runs the plan's checks in order and stops at the first that
// finds a problem (a [cluster.Problem]: the Ready condition's reason and a
// message that says what to do):
//
//   - checkSameNamespace: within one cluster, no namespace onto itself;
//   - checkDestinationAccess: Ferry may create and delete there;
//   - checkSourceNamespaces: the source namespaces exist;
//   - checkConflicts: a destination namespace Ferry did not create holds
//     no objects of others;
//   - inventory: the destination serves every kind to migrate;
//   - checkPVCs: the claim list, and the storage classes it needs;
//   - checkClaimOverrides: the plan's claim overrides are possible;
//   - tally: what the migration will apply and skip, counted with the
//     transforms' own decisions (see [migrate.Inventory.Tally]).
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
