//go:build envtest

package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// apiFixtures are the objects the actions of TestRBAC work on: the host
// registered as cluster "host", a validated plan "shop" of a namespace
// that exists, a failed migration (to retry) and a running one (to
// cancel).
func (f *fixture) apiFixtures() (appNS string) {
	f.t.Helper()
	ctx := context.Background()
	appNS = "shop-" + rand.String(5)
	f.create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: appNS}})
	f.create(&ferryv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "host", Namespace: f.ns}, Spec: ferryv1.ClusterSpec{IsHost: true}})
	f.create(&ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: f.ns},
		Spec: ferryv1.PlanSpec{SourceCluster: "host", DestinationCluster: "host", Namespaces: []string{appNS + ":" + appNS + "-copy"}}})
	for name, phase := range map[string]ferryv1.MigrationPhase{"shop-failed": ferryv1.MigrationFailed, "shop-running": ferryv1.MigrationRunning} {
		m := &ferryv1.Migration{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns, Labels: map[string]string{ferryv1.LabelPlan: "shop"}},
			Spec: ferryv1.MigrationSpec{Plan: "shop", Type: ferryv1.MigrationStage}}
		f.create(m)
		now := metav1.Now()
		m.Status = ferryv1.MigrationStatus{Phase: phase, StartTime: &now, Errors: []string{"step CopyVolumes: boom"},
			Itinerary: []ferryv1.Step{{Name: "Validate", Phase: ferryv1.StepSucceeded, Started: &metav1.MicroTime{Time: now.Add(-3 * time.Second)},
				Completed: &metav1.MicroTime{Time: now.Add(-time.Second)}, Attempts: 1}}}
		if err := env.Client.Status().Update(ctx, m); err != nil {
			f.t.Fatal(err)
		}
	}
	// A pod labelled with the failed migration, for its debug view.
	f.create(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "mover", Namespace: appNS, Labels: map[string]string{ferryv1.LabelMigration: "shop-failed", ferryv1.LabelPlan: "shop"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "mover", Image: "ferry:dev"}}}})
	f.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "mover-tls", Namespace: appNS, Labels: map[string]string{ferryv1.LabelMigration: "shop-failed", ferryv1.LabelPlan: "shop"}},
		Data: map[string][]byte{"tls.key": []byte("very secret key")}})
	return appNS
}

// action is one request of the API and what it needs.
type action struct {
	method, path, body string
	// verb and resource name the RBAC rule a refusal must name.
	verb, resource string
	// wantCode is the answer of a user with the rights.
	wantCode int
}

// actions are every API action on the fixtures, in an order in which
// they all succeed for a user with the rights.
func (f *fixture) actions(appNS, adminToken string) []action {
	planSpec := fmt.Sprintf(`{"sourceCluster":"host","destinationCluster":"host","namespaces":[%q]}`, appNS+":"+appNS+"-web")
	cluster := fmt.Sprintf(`{"name":"again","server":%q,"token":%q,"caBundle":%q,"role":"both"}`, env.Config.Host, adminToken, string(env.Config.CAData))
	return []action{
		{"GET", "/api/clusters", "", "list", "clusters", 200},
		{"GET", "/api/clusters/host/namespaces?search=" + appNS, "", "get", "clusters", 200},
		{"POST", "/api/clusters", cluster, "create", "clusters", 201},
		{"DELETE", "/api/clusters/again", "", "delete", "clusters", 204},
		{"GET", "/api/repositories", "", "list", "repositories", 200},
		{"POST", "/api/repositories", `{"name":"bucket","endpoint":"http://127.0.0.1:1","bucket":"ferry","pathStyle":true,"accessKey":"a","secretKey":"b"}`, "create", "repositories", 201},
		{"DELETE", "/api/repositories/bucket", "", "delete", "repositories", 204},
		{"GET", "/api/hooks", "", "list", "hooks", 200},
		{"GET", "/api/plans", "", "list", "plans", 200},
		{"GET", "/api/plans/shop", "", "get", "plans", 200},
		{"POST", "/api/plans", `{"name":"web","spec":` + planSpec + `}`, "create", "plans", 201},
		{"PUT", "/api/plans/web", `{"spec":` + strings.Replace(planSpec, `"namespaces"`, `"excludedKinds":["ConfigMap"],"namespaces"`, 1) + `}`, "update", "plans", 200},
		{"GET", "/api/plans/web/review", "", "get", "plans", 200},
		{"POST", "/api/plans/web/migrations", `{"type":"Stage"}`, "create", "migrations", 201},
		{"GET", "/api/migrations?plan=shop", "", "list", "migrations", 200},
		{"GET", "/api/migrations/shop-failed", "", "get", "migrations", 200},
		{"POST", "/api/migrations/shop-failed/retry", "", "patch", "migrations", 200},
		{"POST", "/api/migrations/shop-running/cancel", "", "patch", "migrations", 200},
		{"GET", "/api/migrations/shop-failed/report?download=1", "", "get", "migrations", 200},
		{"GET", "/api/migrations/shop-failed/debug", "", "get", "migrations", 200},
		{"DELETE", "/api/plans/web", "", "delete", "plans", 202},
	}
}

