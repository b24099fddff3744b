//go:build envtest

package planning

import (
	"context"
	"strings"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/testenv"
)

// TestNamespaceAdminPlanEnvtest: with clusters that hold a namespace
// admin's own token (admin in team-a on both, nothing cluster-wide), a
// plan of team-a passes the access checks, one naming team-b is refused
// with NotPermitted and the namespace, and a RoleBinding of team-a that
// refers to a ClusterRole the user may not read gives a warning instead
// of a failure or a silent drop.
func TestNamespaceAdminPlanEnvtest(t *testing.T) {
	user := "alice-" + rand.String(5)
	teamA, teamB := namespace(t, srcEnv, "team-a"), namespace(t, srcEnv, "team-b")
	createNamespace(t, dstEnv, teamA, nil)
	createNamespace(t, dstEnv, teamB, nil)
	reader := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "app-reader-" + rand.String(5)},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}}
	create(t, srcEnv, reader,
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "app-reads"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: reader.Name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "default", Namespace: teamA}}},
		configMap(teamA, "settings", nil))
	asUser := map[*testenv.Env]*cluster.Clients{}
	for _, env := range []*testenv.Env{srcEnv, dstEnv} {
		// The admin ClusterRole is aggregated from these by
		// kube-controller-manager, which envtest does not run.
		for _, role := range []string{"system:aggregate-to-admin", "system:aggregate-to-edit", "system:aggregate-to-view"} {
			create(t, env, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "alice-" + strings.TrimPrefix(role, "system:")},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}})
		}
		cfg := rest.CopyConfig(env.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
		c := newClients(t, "src", cfg)
		c.AsUser = true
		asUser[env] = c
		waitAllowed(t, c, teamA)
	}
	src, dst := asUser[srcEnv], asUser[dstEnv]
	dst.Name = "dst"

	t.Run("own namespace", func(t *testing.T) {
		res := checkResult(t, plan(teamA), src, dst, "", nil, checkSourceAccess, checkExistingDestinationAccess, inventory, checkClusterScopedAccess)
		warnings := strings.Join(res.Warnings, "\n")
		for _, want := range []string{"get ClusterRole " + reader.Name, "list ClusterRoleBindings", "cluster admin must copy them", "podtemplates in " + teamA} {
			if !strings.Contains(warnings, want) {
				t.Errorf("warnings %q do not hold %q", warnings, want)
			}
		}
	})
	t.Run("another team's namespace", func(t *testing.T) {
		checkResult(t, plan(teamA, teamB), src, dst, ferryv1.ReasonNotPermitted,
			[]string{"namespace " + teamB + " on cluster src", "you may not", "holds your own token"}, checkSourceAccess)
	})
	t.Run("another team's destination", func(t *testing.T) {
		checkResult(t, plan(teamA+":"+teamB), src, dst, ferryv1.ReasonNotPermitted,
			[]string{"namespace " + teamB + " on cluster dst"}, checkSourceAccess, checkExistingDestinationAccess)
	})
}

// waitAllowed waits until RBAC lets c create pods in ns (its cache may
// lag a new RoleBinding by a moment).
func waitAllowed(t *testing.T, c *cluster.Clients, ns string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		denied, err := cluster.MissingAccess(ctx, c, ns, []authzv1.ResourceAttributes{{Verb: "create", Resource: "pods"}})
		return err == nil && len(denied) == 0, nil
	})
	if err != nil {
		t.Fatalf("the admin RoleBinding in %s on %s is not in effect: %v", ns, c.Name, err)
	}
}
