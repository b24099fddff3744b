//go:build e2e

// Package e2e tests the test bed itself. TestUpDown drives its command,
// as make clusters-up and clusters-down run it; it takes the clusters
// down, so make test runs it last, on its own. The other tests check that
// running clusters do what Ferry's tests rely on (volumes, DNS, Services,
// NodePorts across clusters, port-forward, storage classes); make e2e
// runs them first, against the clusters make clusters-up images set up.
package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func tool(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, repo := os.Getenv("LOCALCLUSTERS_BIN"), os.Getenv("LOCALCLUSTERS_REPO")
	if bin == "" || repo == "" {
		t.Skip("set LOCALCLUSTERS_BIN and LOCALCLUSTERS_REPO (make testbed-e2e does)")
	}
	out, err := exec.Command(bin, append([]string{"--repo", repo}, args...)...).CombinedOutput()
	t.Logf("localclusters %s:\n%s", strings.Join(args, " "), out)
	return string(out), err
}

func mustTool(t *testing.T, args ...string) string {
	t.Helper()
	out, err := tool(t, args...)
	if err != nil {
		t.Fatalf("localclusters %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// TestUpDown checks that up on running clusters is a no-op that says so,
// that down leaves nothing behind, and that up works again after down.
func TestUpDown(t *testing.T) {
	mustTool(t, "up")
	start := time.Now()
	out := mustTool(t, "up")
	if strings.Count(out, "cluster is already up") != 2 {
		t.Fatalf("second up did not say both clusters were already up:\n%s", out)
	}
	t.Logf("up on running clusters took %s", time.Since(start))
	if out, err := tool(t, "leftovers"); err == nil {
		t.Fatalf("the leftover check found nothing while the clusters run; it cannot be trusted:\n%s", out)
	}

	mustTool(t, "down")
	if out, err := tool(t, "leftovers"); err != nil {
		t.Fatalf("down left things behind:\n%s", out)
	}

	out = mustTool(t, "up")
	if !strings.Contains(out, "clusters are up") {
		t.Fatalf("up after down did not start the clusters:\n%s", out)
	}
	status := mustTool(t, "status")
	for _, name := range []string{"src: up", "dst: up"} {
		if !strings.Contains(status, name) {
			t.Fatalf("status after up lacks %q:\n%s", name, status)
		}
	}

	mustTool(t, "down")
	if out, err := tool(t, "leftovers"); err != nil {
		t.Fatalf("second down left things behind:\n%s", out)
	}
}
