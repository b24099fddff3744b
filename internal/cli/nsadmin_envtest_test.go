//go:build envtest

package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// TestNamespaceAdminFlow: a user who is admin of team-a and team-a2 only
// (nothing cluster-wide) registers the cluster with their own token in
// team-a on the host, and creates a plan there; the controller `ferry`
// starts for them runs as them. The plan of their namespaces validates,
// with warnings for what they may not read; one naming team-b is refused
// with NotPermitted and the reason.
func TestNamespaceAdminFlow(t *testing.T) {
	ctx := context.Background()
	admin, _ := hostFlags(t)
	// An admin's first command installs Ferry (CRDs, tenant roles).
	if _, stderr, err := ferry(t, append([]string{"cancel", "nosuch"}, admin...)...); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("admin's first command: %v\n%s", err, stderr)
	}
	n := namespaces.Add(1)
	teamA, teamA2, teamB := fmt.Sprintf("team-a-%d", n), fmt.Sprintf("team-a2-%d", n), fmt.Sprintf("team-b-%d", n)
	for _, ns := range []string{teamA, teamA2, teamB} {
		mustCreate(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		if ns != teamA2 { // the destination, empty
			mustCreate(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings"}})
		}
	}
	mustCreate(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "alice"}})
	// The admin ClusterRole aggregates these (and Ferry's tenant role);
	// envtest runs no aggregation, so they are bound one by one.
	for _, ns := range []string{teamA, teamA2} {
		for _, role := range []string{"system:aggregate-to-admin", "system:aggregate-to-edit", "system:aggregate-to-view", "ferry-tenant-edit"} {
			mustCreate(t, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "alice-" + strings.TrimPrefix(role, "system:")},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "alice", Namespace: teamA}}})
		}
	}
	tr, err := env.Kube.CoreV1().ServiceAccounts(teamA).CreateToken(ctx, "alice",
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kc := userKubeconfig(t, tr.Status.Token)
	alice := []string{"--kubeconfig", kc, "--ferry-namespace", teamA}

	out, stderr, err := ferry(t, "cluster", "add", "src", "--kubeconfig", kc, "--as-user", "--host-kubeconfig", kc, "--ferry-namespace", teamA)
	if err != nil {
		t.Fatalf("cluster add --as-user: %v\n%s\n%s", err, out, stderr)
	}
	if !strings.Contains(out, "with your own token") || !strings.Contains(out, "Ready: True") {
		t.Errorf("cluster add --as-user printed:\n%s", out)
	}
	var c ferryv1.Cluster
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: teamA, Name: "src"}, &c); err != nil || c.Spec.Access != ferryv1.ClusterAccessUser {
		t.Fatalf("Cluster src in %s: access %q, %v", teamA, c.Spec.Access, err)
	}

	out, stderr, err = ferry(t, append([]string{"plan", "create", "own", "--from", "src", "--to", "src", "-n", teamA + ":" + teamA2}, alice...)...)
	if err != nil {
		t.Fatalf("plan of their namespaces: %v\n%s\n%s", err, out, stderr)
	}
	for _, want := range []string{"may not list", "podtemplates"} {
		if !strings.Contains(out+stderr, want) {
			t.Errorf("plan create did not warn %q:\n%s\n%s", want, out, stderr)
		}
	}
	out, stderr, err = ferry(t, append([]string{"plan", "create", "others", "--from", "src", "--to", "src", "-n", teamB + ":" + teamA2}, alice...)...)
	if err == nil || !strings.Contains(out+stderr+err.Error(), ferryv1.ReasonNotPermitted) || !strings.Contains(out+stderr+err.Error(), teamB) {
		t.Errorf("plan naming %s: %v\n%s\n%s", teamB, err, out, stderr)
	}

	// Their console, in their namespace, with a controller run as them.
	con := startCommand(t, append([]string{"console"}, alice...)...)
	m := waitOutput(t, con, regexp.MustCompile(`(http://127\.0\.0\.1:\d+)/\?key=([A-Za-z0-9_-]+)`))
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if code, body := consoleDo(t, hc, "POST", m[1]+"/api/session", `{"key":"`+m[2]+`"}`); code != http.StatusOK || !strings.Contains(body, "system:serviceaccount:"+teamA+":alice") {
		t.Fatalf("sign in to the namespace admin's console: %d %s", code, body)
	}
	if code, body := consoleDo(t, hc, "GET", m[1]+"/api/plans", ""); code != http.StatusOK || !strings.Contains(body, `"name":"own"`) {
		t.Errorf("GET /api/plans of the namespace admin's console: %d %.300s", code, body)
	}
}

func mustCreate(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

// userKubeconfig writes a kubeconfig of the test API server that
// authenticates with token alone.
func userKubeconfig(t *testing.T, token string) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	kc.AuthInfos["user"] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "user"}
	kc.CurrentContext = "envtest"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}
