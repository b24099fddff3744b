//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// TestDeleteMigrationWhileCopying deletes a cutover while its volume
// copies: the Migration's finalizer undoes it, so the source comes back
// un-quiesced and no mover pod, Service or Secret remains on either
// cluster, and then the Migration goes.
func TestDeleteMigrationWhileCopying(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-delete")
	plan := "e2e-delete"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns) })
	writingApp(t, src, ns)
	src.RunPod(t, harness.NewPod(ns, "fill", src.Image(t, "tools"), "sh", "-c",
		"dd if=/dev/urandom of=/data/big.bin bs=1M count=256 2>&1 | tail -1").RestartNever().Claim("data", "/data").Pod())
	_ = src.Kube.CoreV1().Pods(ns).Delete(context.Background(), "fill", metav1.DeleteOptions{})

	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns,
		"--registry-rewrite", src.Registry+"/="+dst.Registry+"/")
	name := createdMigration(t, mustFerry(t, "cutover", plan))
	waitMigration(t, name, "CopyVolumes with mover pods", func(m *ferryv1.Migration) bool {
		s := step(m, "CopyVolumes")
		return s != nil && s.Phase == ferryv1.StepRunning && len(moverObjects(t, src, name)) > 0
	})
	hc := hostClient(t)
	m := migration(t, name)
	if err := hc.Delete(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(context.Background(), 500*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		err := hc.Get(ctx, client.ObjectKeyFromObject(m), m)
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("deleted migration still there after 3 minutes: phase %s, itinerary %+v", m.Status.Phase, m.Status.Itinerary)
	}
	for _, c := range []*harness.Cluster{src, dst} {
		if left := moverObjects(t, c, name); len(left) > 0 {
			t.Errorf("cluster %s keeps mover objects of the deleted migration: %s", c.Name, strings.Join(left, ", "))
		}
	}
	d, err := src.Kube.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 1 {
		t.Errorf("source deployment has %d replicas after the deletion, want 1", *d.Spec.Replicas)
	}
	for k := range d.Annotations {
		if strings.HasPrefix(k, "ferry.dev/") {
			t.Errorf("annotation %s left on the source Deployment", k)
		}
	}
	if _, err := dst.Kube.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s still on dst after the deletion: %v", ns, err)
	}
}

// moverObjects lists the pods, Services, Secrets and Ingresses a
// migration's volume copy made on a cluster.
func moverObjects(t *testing.T, c *harness.Cluster, migration string) []string {
	t.Helper()
	ctx := context.Background()
	opts := metav1.ListOptions{LabelSelector: ferryv1.LabelMigration + "=" + migration + "," + ferryv1.LabelManagedBy + "=" + ferryv1.ManagedByValue}
	var out []string
	pods, err := c.Kube.CoreV1().Pods(metav1.NamespaceAll).List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		out = append(out, "pod "+p.Namespace+"/"+p.Name)
	}
	svcs, err := c.Kube.CoreV1().Services(metav1.NamespaceAll).List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs.Items {
		out = append(out, "service "+s.Namespace+"/"+s.Name)
	}
	secrets, err := c.Kube.CoreV1().Secrets(metav1.NamespaceAll).List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets.Items {
		out = append(out, "secret "+s.Namespace+"/"+s.Name)
	}
	ingresses, err := c.Kube.NetworkingV1().Ingresses(metav1.NamespaceAll).List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ingresses.Items {
		out = append(out, "ingress "+i.Namespace+"/"+i.Name)
	}
	return out
}
