//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
	"ferry.dev/ferry/test/openshift"
	"ferry.dev/ferry/test/sniproxy"
)

// TestOpenShiftKinds migrates, with a rename, a namespace holding the
// OpenShift kinds Ferry handles, on clusters that serve their APIs
// (the test bed's CRDs, installed here on both clusters and left there:
// no OpenShift controller runs, so nothing acts on them):
//
//   - an SCC naming the namespace's service account, which exists on the
//     destination with a stricter definition: the renamed subjects are
//     merged into it, its definition is kept, and rollback takes the
//     subjects out again; a second SCC that only the source has is
//     created and removed by rollback;
//   - Routes with a generated host under a mapped domain (moved), a
//     generated host under another domain (dropped) and a chosen host
//     with TLS (kept);
//   - a DeploymentConfig mounting a claim: scaled to 0 on the source (no
//     controller makes pods for it here, so only its spec is checked),
//     applied with its replicas and its trigger moved to the renamed
//     namespace, restored by rollback; the claim's data is copied;
//   - an ImageStream with an internal tag (pushed to the source registry)
//     and an external one: the internal image is in the destination's
//     registry with the same digest and the stream names it there;
//   - the destination is registered with --mover-service Route: the
//     claim's data goes through a passthrough Route, and the test plays
//     the router (openshift.Router: it admits the Route under a host the
//     source's DNS resolves to it and forwards by SNI).
func TestOpenShiftKinds(t *testing.T) {
	withClusterWrites(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ctx := context.Background()
	for _, c := range []*harness.Cluster{src, dst} {
		if err := openshift.Install(ctx, c.Dynamic); err != nil {
			t.Fatalf("install the OpenShift CRDs on %s: %v", c.Name, err)
		}
	}
	registerWithRegistries(t, src, dst, "--cluster-scoped-writes")
	mustFerry(t, "cluster", "add", "os-dst", "--kubeconfig", dst.Kubeconfig, "--registry", dst.Registry, "--registry-insecure",
		"--mover-service", "Route", "--cluster-scoped-writes")
	ns := src.Namespace(t, "os-e2e")
	moved := ns + "-moved"
	plan := "os-e2e"
	mergedSCC, newSCC := "ferry-e2e-"+ns, "ferry-e2e-only-"+ns
	t.Cleanup(func() {
		deletePlan(t, plan)
		deleteNamespace(t, dst, moved)
		for _, c := range []*harness.Cluster{src, dst} {
			for _, n := range []string{mergedSCC, newSCC} {
				_ = c.Dynamic.Resource(openshift.SCCs).Delete(context.Background(), n, metav1.DeleteOptions{})
			}
		}
	})

	createOrFail(t, src, src.Kube.CoreV1().ServiceAccounts(ns).Create, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "app"}})
	saUser, saGroup := "system:serviceaccount:"+ns+":app", "system:serviceaccounts:"+ns
	movedUser, movedGroup := "system:serviceaccount:"+moved+":app", "system:serviceaccounts:"+moved
	createObject(t, src, openshift.SCCs, sccObject(mergedSCC, true, []string{saUser, "system:serviceaccount:elsewhere:x"}, []string{saGroup}))
	createObject(t, src, openshift.SCCs, sccObject(newSCC, false, []string{saUser}, nil))
	createObject(t, dst, openshift.SCCs, sccObject(mergedSCC, false, []string{"system:serviceaccount:ops:agent"}, nil))

	createRoutes(t, src, ns)
	digest := createImageStream(t, src, ns)
	t.Cleanup(func() {
		deleteManifests(t, nil, src.Registry+"/"+ns+"/web:v1", dst.Registry+"/"+moved+"/web:v1")
	})
	createDeploymentConfig(t, src, ns)
	rt := playRouter(t, dst, moved, ns)

	mustFerry(t, "plan", "create", plan, "--from", "img-src", "--to", "os-dst", "-n", ns+":"+moved,
		"--route-domain-map", "apps.src.example=apps.dst.example")
	m := migration(t, createdMigration(t, mustFerry(t, "cutover", plan, "--wait")))
	for _, s := range m.Status.Itinerary {
		t.Logf("step %-20s %s: %s", s.Name, s.Phase, s.Message)
	}
	if s := step(m, "MigrateResources"); s == nil || !strings.Contains(s.Message, "SecurityContextConstraints "+mergedSCC+" conflicts") ||
		!strings.Contains(s.Message, "allowPrivilegedContainer") {
		t.Errorf("MigrateResources does not report the SCC conflict: %+v", s)
	}

	// SCCs: merged into the existing one without loosening it; the
	// other created with the migrated subjects only.
	merged := getObject(t, dst, openshift.SCCs, "", mergedSCC)
	assertStrings(t, "users of the merged SCC", merged, []string{"system:serviceaccount:ops:agent", movedUser}, "users")
	assertStrings(t, "groups of the merged SCC", merged, []string{movedGroup}, "groups")
	if p, _, _ := unstructured.NestedBool(merged.Object, "allowPrivilegedContainer"); p {
		t.Error("the merge loosened allowPrivilegedContainer of the destination's SCC")
	}
	created := getObject(t, dst, openshift.SCCs, "", newSCC)
	assertStrings(t, "users of the created SCC", created, []string{movedUser}, "users")

	// Routes.
	for name, want := range map[string]string{"web": "web-" + moved + ".apps.dst.example", "legacy": "", "shop": "shop.example.com"} {
		r := getObject(t, dst, openshift.Routes, moved, name)
		if host, _, _ := unstructured.NestedString(r.Object, "spec", "host"); host != want {
			t.Errorf("Route %s on dst has host %q, want %q", name, host, want)
		}
		if _, found := r.Object["status"]; found {
			t.Errorf("Route %s on dst has the source's status", name)
		}
	}
	shop := getObject(t, dst, openshift.Routes, moved, "shop")
	if term, _, _ := unstructured.NestedString(shop.Object, "spec", "tls", "termination"); term != "edge" {
		t.Errorf("Route shop lost its TLS settings: %v", shop.Object["spec"])
	}

	// DeploymentConfig: quiesced on the source, applied whole.
	assertReplicas(t, src, ns, 0, "2")
	dc := getObject(t, dst, openshift.DeploymentConfigs, moved, "db")
	if r, _, _ := unstructured.NestedInt64(dc.Object, "spec", "replicas"); r != 2 || len(dc.GetAnnotations()) != 0 {
		t.Errorf("DeploymentConfig on dst: replicas %d, annotations %v; want 2 and none", r, dc.GetAnnotations())
	}
	triggers, _, _ := unstructured.NestedSlice(dc.Object, "spec", "triggers")
	if fromNS := fmt.Sprint(nestedValue(triggers, 0, "imageChangeParams", "from", "namespace")); fromNS != moved {
		t.Errorf("image change trigger on dst takes from namespace %s, want %s", fromNS, moved)
	}
	if got := volumeDigest(t, dst, moved, "db-data", -1); got != dcDataDigest {
		t.Errorf("claim db-data on dst holds %q, want %q", got, dcDataDigest)
	}
	if served, lastErr := rt.Served(); served == 0 {
		t.Errorf("the claim's data did not go through the Route (router's last error: %v)", lastErr)
	} else {
		t.Logf("the router forwarded %d connections by SNI %s", served, rt.Host)
	}

	// ImageStream: the internal tag's image copied with its digest and
	// named in the destination's registry; the external tag as it was.
	dstImage := dst.Registry + "/" + moved + "/web:v1"
	if h, err := remote.Head(ref(t, dstImage)); err != nil || h.Digest.String() != digest {
		t.Errorf("%s on dst: %v %v, want digest %s", dstImage, h, err, digest)
	}
	is := getObject(t, dst, openshift.ImageStreams, moved, "web")
	tags, _, _ := unstructured.NestedSlice(is.Object, "spec", "tags")
	wantTags := map[string]string{"upstream": "quay.example/library/nginx:1.27", "v1": dst.Registry + "/" + moved + "/web@" + digest}
	for _, tag := range tags {
		m, _ := tag.(map[string]any)
		name, _ := m["name"].(string)
		if got := fmt.Sprint(nestedValue([]any{m}, 0, "from", "name")); got != wantTags[name] {
			t.Errorf("ImageStream tag %s on dst comes from %s, want %s", name, got, wantTags[name])
		}
		delete(wantTags, name)
	}
	if len(wantTags) > 0 {
		t.Errorf("ImageStream tags missing on dst: %v (have %v)", wantTags, tags)
	}

	mustFerry(t, "rollback", plan, "--wait")
	merged = getObject(t, dst, openshift.SCCs, "", mergedSCC)
	assertStrings(t, "users of the merged SCC after rollback", merged, []string{"system:serviceaccount:ops:agent"}, "users")
	assertStrings(t, "groups of the merged SCC after rollback", merged, nil, "groups")
	if _, ok := merged.GetAnnotations()[ferryv1.AnnotationAddedSubjects]; ok {
		t.Errorf("annotation %s left on the merged SCC", ferryv1.AnnotationAddedSubjects)
	}
	if _, err := dst.Dynamic.Resource(openshift.SCCs).Get(ctx, newSCC, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("SCC %s created by the migration still on dst after rollback: %v", newSCC, err)
	}
	assertReplicas(t, src, ns, 2, "")
}

// playRouter plays OpenShift's router for the mover Routes in ns on c
// until the test ends: it admits them under a host that srcNS's pod
// records on the source resolve to c's root-namespace address.
func playRouter(t *testing.T, c *harness.Cluster, ns, srcNS string) *openshift.Router {
	t.Helper()
	u, err := url.Parse(c.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := openshift.StartRouter(c.Kube, c.Dynamic, ns, u.Hostname(), sniproxy.PodRecordHost(u.Hostname(), srcNS))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if err := rt.Admit(ctx); err != nil && ctx.Err() == nil {
				t.Logf("router: %v", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done; _ = rt.Close() })
	return rt
}

// dcDataDigest is volumeDigest of the DeploymentConfig's claim.
const dcDataDigest = "6 b1946ac92492d2347c6235b4d2611184"

func sccObject(name string, privileged bool, users, groups []string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "security.openshift.io/v1", "kind": "SecurityContextConstraints",
		"metadata":                 map[string]any{"name": name},
		"allowPrivilegedContainer": privileged,
		"runAsUser":                map[string]any{"type": "MustRunAsRange"},
		"volumes":                  []any{"configMap", "persistentVolumeClaim", "secret"},
	}}
	_ = unstructured.SetNestedStringSlice(u.Object, users, "users")
	if groups != nil {
		_ = unstructured.SetNestedStringSlice(u.Object, groups, "groups")
	}
	return u
}

