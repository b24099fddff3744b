//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/test/harness"
)

// TestStatePlanIntoGitOpsClaim migrates only the state of the writing
// app into a claim that a GitOps tool made on the destination, under
// another name and class: two stages while the app writes, a cutover, the
// data identical, nothing else applied; rollback restarts the source and
// leaves the destination's claim and data alone.
func TestStatePlanIntoGitOpsClaim(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-state")
	plan := "e2e-state"
	dst.CreateNamespace(t, ns)
	dst.CreateClaim(t, ns, "app-data", "fast")
	t.Cleanup(func() { deletePlan(t, plan) })
	writingApp(t, src, ns)

	out := mustFerry(t, "plan", "create", plan, "--type", "state", "--from", "src", "--to", "dst", "-n", ns, "--pvc", ns+"/data:name=app-data")
	if !strings.Contains(out, "state only: 1 volumes to copy, 1 of them into claims that exist") {
		t.Errorf("plan description does not say it copies state into the existing claim:\n%s", out)
	}
	mustFerry(t, "stage", plan, "--wait")
	time.Sleep(time.Second)
	mustFerry(t, "stage", plan, "--wait")
	out = mustFerry(t, "cutover", plan, "--wait")
	m := migration(t, createdMigration(t, out))
	last := m.Status.Itinerary[len(m.Status.Itinerary)-1]
	if last.Name != "HandOver" || !strings.Contains(last.Message, ns+"/app-data") {
		t.Errorf("the cutover's last step: %+v", last)
	}

	want := volumeDigest(t, src, ns, "data", -1)
	if got := volumeDigest(t, dst, ns, "app-data", -1); got != want {
		t.Fatalf("ticks.log in the GitOps claim differs from the source's at cutover:\nsrc %s\ndst %s", want, got)
	}
	if got := volumeRoot(t, dst, ns, "app-data"); got != "ticks.log" {
		t.Errorf("the GitOps claim holds %q after the cutover, want the app's ticks.log alone (no mover state)", got)
	}
	ctx := context.Background()
	if _, err := dst.Kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a State plan applied the Deployment on the destination (%v)", err)
	}
	if _, err := dst.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a State plan created the claim under its source name (%v)", err)
	}
	c, err := dst.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "app-data", metav1.GetOptions{})
	if err != nil || *c.Spec.StorageClassName != "fast" {
		t.Errorf("the GitOps claim after the cutover: %v", err)
	}

	mustFerry(t, "rollback", plan, "--wait")
	if got := volumeDigest(t, dst, ns, "app-data", -1); got != want {
		t.Errorf("the GitOps claim's data after rollback: %s, want %s", got, want)
	}
	waitUntil(t, src, "the source app running again", func(ctx context.Context) (bool, string) {
		d, err := src.Kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return d.Status.AvailableReplicas == 1, podsState(ctx, src, ns, d.Spec.Selector)
	})
}

// TestExportThenDiff exports a Full plan as a kustomize directory,
// applies it with kubectl apply -k onto an empty destination namespace,
// and diffs the plan against it: nothing to create or change. The
// directory written is checked to apply as a cutover would in the
// migrate package's envtest (TestExportAppliesAsRunEnvtest).
func TestExportThenDiff(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-export")
	moved := ns + "-gitops"
	plan := "e2e-export"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, moved) })
	writingApp(t, src, ns)
	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns+":"+moved,
		"--registry-rewrite", src.Registry+"/="+dst.Registry+"/")

	dir := filepath.Join(t.TempDir(), "gitops")
	out := mustFerry(t, "plan", "export", plan, "--dir", dir)
	if !strings.Contains(out, "objects written to "+dir) {
		t.Errorf("export output:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, moved, "deployment.apps_web.yaml"))
	if err != nil || !strings.Contains(string(b), dst.Registry+"/") || strings.Contains(string(b), "ferry.dev/") {
		t.Errorf("exported Deployment (images rewritten, no Ferry labels): %v\n%s", err, b)
	}
	kubectl := filepath.Join(harness.RepoRoot(t), ".localclusters", "bin", "kubectl")
	apply := exec.Command(kubectl, "--kubeconfig", harness.Kubeconfig(t, "dst"), "apply", "-k", dir)
	if b, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply -k: %v\n%s", err, b)
	}
	out = mustFerry(t, "plan", "diff", plan)
	if !strings.Contains(out, "0 to create, 0 to change") {
		t.Errorf("diff of the applied export:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, moved, "persistentvolumeclaim_data.yaml")); err != nil {
		t.Errorf("exported claim: %v", err)
	}
}

// volumeRoot lists the root of a claim, as "ls -A" does, one line.
func volumeRoot(t *testing.T, c *harness.Cluster, ns, claim string) string {
	t.Helper()
	name := "ls-" + c.Name
	out := c.RunPod(t, harness.NewPod(ns, name, c.Image(t, "tools"), "sh", "-c", "ls -A /data | tr '\\n' ' '").RestartNever().Claim(claim, "/data").Pod())
	_ = c.Kube.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
	return strings.TrimSpace(out)
}
