//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// TestHooks stages and cuts over an app (busybox's httpd serving its
// claim) with four hooks: a PreBackup Job hook that mounts the claim and
// writes a marker, then a PreBackup exec hook in the running app
// container that writes another (both must reach the destination through
// the final copy, in that order; only the exec hook runs in the stage,
// as only it says stages), a PostRestore Job hook on the destination
// that fetches both markers from the app there, and a PostRollback hook
// that fetches one from the source app once the rollback restarted it.
func TestHooks(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-hooks")
	plan := "e2e-hooks"
	t.Cleanup(func() {
		deletePlan(t, plan)
		deleteNamespace(t, dst, ns)
		deleteHooks(t, "e2e-mark-job", "e2e-mark-exec", "e2e-smoke")
	})
	servingApp(t, src, ns)

	mustFerry(t, "hook", "create", "e2e-mark-job", "--image", src.Image(t, "tools"), "--claim", "data:/data",
		"--script", `echo "job $FERRY_MIGRATION_TYPE $FERRY_HOOK_PHASE $FERRY_NAMESPACES" > /data/marker-job && echo first >> /data/order && echo job wrote its marker`)
	mustFerry(t, "hook", "create", "e2e-mark-exec", "--exec", "app=web", "--container", "web", "--",
		"sh", "-c", `echo "exec $FERRY_PLAN $FERRY_HOOK" > /data/marker-exec && echo second >> /data/order`)
	mustFerry(t, "hook", "create", "e2e-smoke", "--image", dst.Image(t, "tools"), "--timeout", "2m", "--retries", "2",
		"--script", `wget -qO- http://web/marker-job && wget -qO- http://web/marker-exec`)
	mustFerry(t, "hook", "create", "e2e-back", "--image", src.Image(t, "tools"), "--retries", "3", "--script", `wget -qO- http://web/order`)
	out := mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns, "--registry-rewrite", src.Registry+"/="+dst.Registry+"/",
		"--hook", "e2e-mark-job:PreBackup", "--hook", "e2e-mark-exec:PreBackup:stages", "--hook", "e2e-smoke:PostRestore", "--hook", "e2e-back:PostRollback")
	for _, want := range []string{"PreBackup e2e-mark-job", "PreBackup e2e-mark-exec", "PostRestore e2e-smoke", "PostRollback e2e-back"} {
		if !describesHook(out, want) {
			t.Errorf("plan describe does not list the hook %q:\n%s", want, out)
		}
	}
	stage := migration(t, createdMigration(t, mustFerry(t, "stage", plan, "--wait")))
	if step(stage, "PreBackupHook/e2e-mark-job") != nil || step(stage, "PreBackupHook/e2e-mark-exec") == nil {
		t.Errorf("a stage runs the PreBackup hooks marked stages, and only those: %+v", stage.Status.Itinerary)
	}
	name := createdMigration(t, mustFerry(t, "cutover", plan, "--wait"))
	m := migration(t, name)
	job, exec, smoke := step(m, "PreBackupHook/e2e-mark-job"), step(m, "PreBackupHook/e2e-mark-exec"), step(m, "PostRestoreHook/e2e-smoke")
	if job == nil || exec == nil || smoke == nil {
		t.Fatalf("hook steps missing from the itinerary: %+v", m.Status.Itinerary)
	}
	if exec.Started.Before(job.Completed) {
		t.Errorf("the second PreBackup hook started at %s, before the first ended at %s", exec.Started, job.Completed)
	}
	quiesce := step(m, "Quiesce")
	if quiesce.Started.Before(exec.Completed) {
		t.Errorf("Quiesce started before the PreBackup hooks ended")
	}
	if !logHas(job.Log, "job wrote its marker") {
		t.Errorf("the Job hook's log is not in its step: %q", job.Log)
	}
	if want := fmt.Sprintf("job Cutover PreBackup %s:%s", ns, ns); !logHas(smoke.Log, want) || !logHas(smoke.Log, "exec "+plan+" e2e-mark-exec") {
		t.Errorf("the PostRestore hook did not read both markers from the app on dst: log %q", smoke.Log)
	}
	got := strings.TrimSpace(readFile(t, dst, ns, "data", "/data/order"))
	if got != "second\nfirst\nsecond" {
		t.Errorf("order file on dst %q, want the stage's exec hook line, then the cutover's Job hook's and exec hook's", got)
	}
	t.Logf("hook timings: job %s, exec %s, smoke %s", stepTook(job), stepTook(exec), stepTook(smoke))
	assertNoHookObjects(t, ns, src, dst)
	status := mustFerry(t, "status", name)
	if !strings.Contains(status, "PreBackupHook/e2e-mark-job") || !strings.Contains(status, "| job wrote its marker") {
		t.Errorf("ferry status does not show the hook step and its log:\n%s", status)
	}
	rb := migration(t, createdMigration(t, mustFerry(t, "rollback", plan, "--wait")))
	if last := rb.Status.Itinerary[len(rb.Status.Itinerary)-1]; last.Name != "PostRollbackHook/e2e-back" || !logHas(last.Log, "first") {
		t.Errorf("the rollback's last step should be its PostRollback hook, reading the source app: %+v", last)
	}
	assertNoHookObjects(t, ns, src, dst)
}

// TestHookFailureTimeoutRetry runs a cutover whose PreBackup hook fails
// (exit code, log tail in the status), then, after the hook is changed,
// times out (killed, said so), then, fixed, succeeds on `ferry retry`:
// every retry reruns only the hook's step.
func TestHookFailureTimeoutRetry(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-hookfail")
	plan := "e2e-hookfail"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns); deleteHooks(t, "e2e-flaky") })
	servingApp(t, src, ns)
	tools := src.Image(t, "tools")
	mustFerry(t, "hook", "create", "e2e-flaky", "--image", tools, "--script", `echo checking; echo "no backup target configured" >&2; exit 3`)
	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns, "--registry-rewrite", src.Registry+"/="+dst.Registry+"/",
		"--hook", "e2e-flaky:PreBackup")
	out, err := ferry(t, "cutover", plan, "--wait")
	if err == nil {
		t.Fatalf("cutover succeeded although its hook fails:\n%s", out)
	}
	name := createdMigration(t, out)
	const hookStep = "PreBackupHook/e2e-flaky"
	s := step(migration(t, name), hookStep)
	if s == nil || s.Phase != ferryv1.StepFailed || !strings.Contains(s.Message, "hook e2e-flaky failed") ||
		!strings.Contains(s.Message, "exited with code 3") || !logHas(s.Log, "no backup target configured") {
		t.Fatalf("the hook step should fail with the exit code and the log's end: %+v", s)
	}
	if q := step(migration(t, name), "Quiesce"); q.Started != nil {
		t.Errorf("Quiesce ran after the failed PreBackup hook")
	}
	assertNoHookObjects(t, ns, src, dst)

	mustFerry(t, "hook", "create", "e2e-flaky", "--image", tools, "--timeout", "5s", "--script", "echo waiting; sleep 60")
	if _, err := ferry(t, "retry", name, "--wait"); err == nil {
		t.Fatal("retry succeeded although the hook sleeps past its timeout")
	}
	s = step(migration(t, name), hookStep)
	if s.Phase != ferryv1.StepFailed || !strings.Contains(s.Message, "timed out after 5s and was killed") {
		t.Fatalf("the hook step should say it timed out and was killed: %+v", s)
	}
	assertNoHookObjects(t, ns, src, dst)

	mustFerry(t, "hook", "create", "e2e-flaky", "--image", tools, "--script", "echo fixed")
	mustFerry(t, "retry", name, "--wait")
	m := migration(t, name)
	for _, st := range m.Status.Itinerary {
		want := 1
		if st.Name == hookStep {
			want = 3
		}
		if st.Phase != ferryv1.StepSkipped && st.Attempts != want {
			t.Errorf("step %s ran %d times, want %d", st.Name, st.Attempts, want)
		}
	}
	if s := step(m, hookStep); !logHas(s.Log, "fixed") {
		t.Errorf("the fixed hook's log: %q", s.Log)
	}
	assertNoHookObjects(t, ns, src, dst)
	mustFerry(t, "rollback", plan, "--wait")
}

