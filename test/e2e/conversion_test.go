//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// TestStorageConversion converts, within cluster src, the claims of a
// writing Deployment and of a StatefulSet of two replicas from class
// standard to fast: a stage while they write, a cutover, the data
// identical, the pods running on the new claims, the StatefulSet scaled
// to three getting a fast claim; rollback restores the old references
// and deletes the new claims, keeping the old ones' data.
func TestStorageConversion(t *testing.T) {
	withController(t)
	src := harness.Local(t, "src")
	ns := src.Namespace(t, "e2e-convert")
	plan := "e2e-convert"
	t.Cleanup(func() { deletePlan(t, plan) })
	writingApp(t, src, ns)
	writingStatefulSet(t, src, ns, "db", 2)

	out := mustFerry(t, "plan", "create", plan, "--type", "storage-conversion", "--from", "src", "--to", "src", "-n", ns,
		"--storage-class-map", "standard=fast")
	for _, want := range []string{"data-fast", "data-fast-db-0", "data-fast-db-1"} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan does not name the new claim %s:\n%s", want, out)
		}
	}
	mustFerry(t, "stage", plan, "--wait")
	out = mustFerry(t, "cutover", plan, "--wait")
	m := migration(t, createdMigration(t, out))
	if s := step(m, "SwitchClaims"); s == nil || !strings.Contains(s.Message, "StatefulSet/db (recreated)") {
		t.Errorf("SwitchClaims: %+v", s)
	}

	// The old claims stopped changing at the cutover: the new ones start
	// with the same bytes, and the apps append after that.
	ctx := context.Background()
	for old, to := range map[string]string{"data": "data-fast", "data-db-0": "data-fast-db-0", "data-db-1": "data-fast-db-1"} {
		want := volumeDigest(t, src, ns, old, -1)
		if got := volumeDigest(t, src, ns, to, atoi(t, strings.Fields(want)[0])); got != want {
			t.Errorf("claim %s after the conversion: %s, want the start of %s: %s", to, got, old, want)
		}
		assertClaim(t, src, ns, to, "fast")
		c, err := src.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, old, metav1.GetOptions{})
		if err != nil || c.Labels[ferryv1.LabelSuperseded] != "true" {
			t.Errorf("old claim %s is not kept marked superseded: %v %v", old, err, c.Labels)
		}
	}
	assertUses(t, src, ns, "app=web", "data-fast")
	assertUses(t, src, ns, "app=db", "data-fast-db-0", "data-fast-db-1")

	// Scaled up, the recreated StatefulSet makes claims of the new class.
	scaleStatefulSet(t, src, ns, "db", 3)
	assertClaim(t, src, ns, "data-fast-db-2", "fast")

	mustFerry(t, "rollback", plan, "--wait")
	assertUses(t, src, ns, "app=web", "data")
	assertUses(t, src, ns, "app=db", "data-db-0", "data-db-1", "data-db-2")
	for _, gone := range []string{"data-fast", "data-fast-db-0", "data-fast-db-1"} {
		waitUntil(t, src, "new claim "+gone+" deleted", func(ctx context.Context) (bool, string) {
			_, err := src.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, gone, metav1.GetOptions{})
			return apierrors.IsNotFound(err), fmt.Sprint(err)
		})
	}
	set, err := src.Kube.AppsV1().StatefulSets(ns).Get(ctx, "db", metav1.GetOptions{})
	if err != nil || set.Spec.VolumeClaimTemplates[0].Name != "data" || *set.Spec.VolumeClaimTemplates[0].Spec.StorageClassName != "standard" {
		t.Errorf("StatefulSet db after rollback: %v %+v", err, set.Spec.VolumeClaimTemplates)
	}
	c, err := src.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{})
	if err != nil || c.Labels[ferryv1.LabelSuperseded] != "" {
		t.Errorf("old claim data after rollback: %v %v", err, c.Labels)
	}
}

// writingStatefulSet runs the sample app, appending to /data/ticks.log,
// as a StatefulSet whose claim template data is of class standard.
func writingStatefulSet(t *testing.T, c *harness.Cluster, ns, name string, replicas int32) {
	t.Helper()
	labels := map[string]string{"app": name}
	set := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: appsv1.StatefulSetSpec{
		Replicas: ptr.To(replicas), ServiceName: name, Selector: &metav1.LabelSelector{MatchLabels: labels},
		PodManagementPolicy: appsv1.ParallelPodManagement,
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](1),
			Containers: []corev1.Container{{Name: "app", Image: c.Image(t, "sampleapp"),
				Env:          []corev1.EnvVar{{Name: "WRITE_INTERVAL", Value: "50ms"}},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}}}},
		VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: ptr.To("standard"), AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("64Mi")}}}}},
	}}
	if _, err := c.Kube.AppsV1().StatefulSets(ns).Create(context.Background(), set, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, c, "StatefulSet "+name+" ready", func(ctx context.Context) (bool, string) {
		got, err := c.Kube.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return got.Status.ReadyReplicas == replicas, podsState(ctx, c, ns, got.Spec.Selector)
	})
}

func scaleStatefulSet(t *testing.T, c *harness.Cluster, ns, name string, replicas int32) {
	t.Helper()
	p := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	if _, err := c.Kube.AppsV1().StatefulSets(ns).Patch(context.Background(), name, types.MergePatchType, []byte(p), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, c, "StatefulSet "+name+" scaled", func(ctx context.Context) (bool, string) {
		got, err := c.Kube.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return got.Status.ReadyReplicas == replicas, podsState(ctx, c, ns, got.Spec.Selector)
	})
}

// assertClaim checks that claim ns/name exists with the storage class.
func assertClaim(t *testing.T, c *harness.Cluster, ns, name, class string) {
	t.Helper()
	got, err := c.Kube.CoreV1().PersistentVolumeClaims(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil || ptr.Deref(got.Spec.StorageClassName, "") != class {
		t.Errorf("claim %s/%s: %v, want class %s", ns, name, err, class)
	}
}

// assertUses waits until the running, ready pods selected by selector
// mount exactly the claims want, one each.
func assertUses(t *testing.T, c *harness.Cluster, ns, selector string, want ...string) {
	t.Helper()
	waitUntil(t, c, "pods "+selector+" on claims "+strings.Join(want, ","), func(ctx context.Context) (bool, string) {
		l, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err.Error()
		}
		var got []string
		for _, p := range l.Items {
			if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning || !ready(&p) {
				return false, "pod " + p.Name + " not ready"
			}
			for _, v := range p.Spec.Volumes {
				if v.PersistentVolumeClaim != nil {
					got = append(got, v.PersistentVolumeClaim.ClaimName)
				}
			}
		}
		return sameSet(got, want), fmt.Sprint(got)
	})
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
