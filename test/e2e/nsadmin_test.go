//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// TestNamespaceAdminMigration: a user who is only admin of team-a on both
// clusters (the admin ClusterRole in a RoleBinding; nothing cluster-wide)
// registers both clusters with their own tokens in team-a on the host
// (dst), and stages and cuts over team-a with its volume while the app
// writes, then rolls back. Their plan naming team-b is refused with
// NotPermitted, and the ClusterRole their RoleBinding refers to, which
// they may not read, is a warning.
func TestNamespaceAdminMigration(t *testing.T) {
	withController(t) // an admin installed Ferry (CRDs, tenant roles) on the host
	ctx := context.Background()
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns, other := src.Namespace(t, "team-a"), src.Namespace(t, "team-b")
	dst.CreateNamespace(t, ns)
	reader := "e2e-reader-" + ns
	t.Cleanup(func() {
		_ = src.Kube.RbacV1().ClusterRoles().Delete(context.Background(), reader, metav1.DeleteOptions{})
	})
	createOrFail(t, src, src.Kube.RbacV1().ClusterRoles().Create, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: reader},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}})
	createOrFail(t, src, src.Kube.RbacV1().RoleBindings(ns).Create, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "app-reads"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: reader},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "default", Namespace: ns}}})
	writingApp(t, src, ns)

	aliceSrc, aliceDst := namespaceAdmin(t, src, ns), namespaceAdmin(t, dst, ns)
	// The controller their commands start in their process needs the
	// movers' image (an admin would set it with ferry config set).
	t.Setenv("FERRY_MOVER_IMAGE", src.Image(t, "ferry"))
	as := func(args ...string) (string, error) {
		t.Helper()
		return ferry(t, append(args, "--kubeconfig", aliceDst, "--ferry-namespace", ns)...)
	}
	plan := "team-a"
	t.Cleanup(func() { cleanTenantPlans(t, dst, ns, func() { _, _ = as("plan", "delete", plan, "--wait") }) })
	for _, c := range []struct{ name, kubeconfig string }{{"src", aliceSrc}, {"dst", aliceDst}} {
		if out, err := ferry(t, "cluster", "add", c.name, "--kubeconfig", c.kubeconfig, "--as-user", "--host-kubeconfig", aliceDst, "--ferry-namespace", ns); err != nil ||
			!strings.Contains(out, "with your own token") {
			t.Fatalf("cluster add %s --as-user: %v", c.name, err)
		}
	}

	if out, err := as("plan", "create", "others", "--from", "src", "--to", "dst", "-n", other); err == nil ||
		!strings.Contains(out, "NotPermitted") || !strings.Contains(out, "namespace "+other+" on cluster src") {
		t.Errorf("a plan naming %s: %v", other, err)
	}
	out, err := as("plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns,
		"--registry-rewrite", src.Registry+"/="+dst.Registry+"/")
	if err != nil {
		t.Fatalf("plan create as namespace admin: %v", err)
	}
	for _, want := range []string{"get ClusterRole " + reader, "cluster admin must copy them"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan create did not warn %q", want)
		}
	}
	if _, err := as("stage", plan, "--wait"); err != nil {
		t.Fatalf("stage as namespace admin: %v", err)
	}
	time.Sleep(time.Second) // more writes after the stage
	if _, err := as("cutover", plan, "--wait"); err != nil {
		t.Fatalf("cutover as namespace admin: %v", err)
	}
	want := volumeDigest(t, src, ns, "data", -1)
	if got := volumeDigest(t, dst, ns, "data", atoi(t, strings.Fields(want)[0])); got != want {
		t.Errorf("ticks.log on dst differs from the source's at cutover:\nsrc %s\ndst %s", want, got)
	}
	if _, err := dst.Kube.RbacV1().ClusterRoles().Get(ctx, reader, metav1.GetOptions{}); err == nil {
		t.Errorf("ClusterRole %s was created on dst by a namespace admin's migration", reader)
	}
	var ms ferryv1.MigrationList
	if err := dst.Client.List(ctx, &ms, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	skipped := false
	for _, m := range ms.Items {
		for _, o := range m.Status.Objects {
			skipped = skipped || (o.Name == "app-reads" && o.Action == ferryv1.ObjectSkipped && strings.Contains(o.Reason, "cluster admin"))
		}
	}
	if !skipped {
		t.Errorf("the RoleBinding of the ClusterRole missing on dst is not reported skipped with its reason")
	}
	if _, err := as("rollback", plan, "--wait"); err != nil {
		t.Errorf("rollback as namespace admin: %v", err)
	}
	if _, err := as("plan", "delete", plan, "--wait"); err != nil {
		t.Errorf("plan delete as namespace admin: %v", err)
	}
}

// namespaceAdmin makes a service account of ns on cluster c admin of ns
// (and of nothing else) and returns a kubeconfig with its token: a
// namespace admin, as a user without cluster-wide rights.
func namespaceAdmin(t *testing.T, c *harness.Cluster, ns string) string {
	t.Helper()
	ctx := context.Background()
	createOrFail(t, c, c.Kube.CoreV1().ServiceAccounts(ns).Create, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "alice"}})
	createOrFail(t, c, c.Kube.RbacV1().RoleBindings(ns).Create, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-admin"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "alice", Namespace: ns}}})
	tr, err := c.Kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "alice",
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kc, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kc.AuthInfos = map[string]*clientcmdapi.AuthInfo{"alice": {Token: tr.Status.Token}}
	for _, cx := range kc.Contexts {
		cx.AuthInfo = "alice"
	}
	path := filepath.Join(t.TempDir(), c.Name+"-alice.kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	// The admin role's aggregation and RBAC's cache take a moment.
	user := "system:serviceaccount:" + ns + ":alice"
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		r, err := c.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
			User: user, ResourceAttributes: &authzv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: ns}}}, metav1.CreateOptions{})
		return err == nil && r.Status.Allowed, nil
	})
	if err != nil {
		t.Fatalf("%s is not admin of %s on %s: %v", user, ns, c.Name, err)
	}
	return path
}

// cleanTenantPlans deletes, once a test ends, what a namespace admin's
// test left in their namespace on the host: remove (their `ferry plan
// delete`, whose controller undoes the migrations), then, as admin, the
// finalizers of what is left, which no controller watches once their
// command ended.
func cleanTenantPlans(t *testing.T, host *harness.Cluster, ns string, remove func()) {
	remove()
	ctx := context.Background()
	var plans ferryv1.PlanList
	var migrations ferryv1.MigrationList
	_ = host.Client.List(ctx, &migrations, client.InNamespace(ns))
	_ = host.Client.List(ctx, &plans, client.InNamespace(ns))
	objs := []client.Object{}
	for i := range migrations.Items {
		objs = append(objs, &migrations.Items[i])
	}
	for i := range plans.Items {
		objs = append(objs, &plans.Items[i])
	}
	for _, o := range objs {
		t.Logf("left by the test in %s: %T %s", ns, o, o.GetName())
		o.SetFinalizers(nil)
		_ = host.Client.Update(ctx, o)
		_ = host.Client.Delete(ctx, o)
	}
}
