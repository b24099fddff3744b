//go:build envtest

package cluster_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// createNamespace creates a namespace with a random suffix.
func createNamespace(t *testing.T, prefix string) string {
	t.Helper()
	name := prefix + "-" + rand.String(5)
	if _, err := env.Kube.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return name
}

// prepare registers the envtest cluster with both roles in a namespace of
// its own and returns that namespace.
func prepare(t *testing.T, o cluster.PrepareOptions) (string, *cluster.Registration) {
	t.Helper()
	o.Namespace = "ferry-" + rand.String(5)
	o.Roles = cluster.Roles{Source: true, Destination: true}
	reg, err := cluster.Prepare(context.Background(), env.Kube, o)
	if err != nil {
		t.Fatal(err)
	}
	return o.Namespace, reg
}

// as returns a clientset impersonating service account ns/name.
func as(t *testing.T, ns, name string) kubernetes.Interface {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":" + name,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return kube
}

// TestRolesMatchDocs: for each role of docs/rbac.md, a service account
// that holds only that role is allowed exactly the rules its table lists
// (the API server's SelfSubjectRulesReview, less what every service
// account may do), so the page cannot drift from the code.
func TestRolesMatchDocs(t *testing.T) {
	ctx := context.Background()
	agentNS, _ := prepare(t, cluster.PrepareOptions{ClusterScopedWrites: true})
	docs := parseRoleTables(t, "../../docs/rbac.md")
	probeNS := createNamespace(t, "probe")
	baseline := rulesOf(t, probeNS, createAccount(t, probeNS, "baseline"))
	for _, tt := range []struct {
		role       string
		namespaced bool
		kind       string
		reviewNS   string
	}{
		{role: cluster.ReaderRole, kind: "ClusterRole", reviewNS: probeNS},
		{role: cluster.SourceNamespaceRole, namespaced: true, kind: "ClusterRole", reviewNS: probeNS},
		{role: cluster.DestinationNamespaceRole, namespaced: true, kind: "ClusterRole", reviewNS: probeNS},
		{role: cluster.ClusterWritesRole, kind: "ClusterRole", reviewNS: probeNS},
		{role: cluster.TokenRole, namespaced: true, kind: "Role", reviewNS: agentNS},
	} {
		t.Run(tt.role, func(t *testing.T) {
			want, ok := docs[tt.role]
			if !ok {
				t.Fatalf("docs/rbac.md has no table for role %s", tt.role)
			}
			sa := createAccount(t, tt.reviewNS, "probe-"+rand.String(5))
			bindOnly(t, ctx, tt.role, tt.kind, tt.namespaced, tt.reviewNS, sa)
			// RBAC's cache may lag the new binding by a moment.
			var got map[string]bool
			for deadline := time.Now().Add(10 * time.Second); len(got) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				got = rulesOf(t, tt.reviewNS, sa)
				for k := range baseline {
					delete(got, k)
				}
			}
			if missing, extra := diff(expand(t, want), got); len(missing)+len(extra) > 0 {
				t.Errorf("role %s: documented but not granted: %v; granted but not documented: %v", tt.role, missing, extra)
			}
		})
	}
}

// createAccount creates a service account and returns its name.
func createAccount(t *testing.T, ns, name string) string {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if _, err := env.Kube.CoreV1().ServiceAccounts(ns).Create(context.Background(), sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return name
}

// bindOnly binds role to service account ns/sa: in ns when namespaced,
// else cluster-wide.
func bindOnly(t *testing.T, ctx context.Context, role, kind string, namespaced bool, ns, sa string) {
	t.Helper()
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns}}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: role}
	meta := metav1.ObjectMeta{Name: "probe-" + sa}
	var err error
	if namespaced {
		meta.Namespace = ns
		_, err = env.Kube.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: meta, RoleRef: ref, Subjects: subject}, metav1.CreateOptions{})
	} else {
		_, err = env.Kube.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: meta, RoleRef: ref, Subjects: subject}, metav1.CreateOptions{})
		t.Cleanup(func() {
			_ = env.Kube.RbacV1().ClusterRoleBindings().Delete(context.Background(), meta.Name, metav1.DeleteOptions{})
		})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// rulesOf returns the resource rules service account ns/sa holds in ns,
// one key per group, resource, verb and resource name.
func rulesOf(t *testing.T, ns, sa string) map[string]bool {
	t.Helper()
	review, err := as(t, ns, sa).AuthorizationV1().SelfSubjectRulesReviews().Create(context.Background(),
		&authzv1.SelfSubjectRulesReview{Spec: authzv1.SelfSubjectRulesReviewSpec{Namespace: ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, r := range review.Status.ResourceRules {
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					for _, n := range names {
						out[g+"|"+res+"|"+v+"|"+n] = true
					}
				}
			}
		}
	}
	return out
}

