//go:build envtest

package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/config"
)

// nsAdmin is a user who is admin of its namespaces only: a service
// account bound, in each, to what the admin ClusterRole aggregates
// (envtest runs no aggregation) and to Ferry's tenant role.
func nsAdmin(t *testing.T, home string, namespaces ...string) *rest.Config {
	t.Helper()
	ctx := context.Background()
	roles, err := config.TenantRoles()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if err := env.Client.Create(ctx, r); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	mustCreate(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: home, Name: "alice"}})
	for _, ns := range namespaces {
		for _, role := range []string{"system:aggregate-to-admin", "system:aggregate-to-edit", "system:aggregate-to-view", "ferry-tenant-edit"} {
			mustCreate(t, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "alice-" + strings.TrimPrefix(role, "system:")},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "alice", Namespace: home}}})
		}
	}
	tr, err := env.Kube.CoreV1().ServiceAccounts(home).CreateToken(ctx, "alice",
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &rest.Config{Host: env.Config.Host, BearerToken: tr.Status.Token, TLSClientConfig: rest.TLSClientConfig{CAData: env.Config.CAData}}
	waitCan(t, cfg, home)
	return cfg
}

// waitCan waits until RBAC's cache lets cfg's user list Clusters in ns.
func waitCan(t *testing.T, cfg *rest.Config, ns string) {
	t.Helper()
	c, err := client.New(cfg, client.Options{Scheme: env.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	var last error
	err = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var l ferryv1.ClusterList
		last = c.List(ctx, &l, client.InNamespace(ns))
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("the namespace admin never could list Clusters in %s: %v", ns, last)
	}
}

func mustCreate(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

// TestNamespaceAdminConsole: `ferry console --ferry-namespace team-a` of
// a user who is admin of team-a and team-a2 only. The add-cluster form
// with "use my own token" registers the cluster with their token in
// team-a; the namespace step, whose list of namespaces they may not
// read, answers with the namespace named exactly (with its claims) and
// says why; a plan of their namespaces is created in team-a.
func TestNamespaceAdminConsole(t *testing.T) {
	n := rand.String(5)
	teamA, teamA2, teamB := "team-a-"+n, "team-a2-"+n, "team-b-"+n
	for _, ns := range []string{teamA, teamA2, teamB} {
		mustCreate(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	mustCreate(t, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: teamA},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: mustQuantity("1Gi")}}}})
	alice := nsAdmin(t, teamA, teamA, teamA2)
	f := newFixtureWith(t, Options{Mode: ModeLocal, Namespace: teamA, Host: alice,
		UserConfig: func(context.Context, string) (*rest.Config, error) { return rest.CopyConfig(alice), nil }})
	b := f.signIn(fmt.Sprintf(`{"key":%q}`, f.key))
	if want := "system:serviceaccount:" + teamA + ":alice"; b.user != want {
		t.Errorf("session user %q, want %q", b.user, want)
	}

	add := func(asUser bool) (int, string) {
		body := fmt.Sprintf(`{"name":"src","server":%q,"token":%q,"caBundle":%q,"role":"both","asUser":%t}`,
			alice.Host, alice.BearerToken, string(alice.CAData), asUser)
		code, raw, _ := b.do("POST", "/api/clusters", body)
		if strings.Contains(string(raw), alice.BearerToken) {
			t.Error("the answer echoes the token")
		}
		return code, string(raw)
	}
	// Without "use my own token" the registration needs rights a
	// namespace admin lacks (a service account and cluster-wide roles).
	code, raw := add(false)
	t.Logf("cluster add without asUser: %d %s", code, raw)
	if code != http.StatusForbidden || !strings.Contains(raw, "Use my own token") {
		t.Errorf("cluster add as Ferry's service account by a namespace admin: %d %s, want a refusal that says why", code, raw)
	}
	code, raw = add(true)
	if code != http.StatusCreated {
		t.Fatalf("cluster add asUser: %d %s", code, raw)
	}
	var c ferryv1.Cluster
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: teamA, Name: "src"}, &c); err != nil || c.Spec.Access != ferryv1.ClusterAccessUser {
		t.Fatalf("Cluster src in %s: access %q, %v", teamA, c.Spec.Access, err)
	}

	page := func(search string) namespacePage {
		t.Helper()
		code, body, _ := b.do("GET", "/api/clusters/src/namespaces?search="+search, "")
		if code != http.StatusOK {
			t.Fatalf("namespaces?search=%s: %d %s", search, code, body)
		}
		var p namespacePage
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		search string
		want   []namespaceInfo
	}{
		{"", nil},
		{"team-a", nil}, // a prefix: only an exact name can be got
		{teamA, []namespaceInfo{{Name: teamA, Phase: corev1.NamespaceActive, Claims: 1}}},
		{" " + teamA2 + " ", []namespaceInfo{{Name: teamA2, Phase: corev1.NamespaceActive}}},
		{teamB, nil}, // exists, but not theirs
		{"nosuch-" + n, nil},
	} {
		p := page(strings.ReplaceAll(tc.search, " ", "%20"))
		if !strings.Contains(p.Forbidden, "may not list") {
			t.Errorf("search %q: forbidden %q, want why the list is not shown", tc.search, p.Forbidden)
		}
		if p.Total != len(tc.want) || len(p.Items) != len(tc.want) || (len(tc.want) == 1 && p.Items[0] != tc.want[0]) {
			t.Errorf("search %q: total %d, items %+v, want %+v", tc.search, p.Total, p.Items, tc.want)
		}
	}

	body := fmt.Sprintf(`{"name":"own","spec":{"sourceCluster":"src","destinationCluster":"src","namespaces":[%q]}}`, teamA+":"+teamA2)
	if code, raw, _ := b.do("POST", "/api/plans", body); code != http.StatusCreated {
		t.Fatalf("POST /api/plans of their namespaces: %d %s", code, raw)
	}
	var p ferryv1.Plan
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: teamA, Name: "own"}, &p); err != nil {
		t.Fatalf("plan own in %s: %v", teamA, err)
	}
}
