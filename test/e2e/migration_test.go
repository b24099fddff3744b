//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// TestMigrateNamespaceWithRename migrates a namespace holding every kind
// the product brief lists, under a new name, and compares it field by
// field; then rolls back and checks that the source is exactly as before
// and nothing Ferry created is left on the destination.
func TestMigrateNamespaceWithRename(t *testing.T) {
	withClusterWrites(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-full")
	moved := ns + "-moved"
	fx := createFullNamespace(t, src, ns)
	before := snapshotNamespace(t, src, ns, fixtureResources)
	plan := "e2e-full"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, moved) })

	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns+":"+moved,
		"--registry-rewrite", src.Registry+"/="+dst.Registry+"/")
	mustFerry(t, "stage", plan, "--wait")
	out := mustFerry(t, "cutover", plan, "--wait")
	m := migration(t, createdMigration(t, out))
	for _, s := range m.Status.Itinerary {
		t.Logf("step %-20s %s in %s: %s", s.Name, s.Phase, s.Completed.Sub(s.Started.Time), s.Message)
	}

	got := snapshotRenamed(t, dst, moved, ns, fixtureResources)
	compareSnapshots(t, before, got)
	assertQuiesced(t, src, ns, fx)

	mustFerry(t, "rollback", plan, "--wait")
	if _, err := dst.Kube.CoreV1().Namespaces().Get(context.Background(), moved, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s still on dst after rollback: %v", moved, err)
	}
	if _, err := dst.Kube.RbacV1().ClusterRoleBindings().Get(context.Background(), fx.clusterRoleBinding, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ClusterRoleBinding %s still on dst after rollback: %v", fx.clusterRoleBinding, err)
	}
	waitFixtureReady(t, src, fx)
	after := snapshotNamespace(t, src, ns, fixtureResources)
	compareSnapshots(t, before, after)
}

func deleteNamespace(t *testing.T, c *harness.Cluster, ns string) {
	_ = c.Kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
}

// assertQuiesced checks that the cutover stopped the source workloads.
func assertQuiesced(t *testing.T, src *harness.Cluster, ns string, fx fixture) {
	t.Helper()
	ctx := context.Background()
	d, err := src.Kube.AppsV1().Deployments(ns).Get(ctx, fx.deployment, metav1.GetOptions{})
	if err != nil || d.Spec.Replicas == nil || *d.Spec.Replicas != 0 || d.Annotations[ferryv1.AnnotationOriginalReplicas] != "2" {
		t.Errorf("source Deployment not quiesced: %v %+v %v", err, d.Spec.Replicas, d.Annotations)
	}
	cj, err := src.Kube.BatchV1().CronJobs(ns).Get(ctx, fx.cronJob, metav1.GetOptions{})
	if err != nil || cj.Spec.Suspend == nil || !*cj.Spec.Suspend {
		t.Errorf("source CronJob not suspended: %v", err)
	}
	pods, err := src.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: "status.phase=Running"})
	if err != nil || len(pods.Items) != 0 {
		t.Errorf("source pods still running after cutover: %v %d", err, len(pods.Items))
	}
}

// TestControllerRestartResumes kills the controller while it applies
// thousands of objects and checks that a new one finishes the migration
// from the step it was in, without redoing the finished steps.
func TestControllerRestartResumes(t *testing.T) {
	p := startController(t)
	defer func() { p.stop() }()
	mustFerry(t, "cluster", "add", "src", "--kubeconfig", harness.Kubeconfig(t, "src"))
	mustFerry(t, "cluster", "add", "dst", "--kubeconfig", harness.Kubeconfig(t, "dst"))
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-restart")
	const n = 3000
	createConfigMaps(t, src, ns, n)
	plan := "e2e-restart"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns) })
	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns)
	name := createdMigration(t, mustFerry(t, "cutover", plan))

	waitMigration(t, name, "MigrateResources to be under way", func(m *ferryv1.Migration) bool {
		s := step(m, "MigrateResources")
		return s != nil && s.Phase == ferryv1.StepRunning && s.Progress != nil && s.Progress.Done > 0
	})
	p.kill()
	t.Logf("controller killed during MigrateResources")
	p = startController(t)
	waitMigration(t, name, "the migration to succeed", func(m *ferryv1.Migration) bool {
		return m.Status.Phase == ferryv1.MigrationSucceeded || m.Status.Phase == ferryv1.MigrationFailed
	})
	m := migration(t, name)
	if m.Status.Phase != ferryv1.MigrationSucceeded {
		t.Fatalf("migration %s: %s %v", name, m.Status.Phase, m.Status.Errors)
	}
	for _, s := range m.Status.Itinerary {
		want := 1
		if s.Name == "MigrateResources" {
			want = 2
		}
		if s.Phase == ferryv1.StepSucceeded && s.Attempts != want {
			t.Errorf("step %s ran %d times, want %d", s.Name, s.Attempts, want)
		}
	}
	cms, err := dst.Kube.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "e2e=bulk"})
	if err != nil || len(cms.Items) != n {
		t.Fatalf("dst holds %d of %d ConfigMaps: %v", len(cms.Items), n, err)
	}
}

