// Package harness hands end-to-end tests the local clusters of Ferry's
// test bed (test/localclusters: make clusters-up images) and the few
// things every e2e suite does with them: random namespaces removed at the
// end of the test, pods built, run and waited for, claims created.
//
// # Basics
//
// A test loads a cluster by name and works in a namespace of its own:
//
//	src := harness.Local(t, "src")
//	ns := src.Namespace(t, "e2e-demo")
//	out := src.RunPod(t, harness.NewPod(ns, "hello", src.Image(t, "tools"), "echo", "hi").RestartNever().Pod())
//
// Local reads what the test bed writes into the repository's
// .localclusters/<name> folder: kubeconfig, node-ip, registry and the
// images file of `make images` (short name=pinned reference per line).
// It fails the test, naming the make targets to run, when a file is
// missing; LocalOrSkip skips the test instead.
//
// # Faults
//
// Cluster.StopComponent and StartComponent stop and start one process of
// a cluster through the test bed's tool (TestBedTool: localclusters stop
// and start); Cluster.CutNetwork drops the traffic between two nodes with
// iptables in the first node's network namespace (named by the test
// bed's netns file) until healed. Both undo themselves when the test ends,
// failed or not.
//
// # Caveats
//
// Only _test files import this package, so it is never part of the ferry
// binary. It imports no Ferry package but the API types and
// internal/cluster, so that the internal tests of any other package (such
// as quiesce or volumes) can use it without an import cycle; keep it so.
//
// The test bed's own tests (test/localclusters/e2e) live in another
// module, which cannot import this package; they keep a small copy of
// what they need.
//
// Waits fail the test from the goroutine that calls them: call them from
// the test's own goroutine (or a subtest's), as with t.Fatal.
package harness
