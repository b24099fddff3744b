//go:build e2e

package s3server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/objstore"
	"ferry.dev/ferry/test/harness"
	"ferry.dev/ferry/test/harness/s3server"
)

// TestPodsReachServer starts the server on PodReachableHost and fetches
// an object (by a presigned URL) from a pod of each local cluster.
func TestPodsReachServer(t *testing.T) {
	srv := s3server.Start(t, s3server.Options{Host: s3server.PodReachableHost})
	srv.MakeBucket(t, "reach")
	ctx := context.Background()
	store, err := objstore.NewS3(srv.Config("reach"))
	if err != nil {
		t.Fatal(err)
	}
	const content = "from the root namespace"
	if err := store.Put(ctx, "hello", []byte(content)); err != nil {
		t.Fatal(err)
	}
	c, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.PresignedGetObject(ctx, "reach", "hello", 10*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"src", "dst"} {
		t.Run(name, func(t *testing.T) {
			cl := harness.Local(t, name)
			ns := cl.Namespace(t, "e2e-s3reach")
			out := cl.RunPod(t, harness.NewPod(ns, "fetch", cl.Image(t, "tools"), "wget", "-qO-", u.String()).RestartNever().Pod())
			if !strings.Contains(out, content) {
				t.Fatalf("a pod of %s fetched %q from %s, want %q", name, out, srv.URL, content)
			}
		})
	}
}
