// Package e2e holds Ferry's end-to-end tests. They run against the local
// clusters of the test bed (make clusters-up; make images), reached
// through test/harness, and are built only with the e2e tag:
// go test -tags e2e ./test/e2e/...
//
// Tests of the test bed itself (that its clusters run pods, keep volumes,
// resolve names and reach each other) live in the test bed's module, in
// test/localclusters/e2e; tests here check Ferry, including its
// comparison fixture (fixture_test.go).
package e2e
