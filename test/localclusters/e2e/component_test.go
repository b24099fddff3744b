//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"ferry.dev/ferry/test/localclusters/internal/bed"
)

// TestRestartComponent stops the API server of src, checks that it no
// longer answers, starts it again and checks that the cluster runs a pod
// afterwards (its other components reconnected). It runs alone: the
// parallel tests of this folder wait until it is done.
func TestRestartComponent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("stopping a component needs root, as the test bed does")
	}
	c := localCluster(t, "src")
	env, err := bed.NewEnv(filepath.Join(repoRoot(t), ".localclusters"), bed.DefaultClusters)
	if err != nil {
		t.Fatal(err)
	}
	bc, err := env.Cluster("src")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := env.StopComponent(bc, "kube-apiserver"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.StartComponent(ctx, bc, "kube-apiserver"); err != nil {
			t.Errorf("start the API server of src again: %v", err)
		}
	})
	if _, err := c.cs.Discovery().ServerVersion(); err == nil {
		t.Fatal("the API server of src answers after it was stopped")
	}
	if err := env.StartComponent(ctx, bc, "kube-apiserver"); err != nil {
		t.Fatal(err)
	}
	ns := c.namespace(t, "tb-restart")
	p := c.create(t, newPod(ns, "after", c.image(t, "tools"), "true").restartNever())
	c.waitPod(t, ns, p.Name, corev1.PodSucceeded)
}
