//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
	"ferry.dev/ferry/test/harness/s3server"
)

// addRepository starts an S3 server the pods of both clusters reach,
// makes a bucket and registers it as a Repository; both go when the test
// ends.
func addRepository(t *testing.T, name string) *s3server.Server {
	t.Helper()
	srv := s3server.Start(t, s3server.Options{Host: s3server.PodReachableHost})
	srv.MakeBucket(t, "ferry")
	registerRepository(t, name, srv, srv.URL)
	return srv
}

// registerRepository registers the server's bucket "ferry" as a
// Repository reached at endpoint, deleted when the test ends.
func registerRepository(t *testing.T, name string, srv *s3server.Server, endpoint string) {
	t.Helper()
	creds := filepath.Join(t.TempDir(), "credentials")
	body := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", srv.AccessKey, srv.SecretKey)
	if err := os.WriteFile(creds, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	mustFerry(t, "repository", "add", name, "--endpoint", endpoint, "--path-style", "--bucket", "ferry", "--credentials-file", creds)
	t.Cleanup(func() { _, _ = ferry(t, "repository", "delete", name) })
}

// bucketBytes sums the sizes of the objects under prefix in the server's
// bucket folder, and counts them.
func bucketBytes(t *testing.T, srv *s3server.Server, prefix string) (int64, int) {
	t.Helper()
	var size int64
	n := 0
	root := filepath.Join(srv.Dir, "ferry", prefix)
	_ = filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			size += info.Size()
			n++
		}
		return nil
	})
	return size, n
}

// TestRepositoryStageWhileWritingThenCutover moves the writing app's
// namespace through the repository: the stage and the cutover upload
// snapshots of its volume and restore them on dst, and the cutover's
// resources travel as a bundle in the bucket.
func TestRepositoryStageWhileWritingThenCutover(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	srv := addRepository(t, "e2e-repo")
	ns := src.Namespace(t, "e2e-repo")
	plan := "e2e-repo"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns) })
	writingApp(t, src, ns)

	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns,
		"--registry-rewrite", src.Registry+"/="+dst.Registry+"/", "--repository", "e2e-repo", "--data-path", "repository")
	mustFerry(t, "stage", plan, "--wait")
	_, packs := bucketBytes(t, srv, "data")
	if packs == 0 {
		t.Fatal("the stage stored no pack in the bucket")
	}
	time.Sleep(time.Second) // more writes after the stage
	out := mustFerry(t, "cutover", plan, "--wait")

	want := volumeDigest(t, src, ns, "data", -1)
	got := volumeDigest(t, dst, ns, "data", atoi(t, strings.Fields(want)[0]))
	if got != want {
		t.Fatalf("ticks.log on dst differs from the source's at cutover:\nsrc %s\ndst %s", want, got)
	}
	m := migration(t, createdMigration(t, out))
	for _, v := range m.Status.Volumes {
		if v.Path != "repository" || v.Phase != "Succeeded" {
			t.Errorf("volume %s/%s went %s over the %q path", v.Namespace, v.Claim, v.Phase, v.Path)
		}
	}
	var exported bool
	for _, st := range m.Status.Itinerary {
		exported = exported || (st.Name == "ExportResources" && st.Phase == ferryv1.StepSucceeded)
	}
	if !exported {
		t.Errorf("the cutover did not export its resources to the repository: %+v", m.Status.Itinerary)
	}
	if _, n := bucketBytes(t, srv, "bundles"); n != 1 {
		t.Errorf("the bucket holds %d resource bundles, want 1", n)
	}
	if _, err := dst.Kube.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{}); err != nil {
		t.Fatalf("the deployment was not applied on dst from the bundle: %v", err)
	}
	mustFerry(t, "rollback", plan, "--wait")

	// Prune keeps what the plan's snapshots use; deleting the plan
	// removes them, and its prune leaves no pack behind.
	mustFerry(t, "repository", "prune", "e2e-repo")
	if _, n := bucketBytes(t, srv, "snapshots"); n < 2 {
		t.Fatalf("prune left %d snapshots of the stage and the cutover", n)
	}
	deletePlan(t, plan)
	hc := hostClient(t)
	waitUntil(t, dst, "the plan to go", func(ctx context.Context) (bool, string) {
		var p ferryv1.Plan
		err := hc.Get(ctx, client.ObjectKey{Namespace: ferryNS, Name: plan}, &p)
		if apierrors.IsNotFound(err) {
			return true, ""
		}
		if c := meta.FindStatusCondition(p.Status.Conditions, ferryv1.ConditionReady); c != nil {
			return false, c.Message
		}
		return false, fmt.Sprint(err)
	})
	for _, prefix := range []string{"snapshots", "bundles", "data"} {
		if size, n := bucketBytes(t, srv, prefix); n != 0 {
			t.Errorf("after the plan was deleted the bucket keeps %d objects (%d bytes) under %s/", n, size, prefix)
		}
	}
}