// docRule is one row of a role's table.
type docRule struct{ groups, resources, verbs, names []string }

var ticked = regexp.MustCompile("`([^`]*)`")

// parseRoleTables reads the tables under the "### ROLE" headings.
func parseRoleTables(t *testing.T, path string) map[string][]docRule {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]docRule{}
	role := ""
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "## ") {
			role = ""
		}
		if h, ok := strings.CutPrefix(line, "### "); ok {
			role = strings.Fields(h)[0]
			continue
		}
		cells := strings.Split(line, "|")
		if role == "" || len(cells) < 5 || !strings.Contains(cells[1], "`") {
			continue
		}
		resources, names, _ := strings.Cut(cells[2], "(resource name")
		out[role] = append(out[role], docRule{groups: ticks(cells[1]), resources: ticks(resources), verbs: ticks(cells[3]), names: ticks(names)})
	}
	return out
}

func ticks(cell string) []string {
	var out []string
	for _, m := range ticked.FindAllStringSubmatch(cell, -1) {
		v := m[1]
		if v == `""` {
			v = ""
		}
		out = append(out, v)
	}
	return out
}

// expand turns documented rules into keys; <served ...> stand for what
// discovery reports.
func expand(t *testing.T, rules []docRule) map[string]bool {
	t.Helper()
	lists, err := env.Kube.Discovery().ServerPreferredResources()
	if err != nil {
		t.Fatal(err)
	}
	var core, groups []string
	for _, l := range lists {
		gv, err := schemaGroup(l.GroupVersion)
		if err != nil {
			t.Fatal(err)
		}
		if gv != "" {
			groups = append(groups, gv)
			continue
		}
		for _, r := range l.APIResources {
			if !strings.Contains(r.Name, "/") && r.Name != "secrets" && contains(r.Verbs, "list") {
				core = append(core, r.Name)
			}
		}
	}
	out := map[string]bool{}
	for _, r := range rules {
		names := r.names
		if len(names) == 0 {
			names = []string{""}
		}
		for _, g := range replace(r.groups, "<served non-core groups>", groups) {
			for _, res := range replace(r.resources, "<served core resources but secrets>", core) {
				for _, v := range r.verbs {
					for _, n := range names {
						out[g+"|"+res+"|"+v+"|"+n] = true
					}
				}
			}
		}
	}
	return out
}

func schemaGroup(gv string) (string, error) {
	g, _, ok := strings.Cut(gv, "/")
	if !ok {
		return "", nil
	}
	return g, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func replace(values []string, placeholder string, with []string) []string {
	var out []string
	for _, v := range values {
		if v == placeholder {
			out = append(out, with...)
		} else {
			out = append(out, v)
		}
	}
	return out
}

func diff(want, got map[string]bool) (missing, extra []string) {
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

// TestServiceAccountConfined: registered with the default roles and
// granted one plan's namespaces, Ferry's service account reads no Secret
// and creates no pod outside them, and holds no cluster-scoped write.
func TestServiceAccountConfined(t *testing.T) {
	ctx := context.Background()
	agentNS, _ := prepare(t, cluster.PrepareOptions{})
	shop, shopV2, other := createNamespace(t, "shop"), "shop-v2-"+rand.String(5), createNamespace(t, "other")
	g := cluster.Grant{Plan: "shop", HostNamespace: agentNS, AgentNamespace: agentNS, Source: []string{shop}, Destination: []string{shopV2}, CreateNamespaces: true}
	if _, err := g.Apply(ctx, env.Kube); err != nil {
		t.Fatal(err)
	}
	ferry := as(t, agentNS, cluster.AgentServiceAccount)
	for _, tt := range []struct {
		ra   authzv1.ResourceAttributes
		want bool
	}{
		{authzv1.ResourceAttributes{Verb: "list", Resource: "pods"}, true},
		{authzv1.ResourceAttributes{Verb: "list", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}, true},
		{authzv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: shop}, true},
		{authzv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: shop}, true},
		{authzv1.ResourceAttributes{Verb: "patch", Group: "apps", Resource: "deployments", Namespace: shop}, true},
		{authzv1.ResourceAttributes{Verb: "create", Group: "apps", Resource: "deployments", Namespace: shopV2}, true},
		{authzv1.ResourceAttributes{Verb: "delete", Resource: "namespaces", Name: shopV2, Namespace: shopV2}, true},
		{authzv1.ResourceAttributes{Verb: "list", Resource: "secrets"}, false},
		{authzv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: "kube-system"}, false},
		{authzv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: other}, false},
		{authzv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: "kube-system"}, false},
		{authzv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: other}, false},
		{authzv1.ResourceAttributes{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: other}, false},
		{authzv1.ResourceAttributes{Verb: "create", Group: "apps", Resource: "deployments", Namespace: shop}, false},
		{authzv1.ResourceAttributes{Verb: "get", Resource: "nodes", Subresource: "proxy"}, false},
		{authzv1.ResourceAttributes{Verb: "create", Resource: "namespaces"}, false},
		{authzv1.ResourceAttributes{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}, false},
		{authzv1.ResourceAttributes{Verb: "bind", Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Name: "cluster-admin"}, false},
		{authzv1.ResourceAttributes{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "rolebindings", Namespace: other}, false},
		{authzv1.ResourceAttributes{Verb: "create", Resource: "persistentvolumes"}, false},
		{authzv1.ResourceAttributes{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Name: "default", Namespace: agentNS}, false},
		{authzv1.ResourceAttributes{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Name: cluster.AgentServiceAccount, Namespace: agentNS}, true},
		{authzv1.ResourceAttributes{Verb: "impersonate", Resource: "users"}, false},
	} {
		ra := tt.ra
		var allowed bool
		// RBAC's cache may lag the new grant by a moment.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			r, err := ferry.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx,
				&authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &ra}}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if allowed = r.Status.Allowed; allowed || !tt.want || time.Now().After(deadline) {
				break
			}
		}
		if allowed != tt.want {
			t.Errorf("%s %s/%s %s in %q: allowed %v, want %v", ra.Verb, ra.Resource, ra.Subresource, ra.Name, ra.Namespace, allowed, tt.want)
		}
	}
}

// TestTokenRenewal: registration stores a bound token with its expiry;
// the controller's Renew leaves it alone before half its lifetime and
// replaces it after; a deleted service account makes the check say the
// token was revoked.
func TestTokenRenewal(t *testing.T) {
	ctx := context.Background()
	agentNS, reg := prepare(t, cluster.PrepareOptions{TokenTTL: 10 * time.Minute})
	if left := time.Until(reg.Expires); left < 9*time.Minute || left > 11*time.Minute {
		t.Fatalf("token expires in %s, want 10m", left)
	}
	hostNS := createNamespace(t, "host")
	target := rest.CopyConfig(env.Config)
	c, err := cluster.Store(ctx, env.Client, hostNS, "self", target, cluster.Settings{},
		cluster.Token{Value: reg.Token, Expires: reg.Expires, TTL: 10 * time.Minute, Namespace: agentNS})
	if err != nil {
		t.Fatal(err)
	}
	registry := cluster.NewRegistry(env.Config, env.Client)
	clients, err := registry.Clients(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Check(ctx, clients); err != nil {
		t.Fatalf("check with the reader role: %v", err)
	}
	if next, err := cluster.Renew(ctx, env.Client, c, clients, time.Now()); err != nil || next < 4*time.Minute {
		t.Fatalf("renew before half-life: next %s, %v; want about 5m", next, err)
	}
	if tokenOf(t, c) != reg.Token {
		t.Fatal("token replaced before half of its lifetime")
	}
	if _, err := cluster.Renew(ctx, env.Client, c, clients, clients.Token.RenewAt().Add(time.Second)); err != nil {
		t.Fatalf("renew after half-life: %v", err)
	}
	var sec corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: hostNS, Name: c.Spec.TokenSecretRef.Name}, &sec); err != nil {
		t.Fatal(err)
	}
	if string(sec.Data[cluster.TokenKey]) == reg.Token || sec.Annotations[cluster.AnnotationTokenTTL] != "10m0s" {
		t.Errorf("after renewal: same token %v, annotations %v", string(sec.Data[cluster.TokenKey]) == reg.Token, sec.Annotations)
	}
	if err := env.Kube.CoreV1().ServiceAccounts(agentNS).Delete(ctx, cluster.AgentServiceAccount, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	renewed, err := registry.Clients(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	err = waitUnauthorized(ctx, renewed)
	var p *cluster.Problem
	if !errors.As(err, &p) || p.Reason != ferryv1.ReasonUnauthorized || !strings.Contains(p.Message, "revoked") {
		t.Errorf("check after the service account was deleted: %v, want Unauthorized saying revoked", err)
	}
}

func tokenOf(t *testing.T, c *ferryv1.Cluster) string {
	t.Helper()
	var sec corev1.Secret
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: c.Namespace, Name: c.Spec.TokenSecretRef.Name}, &sec); err != nil {
		t.Fatal(err)
	}
	return string(sec.Data[cluster.TokenKey])
}

// waitUnauthorized checks until the API server rejects the token (its
// token cache may accept it for a few seconds after the deletion).
func waitUnauthorized(ctx context.Context, c *cluster.Clients) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := cluster.Check(ctx, c)
		var p *cluster.Problem
		if (errors.As(err, &p) && p.Reason == ferryv1.ReasonUnauthorized) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}
