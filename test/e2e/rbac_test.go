//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/test/harness"
)

// TestLeastPrivilege: on the local clusters, registered with Ferry's
// default roles, `ferry plan create` grants Ferry the plan's namespaces
// with the user's kubeconfig (creating the destination namespace), the
// service account can then read Secrets and create pods there and nowhere
// else, a plan with a cluster-scoped dependency is refused, naming it,
// until it is gone, and a stage after a rollback grants the deleted
// destination namespace again.
func TestLeastPrivilege(t *testing.T) {
	withController(t)
	ctx := context.Background()
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns, other := src.Namespace(t, "rbac-e2e"), src.Namespace(t, "rbac-other")
	plan := "rbac-e2e"
	crb := "ferry-e2e-" + ns
	t.Cleanup(func() {
		deletePlan(t, plan)
		deleteNamespace(t, dst, ns)
		_ = src.Kube.RbacV1().ClusterRoleBindings().Delete(context.Background(), crb, metav1.DeleteOptions{})
	})
	if _, err := src.Kube.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: crb},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "default", Namespace: ns}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	out, err := ferry(t, "plan", "create", plan, "--from", "src", "--to", "dst", "-n", ns)
	for _, want := range []string{"Ferry granted namespace " + ns + " (ferry-source-namespace) on cluster src", "cluster-scoped objects that Ferry may not write",
		"ClusterRoleBinding.rbac.authorization.k8s.io " + crb, "ferry cluster add dst --cluster-scoped-writes"} {
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("plan create with a ClusterRoleBinding: %v, output lacks %q", err, want)
		}
	}
	if _, err := dst.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a plan refused at validation created namespace %s on dst: %v", ns, err)
	}
	agent := "system:serviceaccount:" + ferryNS + ":" + cluster.AgentServiceAccount
	assertAllowed(t, agent, []allowance{
		{src, authzv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: ns}, true},
		{src, authzv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: ns}, true},
		{src, authzv1.ResourceAttributes{Verb: "list", Resource: "secrets"}, false},
		{src, authzv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: other}, false},
		{src, authzv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: "kube-system"}, false},
		{src, authzv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: "kube-system"}, false},
		{src, authzv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: other}, false},
		{src, authzv1.ResourceAttributes{Verb: "get", Resource: "nodes", Subresource: "proxy"}, false},
		{dst, authzv1.ResourceAttributes{Verb: "create", Group: "apps", Resource: "deployments", Namespace: ns}, false},
		{dst, authzv1.ResourceAttributes{Verb: "list", Resource: "secrets"}, false},
		{dst, authzv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: "kube-system"}, false},
		{dst, authzv1.ResourceAttributes{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}, false},
		{dst, authzv1.ResourceAttributes{Verb: "create", Resource: "namespaces"}, false},
	})

	if err := src.Kube.RbacV1().ClusterRoleBindings().Delete(ctx, crb, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	out = mustFerry(t, "plan", "grant", plan)
	if !strings.Contains(out, "namespace "+ns+" created on cluster dst") {
		t.Errorf("plan grant did not create the destination namespace")
	}
	assertAllowed(t, agent, []allowance{
		{dst, authzv1.ResourceAttributes{Verb: "create", Group: "apps", Resource: "deployments", Namespace: ns}, true},
		{dst, authzv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: ns}, true},
		{dst, authzv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: "default"}, false},
	})
	var p ferryv1.Plan
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		err := hostClient(t).Get(ctx, client.ObjectKey{Namespace: ferryNS, Name: plan}, &p)
		return err == nil && meta.IsStatusConditionTrue(p.Status.Conditions, ferryv1.ConditionReady), nil
	})
	if err != nil {
		t.Errorf("plan without the ClusterRoleBinding is not Ready: %+v", meta.FindStatusCondition(p.Status.Conditions, ferryv1.ConditionReady))
	}
	// A rollback deletes the destination namespace Ferry created, and its
	// grant with it: the next stage grants it again with the kubeconfigs
	// `ferry cluster add` recorded.
	mustFerry(t, "stage", plan, "--wait")
	mustFerry(t, "rollback", plan, "--wait")
	if err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := dst.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Fatalf("namespace %s still on dst after the rollback", ns)
	}
	mustFerry(t, "stage", plan, "--wait")

	var c ferryv1.Cluster
	if err := hostClient(t).Get(ctx, client.ObjectKey{Namespace: ferryNS, Name: "src"}, &c); err != nil {
		t.Fatal(err)
	}
	if cond := meta.FindStatusCondition(c.Status.Conditions, ferryv1.ConditionTokenRenewed); cond == nil || cond.Status != metav1.ConditionTrue {
		t.Errorf("cluster src: TokenRenewed %+v, want True", cond)
	}
}

// allowance is whether an access should be allowed on a cluster.
type allowance struct {
	c    *harness.Cluster
	ra   authzv1.ResourceAttributes
	want bool
}

// assertAllowed checks each allowance for user.
func assertAllowed(t *testing.T, user string, want []allowance) {
	t.Helper()
	for _, tt := range want {
		got := allowedAs(t, tt.c, user, tt.ra)
		// RBAC's cache may lag a new grant by a moment.
		for deadline := time.Now().Add(5 * time.Second); !got && tt.want && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			got = allowedAs(t, tt.c, user, tt.ra)
		}
		if got != tt.want {
			t.Errorf("on %s, %s may %s %s/%s in %q: %v, want %v", tt.c.Name, user, tt.ra.Verb, tt.ra.Resource, tt.ra.Subresource, tt.ra.Namespace, got, tt.want)
		}
	}
}

// allowedAs asks cluster c whether user may do ra.
func allowedAs(t *testing.T, c *harness.Cluster, user string, ra authzv1.ResourceAttributes) bool {
	t.Helper()
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := kube.AuthorizationV1().SelfSubjectAccessReviews().Create(context.Background(),
		&authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &ra}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r.Status.Allowed
}
