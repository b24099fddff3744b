// Package ops is Ferry's operations library: what a user does with Ferry's
// objects on the host cluster (register clusters, create and validate a
// plan, start, cancel, retry and delete migrations, list and describe
// them, store settings),
// written once for every front end. The CLI (internal/cli) is a thin layer
// over it, and the web console calls the same functions.
//
// # Basics
//
// A [Client] holds a controller-runtime client of the host cluster and the
// namespace of Ferry's objects there (ferry-system). Its methods return
// objects and errors; they never print. Errors say what went wrong and
// what to do about it.
//
// Functions that wait ([Client.WaitPlanValidated], [Client.WaitAcked],
// [Client.Follow]) poll the API server and end with the context.
//
// # Caveats
//
// The controller does the work: ops only writes the objects and the
// annotations that ask the controller to act (ferry.dev/validate on a
// Plan, ferry.dev/retry and spec.cancel on a Migration). Without a
// running controller the waits time out with an error that says so.
package ops