func step(m *ferryv1.Migration, name string) *ferryv1.Step {
	for i := range m.Status.Itinerary {
		if m.Status.Itinerary[i].Name == name {
			return &m.Status.Itinerary[i]
		}
	}
	return nil
}

func waitMigration(t *testing.T, name, what string, cond func(*ferryv1.Migration) bool) {
	t.Helper()
	var last *ferryv1.Migration
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		last = migration(t, name)
		return cond(last), nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v; status: %+v", what, err, last.Status)
	}
}

func createConfigMaps(t *testing.T, c *harness.Cluster, ns string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%05d", i), Labels: map[string]string{"e2e": "bulk"}},
					Data: map[string]string{"value": strings.Repeat("x", 1024)}}
				if _, err := c.Kube.CoreV1().ConfigMaps(ns).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("create ConfigMaps: %v", err)
	}
}

// brokenOnDestination runs the sample app on src with an env var from a
// ConfigMap that the plan will not migrate, so its pods cannot start on
// dst (CreateContainerConfigError).
func brokenOnDestination(t *testing.T, src *harness.Cluster, ns string) {
	t.Helper()
	ctx := context.Background()
	if _, err := src.Kube.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"},
		Data: map[string]string{"GREETING": "hi"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](0),
			Containers: []corev1.Container{{Name: "web", Image: src.Image(t, "sampleapp"), Env: []corev1.EnvVar{{Name: "GREETING",
				ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "GREETING"}}}}}}}}}}
	if _, err := src.Kube.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err := src.Kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		return err == nil && got.Status.AvailableReplicas == 2, nil
	})
	if err != nil {
		t.Fatalf("sample app not available on src: %v", err)
	}
}

// TestUnhealthyWorkloadsThenRetry checks that a cutover whose workloads
// cannot start on the destination fails naming the pods and why, and that
// `ferry retry` resumes at the failed step once the cause is fixed.
func TestUnhealthyWorkloadsThenRetry(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-retry")
	brokenOnDestination(t, src, ns)
	plan := "e2e-retry"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns) })
	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns, "--exclude-kinds", "ConfigMap")
	out, err := ferry(t, "cutover", plan, "--wait")
	if err == nil {
		t.Fatalf("cutover succeeded although its pods cannot start:\n%s", out)
	}
	name := createdMigration(t, out)
	m := migration(t, name)
	failed := step(m, "WaitForWorkloads")
	if failed == nil || failed.Phase != ferryv1.StepFailed || !strings.Contains(failed.Message, "CreateContainerConfigError") ||
		!strings.Contains(failed.Message, "pod "+ns+"/web-") {
		t.Fatalf("WaitForWorkloads should fail naming the pods and CreateContainerConfigError: %+v", failed)
	}
	if _, err := dst.Kube.CoreV1().ConfigMaps(ns).Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"},
		Data: map[string]string{"GREETING": "hi"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The kubelet retries the pods with a growing back-off, which may
	// outlast the controller's 8 s grace after the retry: wait, as a user
	// would, until the fix took, so that the retry judges the fixed pods.
	waitAvailable(t, dst, ns, "web")
	mustFerry(t, "retry", name, "--wait")
	m = migration(t, name)
	for _, s := range m.Status.Itinerary {
		want := 1
		if s.Name == "WaitForWorkloads" {
			want = 2
		}
		if s.Phase != ferryv1.StepSkipped && s.Attempts != want {
			t.Errorf("step %s ran %d times, want %d", s.Name, s.Attempts, want)
		}
	}
	mustFerry(t, "rollback", plan, "--wait")
}

// TestCancelRestoresSource cancels a cutover after the source was
// quiesced and checks both clusters are as before.
func TestCancelRestoresSource(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-cancel")
	brokenOnDestination(t, src, ns)
	before, err := src.Kube.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plan := "e2e-cancel"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns) })
	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns, "--exclude-kinds", "ConfigMap")
	name := createdMigration(t, mustFerry(t, "cutover", plan))
	waitMigration(t, name, "WaitForWorkloads", func(m *ferryv1.Migration) bool {
		s := step(m, "WaitForWorkloads")
		return s != nil && s.Phase == ferryv1.StepRunning
	})
	mustFerry(t, "cancel", name, "--wait")
	m := migration(t, name)
	if m.Status.Phase != ferryv1.MigrationCanceled {
		t.Fatalf("phase %s, want Canceled: %v", m.Status.Phase, m.Status.Errors)
	}
	if _, err := dst.Kube.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s still on dst after cancel: %v", ns, err)
	}
	after, err := src.Kube.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *after.Spec.Replicas != *before.Spec.Replicas {
		t.Errorf("replicas %d after cancel, want %d", *after.Spec.Replicas, *before.Spec.Replicas)
	}
	for k := range after.Annotations {
		if strings.HasPrefix(k, "ferry.dev/") {
			t.Errorf("annotation %s left on the source Deployment", k)
		}
	}
}