// createRoutes makes a Route with a generated host under the mapped
// domain, one generated under another domain and one with a chosen host
// and TLS, each with a status as a router would write it.
func createRoutes(t *testing.T, c *harness.Cluster, ns string) {
	t.Helper()
	for name, host := range map[string]string{"web": "web-" + ns + ".apps.src.example", "legacy": "legacy-" + ns + ".apps.old.example", "shop": "shop.example.com"} {
		r := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "route.openshift.io/v1", "kind": "Route",
			"metadata": map[string]any{"name": name, "namespace": ns},
			"spec":     map[string]any{"host": host, "to": map[string]any{"kind": "Service", "name": "web"}},
		}}
		if name == "web" {
			r.SetAnnotations(map[string]string{"openshift.io/host.generated": "true"})
		}
		if name == "shop" {
			_ = unstructured.SetNestedField(r.Object, map[string]any{"termination": "edge"}, "spec", "tls")
		}
		got := createObject(t, c, openshift.Routes, r)
		got.Object["status"] = map[string]any{"ingress": []any{map[string]any{"host": host, "routerName": "default"}}}
		if _, err := c.Dynamic.Resource(openshift.Routes).Namespace(ns).UpdateStatus(context.Background(), got, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// createImageStream pushes an image to the source registry as
// NS/web:v1 and makes the ImageStream web with it as tag v1 (the status
// the integrated registry would write) and an external tag; it returns
// the image's digest.
func createImageStream(t *testing.T, c *harness.Cluster, ns string) string {
	t.Helper()
	tools, err := remote.Image(ref(t, c.Image(t, "tools")))
	if err != nil {
		t.Fatal(err)
	}
	img := testImage(t, tools, 40000)
	if err := remote.Push(ref(t, c.Registry+"/"+ns+"/web:v1"), img); err != nil {
		t.Fatal(err)
	}
	digest := digestOf(t, img)
	const external = "quay.example/library/nginx@sha256:0000000000000000000000000000000000000000000000000000000000000001"
	is := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
		"metadata": map[string]any{"name": "web", "namespace": ns},
		"spec": map[string]any{"tags": []any{map[string]any{"name": "upstream",
			"from": map[string]any{"kind": "DockerImage", "name": "quay.example/library/nginx:1.27"}}}},
	}}
	got := createObject(t, c, openshift.ImageStreams, is)
	got.Object["status"] = map[string]any{
		"dockerImageRepository": c.Registry + "/" + ns + "/web",
		"tags": []any{
			map[string]any{"tag": "v1", "items": []any{map[string]any{"dockerImageReference": c.Registry + "/" + ns + "/web@" + digest, "image": digest}}},
			map[string]any{"tag": "upstream", "items": []any{map[string]any{"dockerImageReference": external}}},
		},
	}
	if _, err := c.Dynamic.Resource(openshift.ImageStreams).Namespace(ns).UpdateStatus(context.Background(), got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	return digest
}

// createDeploymentConfig makes the claim db-data with "hello\n" in it
// and the DeploymentConfig db (2 replicas) that mounts it, with an image
// change trigger on web:v1 of its namespace.
func createDeploymentConfig(t *testing.T, c *harness.Cluster, ns string) {
	t.Helper()
	c.CreateClaim(t, ns, "db-data", "standard")
	c.RunPod(t, harness.NewPod(ns, "fill", c.Image(t, "tools"), "sh", "-c", "echo hello > /data/ticks.log").RestartNever().Claim("db-data", "/data").Pod())
	_ = c.Kube.CoreV1().Pods(ns).Delete(context.Background(), "fill", metav1.DeleteOptions{})
	if got := volumeDigest(t, c, ns, "db-data", -1); got != dcDataDigest {
		t.Fatalf("claim db-data on %s holds %q, want %q", c.Name, got, dcDataDigest)
	}
	tmpl := harness.NewPod("", "", c.Image(t, "tools"), "sleep", "3600").Labels(map[string]string{"app": "db"}).Claim("db-data", "/data").Template()
	tm, err := toMap(&tmpl)
	if err != nil {
		t.Fatal(err)
	}
	dc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig",
		"metadata": map[string]any{"name": "db", "namespace": ns},
		"spec": map[string]any{
			"replicas": int64(2), "selector": map[string]any{"app": "db"}, "template": tm,
			"triggers": []any{map[string]any{"type": "ImageChange", "imageChangeParams": map[string]any{
				"automatic": true, "containerNames": []any{"main"},
				"from": map[string]any{"kind": "ImageStreamTag", "namespace": ns, "name": "web:v1"}}}},
		},
	}}
	createObject(t, c, openshift.DeploymentConfigs, dc)
}

// assertReplicas checks the source DeploymentConfig's replicas and its
// original-replicas annotation ("" for none).
func assertReplicas(t *testing.T, c *harness.Cluster, ns string, replicas int64, original string) {
	t.Helper()
	dc := getObject(t, c, openshift.DeploymentConfigs, ns, "db")
	r, _, _ := unstructured.NestedInt64(dc.Object, "spec", "replicas")
	if got := dc.GetAnnotations()[ferryv1.AnnotationOriginalReplicas]; r != replicas || got != original {
		t.Errorf("DeploymentConfig on %s: replicas %d, original %q; want %d and %q", c.Name, r, got, replicas, original)
	}
}

func createObject(t *testing.T, c *harness.Cluster, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	var ri interface {
		Create(context.Context, *unstructured.Unstructured, metav1.CreateOptions, ...string) (*unstructured.Unstructured, error)
	} = c.Dynamic.Resource(gvr)
	if ns := obj.GetNamespace(); ns != "" {
		ri = c.Dynamic.Resource(gvr).Namespace(ns)
	}
	got, err := ri.Create(context.Background(), obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create %s %s on %s: %v", gvr.Resource, obj.GetName(), c.Name, err)
	}
	return got
}

func getObject(t *testing.T, c *harness.Cluster, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	var got *unstructured.Unstructured
	var err error
	if ns == "" {
		got, err = c.Dynamic.Resource(gvr).Get(context.Background(), name, metav1.GetOptions{})
	} else {
		got, err = c.Dynamic.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	}
	if err != nil {
		t.Fatalf("get %s %s/%s on %s: %v", gvr.Resource, ns, name, c.Name, err)
	}
	return got
}

func assertStrings(t *testing.T, what string, obj *unstructured.Unstructured, want []string, path ...string) {
	t.Helper()
	got, _, _ := unstructured.NestedStringSlice(obj.Object, path...)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// nestedValue reads list[i] and then the fields of path; nil when absent.
func nestedValue(list []any, i int, path ...string) any {
	if i >= len(list) {
		return nil
	}
	m, _ := list[i].(map[string]any)
	v, _, _ := unstructured.NestedFieldNoCopy(m, path...)
	return v
}

func toMap(v any) (map[string]any, error) {
	return runtime.DefaultUnstructuredConverter.ToUnstructured(v)
}