// TestRepositoryUploadResumesAfterOutage stops the S3 server while a
// stage uploads a 96 MiB volume, starts it again, and checks that the
// retried upload did not send again what was stored: the bucket holds
// about one copy of the data, not one and a part. The repository is
// reached through a gate that lets three packs be stored and holds the
// next ones, so the server stops while the upload is surely under way
// (the whole upload takes under a second here).
func TestRepositoryUploadResumesAfterOutage(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	srv := s3server.Start(t, s3server.Options{Host: s3server.PodReachableHost})
	srv.MakeBucket(t, "ferry")
	const packsFirst = 3
	gate := srv.StartGate(t, func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/ferry/data/")
	}, packsFirst)
	registerRepository(t, "e2e-repo-outage", srv, gate.URL)
	ns := src.Namespace(t, "e2e-repo-outage")
	plan := "e2e-repo-outage"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns) })
	src.CreateClaim(t, ns, "data", "standard")
	const size = 96 << 20
	src.RunPod(t, harness.NewPod(ns, "fill", src.Image(t, "tools"), "sh", "-c",
		fmt.Sprintf("head -c %d /dev/urandom > /data/random.bin && sync && echo filled", size)).RestartNever().Claim("data", "/data").Pod())

	mustFerry(t, "plan", "create", plan, "--type", "state", "--from", "src", "--to", "dst", "-n", ns,
		"--repository", "e2e-repo-outage", "--data-path", "repository")
	out := mustFerry(t, "stage", plan)
	name := createdMigration(t, out)
	waitUntil(t, src, "three packs stored and the next held", func(ctx context.Context) (bool, string) {
		return gate.Passed() >= packsFirst && gate.Held() > 0, fmt.Sprintf("%d packs stored, %d held", gate.Passed(), gate.Held())
	})
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	gate.Release()
	waitUntil(t, src, "the upload to fail", func(ctx context.Context) (bool, string) {
		m := migration(t, name)
		for _, v := range m.Status.Volumes {
			if v.Phase == "Retrying" || v.Phase == "Failed" {
				return true, v.Message
			}
		}
		return m.Status.Phase == ferryv1.MigrationFailed, string(m.Status.Phase)
	})
	storedBefore, _ := bucketBytes(t, srv, "data")
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if m := migration(t, name); m.Status.Phase == ferryv1.MigrationFailed {
		mustFerry(t, "retry", plan)
	}
	waitUntil(t, src, "the stage to succeed", func(ctx context.Context) (bool, string) {
		m := migration(t, name)
		return m.Status.Phase == ferryv1.MigrationSucceeded, string(m.Status.Phase)
	})
	stored, packs := bucketBytes(t, srv, "data")
	t.Logf("stored %d bytes in %d packs (%d before the outage) for %d bytes of data", stored, packs, storedBefore, size)
	if storedBefore == 0 || stored > size+size/20 {
		t.Fatalf("the bucket holds %d bytes for %d of data (%d stored before the outage): the retry sent again what was stored", stored, size, storedBefore)
	}
	if n := gate.Passed(); n != packs {
		t.Errorf("%d pack uploads succeeded for the %d packs in the bucket: the retry sent a stored pack again", n, packs)
	}
	want := volumeDigestOf(t, src, ns, "data", "random.bin")
	if got := volumeDigestOf(t, dst, ns, "data", "random.bin"); got != want {
		t.Fatalf("dst holds %s, src %s", got, want)
	}
}

// volumeDigestOf returns "SIZE MD5" of a file in a claim, read by a pod.
func volumeDigestOf(t *testing.T, c *harness.Cluster, ns, claim, file string) string {
	t.Helper()
	script := fmt.Sprintf(`f=/data/%s; echo "$(wc -c < $f) $(md5sum < $f | cut -d' ' -f1)"`, file)
	name := "digest-" + c.Name
	out := strings.TrimSpace(c.RunPod(t, harness.NewPod(ns, name, c.Image(t, "tools"), "sh", "-c", script).RestartNever().Claim(claim, "/data").Pod()))
	_ = c.Kube.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
	return out
}
