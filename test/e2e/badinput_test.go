//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// TestBadInputs checks that each bad input gives a condition naming the
// problem and what to do, and that nothing changes on either cluster.
func TestBadInputs(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "e2e-bad")
	serveSampleApp(t, src, ns, corev1.ServiceTypeClusterIP)
	taken := dst.Namespace(t, "e2e-taken")
	if _, err := dst.Kube.CoreV1().ConfigMaps(taken).Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "not-ferrys"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	registerBrokenClusters(t)

	tests := []struct {
		name       string
		args       []string
		wantReason string
		wantText   string
	}{
		{"unknown cluster", []string{"--from", "nosuch", "--to", "dst", "-n", ns}, ferryv1.ReasonClusterNotFound, "ferry cluster add nosuch"},
		{"unreachable cluster", []string{"--from", "unreachable", "--to", "dst", "-n", ns}, ferryv1.ReasonClusterNotReady, "Unreachable"},
		{"missing permissions", []string{"--from", "powerless", "--to", "dst", "-n", ns}, ferryv1.ReasonClusterNotReady, "InsufficientPermissions"},
		{"missing namespace", []string{"--from", "src", "--to", "dst", "-n", "e2e-no-such-namespace"}, ferryv1.ReasonNamespaceNotFound, "does not exist"},
		{"foreign objects in the destination namespace", []string{"--from", "src", "--to", "dst", "-n", ns + ":" + taken}, ferryv1.ReasonNamespaceConflict, "ConfigMap not-ferrys"},
		{"missing storage class", []string{"--from", "src", "--to", "dst", "-n", ns, "--storage-class-map", "standard=gold"}, ferryv1.ReasonStorageClassNotFound, "--storage-class-map"},
		{"onto itself", []string{"--from", "src", "--to", "src", "-n", ns}, ferryv1.ReasonInvalidSpec, "rename it"},
		{"override of a missing claim", []string{"--from", "src", "--to", "dst", "-n", ns, "--pvc", ns + "/nosuch:action=skip"}, ferryv1.ReasonInvalidSpec, "claim " + ns + "/nosuch is not in the plan"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := "e2e-bad-" + string(rune('a'+i))
			t.Cleanup(func() { deletePlan(t, plan) })
			out, err := ferry(t, append([]string{"plan", "create", plan}, tt.args...)...)
			if err == nil {
				t.Fatalf("plan create succeeded, want it to fail with %s", tt.wantReason)
			}
			cond := planReady(t, plan)
			if cond.Status != metav1.ConditionFalse || cond.Reason != tt.wantReason || !strings.Contains(cond.Message, tt.wantText) {
				t.Fatalf("Ready = %s/%s %q, want False/%s containing %q", cond.Status, cond.Reason, cond.Message, tt.wantReason, tt.wantText)
			}
			if !strings.Contains(out, tt.wantReason) {
				t.Errorf("the CLI output does not name the reason %s:\n%s", tt.wantReason, out)
			}
			// A cutover of the bad plan fails at Validate and changes nothing.
			out, err = ferry(t, "cutover", plan, "--wait")
			if err == nil {
				t.Fatalf("cutover of a bad plan succeeded:\n%s", out)
			}
			m := migration(t, createdMigration(t, out))
			if m.Status.Phase != ferryv1.MigrationFailed || m.Status.Itinerary[0].Phase != ferryv1.StepFailed {
				t.Fatalf("cutover of a bad plan: phase %s, first step %+v", m.Status.Phase, m.Status.Itinerary[0])
			}
			assertUntouched(t, src, dst, ns)
		})
	}
}

// assertUntouched checks that the source app still runs unquiesced and
// that the destination has no namespace of that name.
func assertUntouched(t *testing.T, src, dst *harness.Cluster, ns string) {
	t.Helper()
	pod, err := src.Kube.CoreV1().Pods(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil || pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodRunning {
		t.Fatalf("source pod changed: %v %v", err, harness.PodStatus(pod))
	}
	if _, err := dst.Kube.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err == nil {
		t.Fatalf("namespace %s was created on dst", ns)
	}
}

// registerBrokenClusters adds a Cluster whose API server refuses
// connections and one whose token may do nothing.
func registerBrokenClusters(t *testing.T) {
	t.Helper()
	hc := hostClient(t)
	ctx := context.Background()
	src := harness.Local(t, "src")
	// A service account without any role on src.
	// Its name is the run's own: another run may share the clusters.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "e2e-powerless-" + harness.Suffix(), Namespace: "default"}}
	_, _ = src.Kube.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{})
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: sa.Name, Namespace: "default",
		Annotations: map[string]string{corev1.ServiceAccountNameKey: sa.Name}}, Type: corev1.SecretTypeServiceAccountToken}
	_, _ = src.Kube.CoreV1().Secrets("default").Create(ctx, sec, metav1.CreateOptions{})
	var token string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		s, err := src.Kube.CoreV1().Secrets("default").Get(ctx, sec.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		token = string(s.Data["token"])
		return token != "", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = src.Kube.CoreV1().ServiceAccounts("default").Delete(context.Background(), sa.Name, metav1.DeleteOptions{})
		_ = src.Kube.CoreV1().Secrets("default").Delete(context.Background(), sec.Name, metav1.DeleteOptions{})
	})
	srcCluster := &ferryv1.Cluster{}
	if err := hc.Get(ctx, client.ObjectKey{Namespace: ferryNS, Name: "src"}, srcCluster); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, url, token string }{
		{"unreachable", "https://127.0.0.1:1", "x"},
		{"powerless", srcCluster.Spec.URL, token},
	} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cluster-" + c.name, Namespace: ferryNS},
			Data: map[string][]byte{"token": []byte(c.token)}}
		cl := &ferryv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: c.name, Namespace: ferryNS},
			Spec: ferryv1.ClusterSpec{URL: c.url, CABundle: srcCluster.Spec.CABundle, TokenSecretRef: &ferryv1.SecretReference{Name: s.Name}}}
		_ = hc.Delete(ctx, s)
		_ = hc.Delete(ctx, cl)
		if err := hc.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := hc.Create(ctx, cl); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = hc.Delete(context.Background(), cl); _ = hc.Delete(context.Background(), s) })
		waitClusterCondition(t, c.name)
	}
}

func waitClusterCondition(t *testing.T, name string) {
	t.Helper()
	hc := hostClient(t)
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var c ferryv1.Cluster
		if err := hc.Get(ctx, client.ObjectKey{Namespace: ferryNS, Name: name}, &c); err != nil {
			return false, nil
		}
		return meta.FindStatusCondition(c.Status.Conditions, ferryv1.ConditionReady) != nil, nil
	})
	if err != nil {
		t.Fatalf("cluster %s never checked: %v", name, err)
	}
}