// adminToken is a token of a cluster administrator of the test API
// server, as a user pastes one to register a cluster.
func (f *fixture) adminToken() string {
	f.t.Helper()
	tok := f.serviceAccount("admin")
	f.create(&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: f.ns + "-admin"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "admin", Namespace: f.ns}}})
	f.t.Cleanup(func() {
		_ = env.Client.Delete(context.Background(), &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: f.ns + "-admin"}})
	})
	f.waitAllowed("admin", rbacv1.PolicyRule{Verbs: []string{"create"}, Resources: []string{"plans"}})
	return tok
}

func TestRBAC(t *testing.T) {
	f := newFixture(t, ModeToken)
	appNS := f.apiFixtures()
	actions := f.actions(appNS, f.adminToken())
	nobody := f.signIn(tokenBody(f.serviceAccount("nobody")))
	operator := f.signIn(tokenBody(f.serviceAccount("operator",
		rbacv1.PolicyRule{APIGroups: []string{ferryv1.GroupVersion.Group}, Resources: []string{"*"}, Verbs: []string{"*"}})))
	if want := "system:serviceaccount:" + f.ns + ":operator"; operator.user != want {
		t.Errorf("session user %q, want %q", operator.user, want)
	}

	t.Run("without rights", func(t *testing.T) {
		for _, a := range actions {
			code, body, _ := nobody.do(a.method, a.path, a.body)
			want := a.verb + " " + a.resource + ".ferry.dev"
			if code != http.StatusForbidden || !strings.Contains(string(body), want) {
				t.Errorf("%s %s: %d %s, want 403 naming %q", a.method, a.path, code, body, want)
			}
		}
		if _, code := nobody.events(context.Background()); code != http.StatusForbidden {
			t.Errorf("GET /api/events: %d, want 403", code)
		}
	})
	t.Run("with rights", func(t *testing.T) {
		for _, a := range actions {
			start := time.Now()
			code, body, h := operator.do(a.method, a.path, a.body)
			if code != a.wantCode {
				t.Fatalf("%s %s: %d %s, want %d", a.method, a.path, code, body, a.wantCode)
			}
			t.Logf("%s %s: %d in %s (warnings %q)", a.method, a.path, code, time.Since(start).Round(time.Millisecond), h.Values("Warning"))
			// The grant is made with the user's own token, which may not.
			if a.method == "POST" && a.path == "/api/plans" && !strings.Contains(strings.Join(h.Values("Warning"), " "), "system:serviceaccount:"+f.ns+":operator") {
				t.Errorf("POST /api/plans: warnings %q, want the grant refused to the operator's own identity", h.Values("Warning"))
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if _, code := operator.events(ctx); code != http.StatusOK {
			t.Errorf("GET /api/events: %d, want 200", code)
		}
	})
	t.Run("tokens are not echoed", func(t *testing.T) {
		tok := f.serviceAccount("secretive")
		jar := f.signIn(tokenBody(tok))
		_, body, _ := jar.do("GET", "/api/session", "")
		if strings.Contains(string(body), tok) {
			t.Error("GET /api/session echoes the token")
		}
		code, body, _ := (&browser{t: t, url: f.url, hc: http.DefaultClient}).do("POST", "/api/session", tokenBody(tok+"x"))
		if code != http.StatusUnauthorized || strings.Contains(string(body), tok) {
			t.Errorf("a bad token: %d %s, want 401 without the token", code, body)
		}
	})
}

func TestAnswers(t *testing.T) {
	f := newFixture(t, ModeToken)
	appNS := f.apiFixtures()
	b := f.signIn(tokenBody(f.serviceAccount("operator",
		rbacv1.PolicyRule{APIGroups: []string{ferryv1.GroupVersion.Group}, Resources: []string{"*"}, Verbs: []string{"*"}})))

	code, body, _ := b.do("GET", "/api/plans", "")
	var plans struct{ Items []ferryv1.Plan }
	if err := json.Unmarshal(body, &plans); err != nil || code != 200 || len(plans.Items) != 1 || plans.Items[0].Kind != "Plan" {
		t.Errorf("GET /api/plans: %d %s, want one Plan with its kind", code, body)
	}
	code, body, h := b.do("GET", "/api/migrations/shop-failed/report?download=1", "")
	var rep migrationReport
	if err := json.Unmarshal(body, &rep); err != nil || code != 200 {
		t.Fatalf("report: %d %s", code, body)
	}
	if rep.Phase != ferryv1.MigrationFailed || len(rep.Steps) != 1 || rep.Steps[0].Seconds < 1.9 || rep.Steps[0].Seconds > 2.1 ||
		!strings.Contains(h.Get("Content-Disposition"), "shop-failed-report.json") {
		t.Errorf("report %+v (%s): want Failed with one step of 2s, as a download", rep, h.Get("Content-Disposition"))
	}
	code, body, _ = b.do("GET", "/api/migrations/shop-failed/debug", "")
	var dbg debugView
	if err := json.Unmarshal(body, &dbg); err != nil || code != 200 || len(dbg.Clusters) != 1 {
		t.Fatalf("debug: %d %s", code, body)
	}
	// Other tests' fixtures hold migrations of the same name in other
	// Ferry namespaces of the test cluster: look at this one's.
	kinds := map[string]debugObject{}
	for _, o := range dbg.Clusters[0].Objects {
		if o.Namespace == appNS {
			kinds[o.Kind] = o
		}
	}
	pod, sec := kinds["Pod"], kinds["Secret"]
	if pod.Name != "mover" || pod.Namespace != appNS || !strings.Contains(pod.YAML, "image: ferry:dev") || !strings.HasPrefix(pod.Kubectl, "kubectl --context host get pod mover -n "+appNS) {
		t.Errorf("debug pod %+v", pod)
	}
	if sec.Name != "mover-tls" || strings.Contains(sec.YAML, "very secret") || strings.Contains(sec.YAML, "dmVyeSBzZWNyZXQga2V5") {
		t.Errorf("debug secret %q: want it listed without its value", sec.YAML)
	}
	code, body, _ = b.do("GET", "/api/plans/shop/review", "")
	var rev planReview
	if err := json.Unmarshal(body, &rev); err != nil || code != 200 || rev.Problems == nil || rev.Changes == nil {
		t.Errorf("review: %d %s", code, body)
	}
	code, body, _ = b.do("POST", "/api/plans/shop/migrations", `{"type":"Sideways"}`)
	if code != http.StatusBadRequest || !strings.Contains(string(body), "Stage") {
		t.Errorf("a bad migration type: %d %s, want 400 that names the types", code, body)
	}
	code, body, _ = b.do("GET", "/api/plans/nothing", "")
	if code != http.StatusNotFound {
		t.Errorf("a missing plan: %d %s, want 404", code, body)
	}
	code, _, _ = b.do("POST", "/api/plans", `{"name":"shop","spec":{"sourceCluster":"host","destinationCluster":"host","namespaces":["a"]}}`)
	if code != http.StatusConflict {
		t.Errorf("a plan that exists: %d, want 409", code)
	}
	// A running migration of the plan: another one is refused.
	p := &ferryv1.Plan{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: "shop"}, p); err != nil {
		t.Fatal(err)
	}
	p.Status.ActiveMigration = "shop-running"
	if err := env.Client.Status().Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	code, body, _ = b.do("POST", "/api/plans/shop/migrations", `{"type":"Cutover","quiesce":false}`)
	if code != http.StatusConflict || !strings.Contains(string(body), "shop-running") {
		t.Errorf("a second migration: %d %s, want 409 naming the running one", code, body)
	}
}

// TestPlanGrantWithARequestToken: a token given for a cluster in the
// request grants Ferry the plan's namespaces there.
func TestPlanGrantWithARequestToken(t *testing.T) {
	f := newFixture(t, ModeToken)
	appNS := f.apiFixtures()
	admin := f.adminToken()
	b := f.signIn(tokenBody(f.serviceAccount("operator",
		rbacv1.PolicyRule{APIGroups: []string{ferryv1.GroupVersion.Group}, Resources: []string{"*"}, Verbs: []string{"*"}})))
	body := fmt.Sprintf(`{"name":"granted","spec":{"sourceCluster":"host","destinationCluster":"host","namespaces":[%q]},"credentials":{"host":%q}}`,
		appNS+":"+appNS+"-granted", admin)
	code, raw, h := b.do("POST", "/api/plans", body)
	if code != http.StatusCreated || len(h.Values("Warning")) != 0 {
		t.Fatalf("POST /api/plans with a token for host: %d %s, warnings %q", code, raw, h.Values("Warning"))
	}
	if strings.Contains(string(raw), admin) {
		t.Error("the answer echoes the request's token")
	}
	var rbs rbacv1.RoleBindingList
	if err := env.Client.List(context.Background(), &rbs, client.InNamespace(appNS), client.MatchingLabels{ferryv1.LabelGrantPlan: "granted"}); err != nil {
		t.Fatal(err)
	}
	if len(rbs.Items) != 1 {
		t.Errorf("%d grants of plan granted in %s, want 1", len(rbs.Items), appNS)
	}
}

func TestLocalMode(t *testing.T) {
	f := newFixture(t, ModeLocal)
	b := f.signIn(fmt.Sprintf(`{"key":%q}`, f.key))
	// The kubeconfig's user, as the host's API server names it.
	self, err := env.Kube.AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b.user != self.Status.UserInfo.Username || b.user == "" {
		t.Errorf("session user %q, want %q", b.user, self.Status.UserInfo.Username)
	}
	if code, body, _ := b.do("GET", "/api/plans", ""); code != 200 || string(body) != "{\"items\":[]}\n" {
		t.Errorf("GET /api/plans: %d %q", code, body)
	}
	again := &browser{t: t, url: f.url, hc: http.DefaultClient}
	if code, _, _ := again.do("POST", "/api/session", fmt.Sprintf(`{"key":%q}`, f.key)); code != http.StatusUnauthorized {
		t.Errorf("the key a second time: %d, want 401", code)
	}
}

func TestEventsDeliverAPlanStatusChange(t *testing.T) {
	f := newFixture(t, ModeToken)
	f.apiFixtures()
	all := f.signIn(tokenBody(f.serviceAccount("operator",
		rbacv1.PolicyRule{APIGroups: []string{ferryv1.GroupVersion.Group}, Resources: []string{"*"}, Verbs: []string{"*"}})))
	plansOnly := f.signIn(tokenBody(f.serviceAccount("planner",
		rbacv1.PolicyRule{APIGroups: []string{ferryv1.GroupVersion.Group}, Resources: []string{"plans"}, Verbs: []string{"list"}})))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	allStream, _ := all.events(ctx)
	planStream, code := plansOnly.events(ctx)
	if code != http.StatusOK {
		t.Fatalf("events of a user who may list plans: %d", code)
	}
	allStream.waitFor(t, "the connected comment", func(e sse) bool { return e.kind == "comment" })
	planStream.waitFor(t, "the connected comment", func(e sse) bool { return e.kind == "comment" })

	// A Cluster change reaches the user who may list Clusters first: by
	// then it was queued for every stream.
	var cl ferryv1.Cluster
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "host"}, &cl); err != nil {
		t.Fatal(err)
	}
	cl.Labels = map[string]string{"touched": "yes"}
	if err := env.Client.Update(ctx, &cl); err != nil {
		t.Fatal(err)
	}
	allStream.waitFor(t, "the Cluster change", func(e sse) bool { return e.kind == "Cluster" && strings.Contains(e.data, `"touched":"yes"`) })

	var p ferryv1.Plan
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "shop"}, &p); err != nil {
		t.Fatal(err)
	}
	marker := "marker-" + rand.String(8)
	p.Status.Warnings = []string{marker}
	changed := time.Now()
	if err := env.Client.Status().Update(ctx, &p); err != nil {
		t.Fatal(err)
	}
	ev, skipped := planStream.waitFor(t, "the Plan status change", func(e sse) bool { return e.kind == "Plan" && strings.Contains(e.data, marker) })
	t.Logf("a Plan status change reached the browser %s after the update", ev.at.Sub(changed))
	var msg struct {
		Type   string       `json:"type"`
		Object ferryv1.Plan `json:"object"`
	}
	if err := json.Unmarshal([]byte(ev.data), &msg); err != nil || msg.Type != "MODIFIED" || msg.Object.Kind != "Plan" || msg.Object.Name != "shop" {
		t.Errorf("event %s: want a MODIFIED Plan shop", ev.data)
	}
	for _, e := range skipped {
		if e.kind == "Cluster" {
			t.Errorf("a user who may list only plans got a Cluster event: %s", e.data)
		}
	}
	// The keep-alive comment comes by itself.
	planStream.waitFor(t, "a keep-alive comment", func(e sse) bool { return e.data == ": keep-alive" })
}

