//go:build e2e

package e2e

import (
	"bytes"
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
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/test/harness"
)

// TestStagePrePullsImages stages a Full plan whose Deployment uses an
// image tag that no destination node has, and checks that after the
// stage the destination node has it: a pod that may not pull it
// (imagePullPolicy Never) starts there. Before the stage, such a pod
// fails with ErrImageNeverPull.
func TestStagePrePullsImages(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-prepull")
	plan := "e2e-prepull"
	t.Cleanup(func() { deletePlan(t, plan); deleteNamespace(t, dst, ns) })
	tag := "prepull-" + rand.String(6)
	for _, c := range []*harness.Cluster{src, dst} {
		tagImage(t, c, "tools", tag)
	}
	srcImage := src.Registry + "/tools:" + tag
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "web", Image: srcImage}}}}}}
	if _, err := src.Kube.AppsV1().Deployments(ns).Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mustFerry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns,
		"--registry-rewrite", src.Registry+"/="+dst.Registry+"/")

	dstImage := dst.Registry + "/tools:" + tag
	out := mustFerry(t, "stage", plan, "--wait")
	m := migration(t, createdMigration(t, out))
	if s := step(m, "PrePullImages"); s == nil || !strings.Contains(s.Message, "1 images on 1 nodes: 1 pulled") {
		t.Errorf("PrePullImages: %+v", s)
	}
	// The namespace exists on dst now (the stage made it): a pod that
	// must find the image on the node.
	name := "never-pull"
	pod := harness.NewPod(ns, name, dstImage, "sh", "-c", "true").RestartNever().Pod()
	pod.Spec.Containers[0].ImagePullPolicy = corev1.PullNever
	dst.CreatePod(t, pod)
	got := dst.WaitPod(t, ns, name, corev1.PodSucceeded, corev1.PodFailed)
	if got.Status.Phase != corev1.PodSucceeded {
		t.Errorf("the pre-pulled image did not run on dst: %+v", got.Status)
	}
	pullers, err := dst.Kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=image-puller"})
	if err != nil || len(pullers.Items) != 0 {
		t.Errorf("image pullers left after the stage: %v %d", err, len(pullers.Items))
	}
}

// tagImage gives the image name of the test bed, in the cluster's
// registry, one more tag (the registry's HTTP API: the manifest put again
// under the tag).
func tagImage(t *testing.T, c *harness.Cluster, image, tag string) {
	t.Helper()
	repo, digest, ok := strings.Cut(strings.TrimPrefix(c.Image(t, image), c.Registry+"/"), "@")
	if !ok {
		t.Fatalf("image %s is not pinned by digest", c.Image(t, image))
	}
	base := fmt.Sprintf("http://%s/v2/%s/manifests/", c.Registry, repo)
	req, _ := http.NewRequest(http.MethodGet, base+digest, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json")
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get manifest %s: %s", digest, resp.Status)
	}
	put, _ := http.NewRequest(http.MethodPut, base+tag, bytes.NewReader(body))
	put.Header.Set("Content-Type", resp.Header.Get("Content-Type"))
	resp, err = hc.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("tag %s:%s: %s", repo, tag, resp.Status)
	}
}