// TestHookCancel cancels a cutover while its PreBackup hook's Job runs:
// the Job and its pod go, and the source keeps running.
func TestHookCancel(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-hookcancel")
	plan := "e2e-hookcancel"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns); deleteHooks(t, "e2e-long") })
	servingApp(t, src, ns)
	mustFerry(t, "hook", "create", "e2e-long", "--image", src.Image(t, "tools"), "--script", "echo long; sleep 600")
	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns, "--registry-rewrite", src.Registry+"/="+dst.Registry+"/",
		"--hook", "e2e-long:PreBackup")
	name := createdMigration(t, mustFerry(t, "cutover", plan))
	waitMigration(t, name, "the hook's pod running", func(m *ferryv1.Migration) bool {
		s := step(m, "PreBackupHook/e2e-long")
		return s != nil && s.Phase == ferryv1.StepRunning && strings.Contains(s.Message, "running in pod")
	})
	mustFerry(t, "cancel", name, "--wait")
	m := migration(t, name)
	if m.Status.Phase != ferryv1.MigrationCanceled {
		t.Fatalf("phase %s, want Canceled: %v", m.Status.Phase, m.Status.Errors)
	}
	if s := step(m, "CancelHooks"); s == nil || s.Phase != ferryv1.StepSucceeded {
		t.Errorf("CancelHooks: %+v", s)
	}
	assertNoHookObjects(t, ns, src, dst)
	waitAvailable(t, src, ns, "web")
}

// servingApp runs busybox's httpd serving its claim data at /data, as
// the Deployment web behind the Service web (port 80).
func servingApp(t *testing.T, c *harness.Cluster, ns string) {
	t.Helper()
	ctx := context.Background()
	c.CreateClaim(t, ns, "data", "standard")
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](1),
			Containers: []corev1.Container{{Name: "web", Image: c.Image(t, "tools"), Command: []string{"httpd", "-f", "-p", "8080", "-h", "/data"},
				Ports:        []corev1.ContainerPort{{ContainerPort: 8080}},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}}}}}
	if _, err := c.Kube.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{
		Selector: labels, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
	if _, err := c.Kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAvailable(t, c, ns, "web")
}

// readFile returns a file of a claim, read by a pod.
func readFile(t *testing.T, c *harness.Cluster, ns, claim, path string) string {
	t.Helper()
	name := "read-" + c.Name
	out := c.RunPod(t, harness.NewPod(ns, name, c.Image(t, "tools"), "cat", path).RestartNever().Claim(claim, "/data").Pod())
	_ = c.Kube.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
	return out
}

// assertNoHookObjects checks that no hook Job or pod is left on either
// cluster in namespace ns (the garbage collector may take a moment for
// the pods of a deleted Job).
func assertNoHookObjects(t *testing.T, ns string, clusters ...*harness.Cluster) {
	t.Helper()
	for _, c := range clusters {
		var left string
		err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			jobs, err := c.Kube.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: ferryv1.LabelHookStep})
			if err != nil {
				return false, nil
			}
			pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: ferryv1.LabelHookStep})
			if err != nil {
				return false, nil
			}
			left = fmt.Sprintf("%d jobs, %d pods", len(jobs.Items), len(pods.Items))
			return len(jobs.Items)+len(pods.Items) == 0, nil
		})
		if err != nil {
			t.Errorf("hook objects left in %s on %s: %s", ns, c.Name, left)
		}
	}
}

func deleteHooks(t *testing.T, names ...string) {
	for _, n := range names {
		_ = hostClient(t).Delete(context.Background(), &ferryv1.Hook{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: n}})
	}
}

func stepTook(s *ferryv1.Step) time.Duration {
	if s.Started == nil || s.Completed == nil {
		return 0
	}
	return s.Completed.Sub(s.Started.Time).Round(10 * time.Millisecond)
}

// logHas tells whether a line of a step's log contains s.
func logHas(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// describesHook tells whether `ferry plan describe` output lists a hook,
// given as "PHASE NAME", under Hooks.
func describesHook(out, phaseAndName string) bool {
	_, hooks, ok := strings.Cut(out, "Hooks:\n")
	if !ok {
		return false
	}
	for _, line := range strings.Split(hooks, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0]+" "+f[1] == phaseAndName {
			return true
		}
	}
	return false
}
