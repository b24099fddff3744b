//go:build envtest

package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// fixture is a console on the test API server, in a Ferry namespace of
// its own, with a stand-in for the controller that validates plans and
// checks repositories.
type fixture struct {
	t    *testing.T
	ns   string
	key  string
	srv  *Server
	url  string
	ctx  context.Context
	stop context.CancelFunc
}

func newFixture(t *testing.T, mode Mode) *fixture {
	t.Helper()
	ns := "ferry-console-" + rand.String(5)
	if err := env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	return newFixtureWith(t, Options{Mode: mode, Namespace: ns, Host: env.Config, Client: env.Client})
}

// newFixtureWith is a console of opts (in opts.Namespace, which exists)
// with the fixture's key, keep-alive and logger.
func newFixtureWith(t *testing.T, opts Options) *fixture {
	t.Helper()
	f := &fixture{t: t, ns: opts.Namespace, key: NewLocalKey()}
	f.ctx, f.stop = context.WithCancel(context.Background())
	t.Cleanup(f.stop)
	opts.LocalKey, opts.KeepAlive, opts.Logger = f.key, 500*time.Millisecond, testr.New(t)
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(f.ctx); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	hs.Config.BaseContext = func(net.Listener) context.Context { return f.ctx }
	hs.Start()
	t.Cleanup(hs.Close)
	t.Cleanup(f.stop) // runs first: open event streams end
	f.srv, f.url = srv, hs.URL
	go f.playController()
	return f
}

func (f *fixture) create(obj client.Object) {
	f.t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		f.t.Fatal(err)
	}
}

// playController marks every plan validated (Ready) for its current
// request and every repository checked, as the controller would.
func (f *fixture) playController() {
	_ = wait.PollUntilContextCancel(f.ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		var plans ferryv1.PlanList
		if err := env.Client.List(ctx, &plans, client.InNamespace(f.ns)); err == nil {
			for i := range plans.Items {
				p := &plans.Items[i]
				tok := p.Annotations[ferryv1.AnnotationValidate]
				if p.Status.ObservedValidate == tok && p.Status.ObservedGeneration == p.Generation {
					continue
				}
				p.Status.ObservedGeneration, p.Status.ObservedValidate = p.Generation, tok
				meta.SetStatusCondition(&p.Status.Conditions, metav1.Condition{Type: ferryv1.ConditionReady, Status: metav1.ConditionTrue,
					Reason: ferryv1.ReasonReady, Message: "checked by the test", ObservedGeneration: p.Generation})
				_ = env.Client.Status().Update(ctx, p)
			}
		}
		var repos ferryv1.RepositoryList
		if err := env.Client.List(ctx, &repos, client.InNamespace(f.ns)); err == nil {
			for i := range repos.Items {
				r := &repos.Items[i]
				if c := meta.FindStatusCondition(r.Status.Conditions, ferryv1.ConditionReady); c != nil && c.ObservedGeneration == r.Generation {
					continue
				}
				r.Status.LastChecked = &metav1.Time{Time: time.Now()}
				meta.SetStatusCondition(&r.Status.Conditions, metav1.Condition{Type: ferryv1.ConditionReady, Status: metav1.ConditionTrue,
					Reason: "Ready", Message: "checked by the test", ObservedGeneration: r.Generation})
				_ = env.Client.Status().Update(ctx, r)
			}
		}
		return false, nil
	})
}

// serviceAccount creates a service account in the fixture's namespace,
// binds rules to it there (none: no rights), waits until RBAC sees them
// and returns a token of it.
func (f *fixture) serviceAccount(name string, rules ...rbacv1.PolicyRule) string {
	f.t.Helper()
	ctx := context.Background()
	f.create(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns}})
	if len(rules) > 0 {
		f.create(&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns}, Rules: rules})
		f.create(&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: f.ns}}})
		f.waitAllowed(name, rules[0])
	}
	tr, err := env.Kube.CoreV1().ServiceAccounts(f.ns).CreateToken(ctx, name,
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return tr.Status.Token
}

// waitAllowed waits until RBAC's cache allows the service account the
// rule's first verb on its first resource.
func (f *fixture) waitAllowed(sa string, rule rbacv1.PolicyRule) {
	f.t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		res := rule.Resources[0]
		if res == "*" {
			res = "plans"
		}
		got, err := env.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
			User: "system:serviceaccount:" + f.ns + ":" + sa, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + f.ns},
			ResourceAttributes: &authzv1.ResourceAttributes{Namespace: f.ns, Verb: rule.Verbs[0], Group: ferryv1.GroupVersion.Group, Resource: res}}}, metav1.CreateOptions{})
		return err == nil && got.Status.Allowed, nil
	})
	if err != nil {
		f.t.Fatalf("RBAC never allowed %s: %v", sa, err)
	}
}

// browser is a signed-in browser: its cookie jar and CSRF token.
type browser struct {
	t    *testing.T
	url  string
	hc   *http.Client
	csrf string
	user string
}

// signIn starts a session with a token (ModeToken) or the key (ModeLocal).
func (f *fixture) signIn(body string) *browser {
	f.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: f.t, url: f.url, hc: &http.Client{Jar: jar, Timeout: 2 * time.Minute}}
	code, raw, _ := b.do(http.MethodPost, "/api/session", body)
	if code != http.StatusOK {
		f.t.Fatalf("sign in: %d %s", code, raw)
	}
	var info sessionInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		f.t.Fatal(err)
	}
	b.csrf, b.user = info.CSRF, info.User
	return b
}

func tokenBody(tok string) string { return fmt.Sprintf(`{"token":%q}`, tok) }

// do sends a request with the session's cookie and CSRF header.
func (b *browser) do(method, path, body string) (int, []byte, http.Header) {
	b.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.url+path, r)
	if err != nil {
		b.t.Fatal(err)
	}
	if b.csrf != "" {
		req.Header.Set(CSRFHeader, b.csrf)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, resp.Header
}

// stream reads server-sent events of /api/events until ctx ends.
type stream struct {
	events chan sse
	resp   *http.Response
}

type sse struct {
	kind string
	data string
	at   time.Time
}

func (b *browser) events(ctx context.Context) (*stream, int) {
	b.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.url+"/api/events", nil)
	if err != nil {
		b.t.Fatal(err)
	}
	hc := &http.Client{Jar: b.hc.Jar} // no timeout: a stream stays open
	resp, err := hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, resp.StatusCode
	}
	s := &stream{events: make(chan sse, 1024), resp: resp}
	go func() {
		defer resp.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				cur.kind = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				cur.data = strings.TrimPrefix(line, "data: ")
			case strings.HasPrefix(line, ":"):
				s.events <- sse{kind: "comment", data: line, at: time.Now()}
			case line == "" && cur.kind != "":
				cur.at = time.Now()
				s.events <- cur
				cur = sse{}
			}
		}
	}()
	return s, http.StatusOK
}

// waitFor returns the first event that match accepts, failing after a
// generous deadline; skipped are the events it passed over.
func (s *stream) waitFor(t *testing.T, what string, match func(sse) bool) (got sse, skipped []sse) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("the event stream ended before %s", what)
			}
			if match(ev) {
				return ev, skipped
			}
			skipped = append(skipped, ev)
		case <-deadline:
			t.Fatalf("no %s within 30s", what)
		}
	}
}

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }
