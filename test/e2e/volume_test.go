//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/test/harness"
)

// TestStageWhileWritingThenCutover stages the sample app's volume while
// the app appends to it every 50 ms, then cuts over, and checks that the
// destination holds exactly what the source held when it stopped (the
// destination app only appends after that) and that the app answers there.
// The plan renames and enlarges the claim on the way.
func TestStageWhileWritingThenCutover(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-data")
	plan := "e2e-data"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns) })
	writingApp(t, src, ns)

	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns,
		"--registry-rewrite", src.Registry+"/="+dst.Registry+"/", "--pvc", ns+"/data:name=data-v2,capacity=3Gi")
	mustFerry(t, "stage", plan, "--wait")
	time.Sleep(time.Second) // more writes after the stage
	mustFerry(t, "cutover", plan, "--wait")

	want := volumeDigest(t, src, ns, "data", -1)
	size := strings.Fields(want)[0]
	got := volumeDigest(t, dst, ns, "data-v2", atoi(t, size))
	if got != want {
		t.Fatalf("ticks.log on dst differs from the source's at cutover:\nsrc %s\ndst %s", want, got)
	}
	if atoi(t, size) < 20*30 {
		t.Fatalf("the app wrote only %s bytes: the test did not exercise writes during the stage", size)
	}
	claim, err := dst.Kube.CoreV1().PersistentVolumeClaims(ns).Get(context.Background(), "data-v2", metav1.GetOptions{})
	if err != nil || claim.Spec.Resources.Requests.Storage().String() != "3Gi" {
		t.Fatalf("renamed claim on dst: %v, %+v", err, claim)
	}
	if _, err := dst.Kube.CoreV1().PersistentVolumeClaims(ns).Get(context.Background(), "data", metav1.GetOptions{}); err == nil {
		t.Fatal("the claim was also created under its old name")
	}
	d, err := dst.Kube.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil || d.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "data-v2" {
		t.Fatalf("deployment on dst does not mount the renamed claim: %v", err)
	}
	svc, err := dst.Kube.CoreV1().Services(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	body := httpGet(t, fmt.Sprintf("http://%s:%d/", dst.NodeIP, svc.Spec.Ports[0].NodePort))
	if !strings.Contains(body, `"ticks":`) {
		t.Fatalf("the app on dst answered %q", body)
	}
	mustFerry(t, "rollback", plan, "--wait")
}

// writingApp runs the sample app with a volume it appends to every 50 ms.
func writingApp(t *testing.T, c *harness.Cluster, ns string) {
	t.Helper()
	ctx := context.Background()
	c.CreateClaim(t, ns, "data", "standard")
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](1),
			Containers: []corev1.Container{{Name: "web", Image: c.Image(t, "sampleapp"),
				Env:          []corev1.EnvVar{{Name: "WRITE_INTERVAL", Value: "50ms"}},
				Ports:        []corev1.ContainerPort{{ContainerPort: 8080}},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}}}}}
	if _, err := c.Kube.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort,
		Selector: labels, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
	if _, err := c.Kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err := c.Kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		return err == nil && got.Status.AvailableReplicas == 1, nil
	})
	if err != nil {
		t.Fatalf("writing app not available: %v", err)
	}
	time.Sleep(2 * time.Second) // some data before the stage
}

// volumeDigest returns "SIZE MD5" of ticks.log in a claim, read by a pod;
// with limit >= 0 only the first limit bytes are hashed.
func volumeDigest(t *testing.T, c *harness.Cluster, ns, claim string, limit int) string {
	t.Helper()
	script := `f=/data/ticks.log; s=$(wc -c < $f); echo "$s $(md5sum < $f | cut -d' ' -f1)"`
	if limit >= 0 {
		script = fmt.Sprintf(`f=/data/ticks.log; echo "%d $(head -c %d $f | md5sum | cut -d' ' -f1)"`, limit, limit)
	}
	name := "digest-" + c.Name
	out := strings.TrimSpace(c.RunPod(t, harness.NewPod(ns, name, c.Image(t, "tools"), "sh", "-c", script).RestartNever().Claim(claim, "/data").Pod()))
	_ = c.Kube.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
	return out
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	var body string
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		resp, err := http.Get(url)
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("GET %s: %v (last body %q)", url, err, body)
	}
	return body
}