func TestNamespacesPagedOnTheServer(t *testing.T) {
	f := newFixture(t, ModeLocal)
	f.create(&ferryv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "host", Namespace: f.ns}, Spec: ferryv1.ClusterSpec{IsHost: true}})
	// 10,000 namespaces (20 list chunks), created in parallel.
	const n = 10000
	prefix := "pg-" + rand.String(4)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				_, err := env.Kube.CoreV1().Namespaces().Create(context.Background(),
					&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%04d", prefix, i)}}, metav1.CreateOptions{})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("created %d namespaces in %s", n, time.Since(start).Round(time.Millisecond))
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: prefix + "-0007"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: mustQuantity("1Gi")}}}}
	f.create(claim)

	b := f.signIn(fmt.Sprintf(`{"key":%q}`, f.key))
	get := func(query string) namespacePage {
		t.Helper()
		start := time.Now()
		code, body, _ := b.do("GET", "/api/clusters/host/namespaces?"+query, "")
		if code != 200 {
			t.Fatalf("%s: %d %s", query, code, body)
		}
		t.Logf("namespaces?%s answered in %s", query, time.Since(start).Round(time.Millisecond))
		var page namespacePage
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		return page
	}
	first := get("search=" + prefix + "&limit=500")
	if first.Total != n || len(first.Items) != 500 || first.Items[0].Name != prefix+"-0000" || first.Items[7].Claims != 1 || first.Items[8].Claims != 0 {
		t.Errorf("first page: total %d, %d items, first %+v, claims of 7 and 8: %d %d", first.Total, len(first.Items), first.Items[0], first.Items[7].Claims, first.Items[8].Claims)
	}
	last := get("search=" + prefix + "&offset=9950&limit=100")
	if last.Total != n || len(last.Items) != 50 || last.Items[49].Name != fmt.Sprintf("%s-%04d", prefix, n-1) {
		t.Errorf("last page: total %d, %d items", last.Total, len(last.Items))
	}
	one := get("search=" + strings.ToUpper(prefix) + "-1111")
	if one.Total != 1 || one.Items[0].Name != prefix+"-1111" || one.Items[0].Phase != corev1.NamespaceActive {
		t.Errorf("search of one: %+v", one)
	}
	code, body, _ := b.do("GET", "/api/clusters/host/namespaces?limit=501", "")
	if code != http.StatusBadRequest {
		t.Errorf("limit 501: %d %s, want 400", code, body)
	}
}
