//go:build envtest

package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// startCommand runs a long-lived command until the test ends, and
// returns its output so far as it grows.
func startCommand(t *testing.T, args ...string) *harness.SyncBuffer {
	t.Helper()
	var out harness.SyncBuffer
	cmd := NewRootCommand()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel() // as Ctrl-C does
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s ended with %v\n%s", args[0], err, out.String())
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not stop", args[0])
		}
	})
	return &out
}

// waitOutput waits until re matches the output and returns its groups.
func waitOutput(t *testing.T, out *harness.SyncBuffer, re *regexp.Regexp) []string {
	t.Helper()
	var m []string
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		m = re.FindStringSubmatch(out.String())
		return m != nil, nil
	})
	if err != nil {
		t.Fatalf("no %s in the output:\n%s", re, out.String())
	}
	return m
}

// consolePost posts a JSON body with the client's cookies.
func consoleDo(t *testing.T, hc *http.Client, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// TestConsoleCommand: `ferry console` prints a URL whose key signs a
// browser in once, and then serves the API as the kubeconfig's user.
func TestConsoleCommand(t *testing.T) {
	host, _ := hostFlags(t)
	out := startCommand(t, append([]string{"console", "--run-controller=false"}, host...)...)
	m := waitOutput(t, out, regexp.MustCompile(`(http://127\.0\.0\.1:\d+)/\?key=([A-Za-z0-9_-]+)`))
	base, key := m[1], m[2]
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if code, body := consoleDo(t, hc, "POST", base+"/api/session", `{"key":"`+key+`"}`); code != http.StatusOK || !strings.Contains(body, `"mode":"local"`) {
		t.Fatalf("sign in: %d %s", code, body)
	}
	if code, body := consoleDo(t, hc, "GET", base+"/api/plans", ""); code != http.StatusOK || !strings.Contains(body, `"items":[]`) {
		t.Errorf("GET /api/plans: %d %s", code, body)
	}
	if code, _ := consoleDo(t, &http.Client{}, "POST", base+"/api/session", `{"key":"`+key+`"}`); code != http.StatusUnauthorized {
		t.Errorf("the key a second time: %d, want 401", code)
	}
	if code, body := consoleDo(t, hc, "GET", base+"/", ""); code != http.StatusOK || !strings.Contains(body, "<html") {
		t.Errorf("GET /: %d %.200s", code, body)
	}
}

// TestControllerConsole: `ferry controller --console ADDR` signs users in
// with a token of the host and serves the API with their rights.
func TestControllerConsole(t *testing.T) {
	host, ns := hostFlags(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	out := startCommand(t, append([]string{"controller", "--console", addr}, host...)...)
	waitOutput(t, out, regexp.MustCompile(`console serving`))

	ctx := context.Background()
	if _, err := env.Kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "viewer"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := env.Kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "viewer",
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	base := "http://" + addr
	code, body := consoleDo(t, hc, "POST", base+"/api/session", fmt.Sprintf(`{"token":%q}`, tr.Status.Token))
	if code != http.StatusOK || !strings.Contains(body, "system:serviceaccount:"+ns+":viewer") || strings.Contains(body, tr.Status.Token) {
		t.Fatalf("sign in: %d %s", code, body)
	}
	if code, body := consoleDo(t, hc, "GET", base+"/api/plans", ""); code != http.StatusForbidden || !strings.Contains(body, "list plans.ferry.dev") {
		t.Errorf("GET /api/plans without rights: %d %s, want 403", code, body)
	}

	// With the right to list plans, the viewer's event stream (fed by the
	// controller's own cache) brings a new plan.
	rule := rbacv1.PolicyRule{APIGroups: []string{ferryv1.GroupVersion.Group}, Resources: []string{"plans"}, Verbs: []string{"list", "get"}}
	if err := env.Client.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "viewer", Namespace: ns}, Rules: []rbacv1.PolicyRule{rule}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "viewer", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "viewer"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "viewer", Namespace: ns}}}); err != nil {
		t.Fatal(err)
	}
	// RBAC's cache, then the session's reuse of the refusal (10 s).
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		code, _ := consoleDo(t, hc, "GET", base+"/api/plans", "")
		return code == http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("the viewer never got to list plans: %v", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, base+"/api/events", nil)
	resp, err := (&http.Client{Jar: jar}).Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/events: %v %v", resp, err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for l := range lines {
		if l == ": connected" {
			break
		}
	}
	if err := env.Client.Create(ctx, &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Name: "watched", Namespace: ns},
		Spec: ferryv1.PlanSpec{SourceCluster: "a", DestinationCluster: "b", Namespaces: []string{"x"}}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the event stream ended")
			}
			if strings.HasPrefix(l, "data: ") && strings.Contains(l, `"name":"watched"`) {
				return
			}
		case <-deadline:
			t.Fatal("no event of the new plan within 30s")
		}
	}
}
