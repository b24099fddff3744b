// Package e2e holds Ferry's end-to-end tests. They run against the local
// clusters of the test bed (make clusters-up; make images) and are built
// only with the e2e tag: go test -tags e2e ./test/e2e/...
package e2e
