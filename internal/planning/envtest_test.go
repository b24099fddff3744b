//go:build envtest

package planning

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/testenv"
)

// The source and destination clusters: two API servers.
var srcEnv, dstEnv *testenv.Env

// Storage classes every test finds on the destination (none is the
// default).
const (
	classStandard = "standard"
	classFast     = "fast"
)

func TestMain(m *testing.M) { os.Exit(runWithClusters(m)) }

// runWithClusters starts the two API servers, runs the tests and stops
// them.
func runWithClusters(m *testing.M) int {
	var err error
	if srcEnv, err = testenv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "source:", err)
		return 1
	}
	defer func() { _ = srcEnv.Stop() }()
	if dstEnv, err = testenv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "destination:", err)
		return 1
	}
	defer func() { _ = dstEnv.Stop() }()
	for _, name := range []string{classStandard, classFast} {
		sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: "example.com/none"}
		if _, err := dstEnv.Kube.StorageV1().StorageClasses().Create(context.Background(), sc, metav1.CreateOptions{}); err != nil {
			fmt.Fprintln(os.Stderr, "storage class:", err)
			return 1
		}
	}
	return m.Run()
}

// clients returns the clients of the source and destination clusters.
func clients(t *testing.T) (src, dst *cluster.Clients) {
	t.Helper()
	return newClients(t, "src", srcEnv.Config), newClients(t, "dst", dstEnv.Config)
}

func newClients(t *testing.T, name string, cfg *rest.Config) *cluster.Clients {
	t.Helper()
	c, err := cluster.NewClients(name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// namespace creates a namespace with a random suffix on the cluster of
// env and returns its name.
func namespace(t *testing.T, env *testenv.Env, prefix string) string {
	t.Helper()
	name := prefix + "-" + rand.String(5)
	createNamespace(t, env, name, nil)
	return name
}

func createNamespace(t *testing.T, env *testenv.Env, name string, nsLabels map[string]string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: nsLabels}}
	if _, err := env.Kube.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// create creates objects on the cluster of env.
func create(t *testing.T, env *testenv.Env, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}

// claim is a claim of 1Gi, ReadWriteOnce.
func claim(ns, name string, class *string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: class, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
}

func configMap(ns, name string, cmLabels map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: cmLabels}}
}

// pods returns the selector and pod template of a workload of app.
func pods(app string) (*metav1.LabelSelector, corev1.PodTemplateSpec) {
	podLabels := map[string]string{"app": app}
	return &metav1.LabelSelector{MatchLabels: podLabels}, corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: app, Image: app + ":1"}}}}
}

// plan is a plan from src to dst of the namespaces.
func plan(namespaces ...string) *ferryv1.Plan {
	return &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Name: "p1", Namespace: "ferry"},
		Spec: ferryv1.PlanSpec{SourceCluster: "src", DestinationCluster: "dst", Namespaces: namespaces}}
}

// checkResult runs checks and fails unless the problem's reason is
// wantReason ("" for none) and its message holds every wantMessage.
func checkResult(t *testing.T, p *ferryv1.Plan, src, dst *cluster.Clients, wantReason string, wantMessage []string, checks ...check) *Result {
	t.Helper()
	res, err := run(context.Background(), p, src, dst, checks...)
	if err != nil {
		t.Fatal(err)
	}
	if got := reason(res); got != wantReason {
		t.Fatalf("reason = %q, want %q (%+v)", got, wantReason, res.Problem)
	}
	for _, w := range wantMessage {
		if !strings.Contains(res.Problem.Message, w) {
			t.Errorf("message %q does not contain %q", res.Problem.Message, w)
		}
	}
	return res
}

// TestCheckNamespaceAccessEnvtest: as Ferry's service account, a plan
// passes only when every namespace of it is granted on its side (a
// destination namespace that does not exist is not), and the message
// names the namespaces that are not and how to grant them.
func TestCheckNamespaceAccessEnvtest(t *testing.T) {
	ctx := context.Background()
	agentNS := "ferry-" + rand.String(5)
	asAgent := map[*testenv.Env]*cluster.Clients{}
	for _, env := range []*testenv.Env{srcEnv, dstEnv} {
		if _, err := cluster.Prepare(ctx, env.Kube, cluster.PrepareOptions{Roles: cluster.Roles{Source: true, Destination: true}, Namespace: agentNS}); err != nil {
			t.Fatal(err)
		}
		cfg := rest.CopyConfig(env.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + agentNS + ":" + cluster.AgentServiceAccount}
		asAgent[env] = newClients(t, "src", cfg)
	}
	asAgent[dstEnv].Name = "dst"
	shop, other := namespace(t, srcEnv, "shop"), namespace(t, srcEnv, "other")
	g := cluster.Grant{Plan: "p1", HostNamespace: "ferry", AgentNamespace: agentNS, Source: []string{shop}}
	if _, err := g.Apply(ctx, srcEnv.Kube); err != nil {
		t.Fatal(err)
	}
	g = cluster.Grant{Plan: "p1", HostNamespace: "ferry", AgentNamespace: agentNS, Destination: []string{shop + "-v2"}, CreateNamespaces: true}
	res, err := g.Apply(ctx, dstEnv.Kube)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.CreatedNamespaces) != 1 {
		t.Errorf("created namespaces %v, want %s-v2", res.CreatedNamespaces, shop)
	}
	// RBAC's cache may lag the new grants by a moment.
	for _, w := range []struct {
		c  *cluster.Clients
		ns string
	}{{asAgent[srcEnv], shop}, {asAgent[dstEnv], shop + "-v2"}} {
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
			denied, err := cluster.MissingAccess(ctx, w.c, w.ns, []authzv1.ResourceAttributes{{Verb: "create", Resource: "pods"}})
			return err == nil && len(denied) == 0, nil
		})
		if err != nil {
			t.Fatalf("the grant in %s on %s is not in effect: %v", w.ns, w.c.Name, err)
		}
	}
	tests := []struct {
		name        string
		namespaces  []string
		wantReason  string
		wantMessage []string
	}{
		{name: "granted", namespaces: []string{shop + ":" + shop + "-v2"}},
		{name: "one namespace not granted", namespaces: []string{shop + ":" + shop + "-v2", other},
			wantReason:  ferryv1.ReasonNotGranted,
			wantMessage: []string{"namespace " + other + " on cluster src", "role ferry-source-namespace", "`ferry plan grant p1`"}},
		{name: "destination namespace missing", namespaces: []string{shop + ":" + shop + "-v3"},
			wantReason:  ferryv1.ReasonNotGranted,
			wantMessage: []string{"namespace " + shop + "-v3 on cluster dst", "role ferry-destination-namespace", "`ferry plan grant p1`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkResult(t, plan(tt.namespaces...), asAgent[srcEnv], asAgent[dstEnv], tt.wantReason, tt.wantMessage,
				checkSourceAccess, checkExistingDestinationAccess, checkDestinationAccess)
		})
	}
}

func TestCheckSourceNamespacesEnvtest(t *testing.T) {
	src, dst := clients(t)
	shop := namespace(t, srcEnv, "shop")
	tests := []struct {
		name        string
		namespaces  []string
		wantReason  string
		wantMessage []string
	}{
		{name: "exists", namespaces: []string{shop}},
		{name: "renamed on the destination", namespaces: []string{shop + ":elsewhere"}},
		{name: "missing", namespaces: []string{shop, "gone-a", "gone-b"}, wantReason: ferryv1.ReasonNamespaceNotFound,
			wantMessage: []string{"namespace gone-a, gone-b does not exist on source cluster src"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkResult(t, plan(tt.namespaces...), src, dst, tt.wantReason, tt.wantMessage, checkSourceNamespaces)
		})
	}
}

func TestCheckConflictsEnvtest(t *testing.T) {
	src, dst := clients(t)
	ours := map[string]string{ferryv1.LabelPlan: "p1"}
	theirs := map[string]string{ferryv1.LabelPlan: "other"}
	tests := []struct {
		name        string
		nsLabels    map[string]string
		objects     func(ns string) []client.Object
		wantReason  string
		wantMessage []string
	}{
		{name: "empty namespace"},
		{name: "what every namespace holds", objects: func(ns string) []client.Object {
			token := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default-token",
				Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}}, Type: corev1.SecretTypeServiceAccountToken}
			return []client.Object{configMap(ns, "kube-root-ca.crt", nil), token}
		}},
		{name: "objects of this plan", objects: func(ns string) []client.Object {
			data := claim(ns, "data", nil)
			data.Labels = ours
			return []client.Object{configMap(ns, "app", ours), data}
		}},
		{name: "namespace of this plan", nsLabels: ours, objects: func(ns string) []client.Object {
			return []client.Object{configMap(ns, "foreign", nil)}
		}},
		{name: "objects of others", objects: func(ns string) []client.Object {
			return []client.Object{configMap(ns, "foreign", nil), configMap(ns, "other-plan", theirs),
				claim(ns, "data", nil), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"}}}
		}, wantReason: ferryv1.ReasonNamespaceConflict,
			wantMessage: []string{"ConfigMap foreign", "ConfigMap other-plan", "Secret creds", "PersistentVolumeClaim data", "(shop:NEW-NAME)"}},
		{name: "many objects of others", objects: func(ns string) []client.Object {
			var out []client.Object
			for i := range 7 {
				out = append(out, configMap(ns, fmt.Sprintf("cm-%d", i), nil))
			}
			return out
		}, wantReason: ferryv1.ReasonNamespaceConflict, wantMessage: []string{"ConfigMap cm-4, and 2 more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := "target-" + rand.String(5)
			createNamespace(t, dstEnv, target, tt.nsLabels)
			if tt.objects != nil {
				create(t, dstEnv, tt.objects(target)...)
			}
			checkResult(t, plan("shop:"+target), src, dst, tt.wantReason, tt.wantMessage, checkConflicts)
		})
	}
	t.Run("no namespace yet", func(t *testing.T) {
		checkResult(t, plan("shop:absent-"+rand.String(5)), src, dst, "", nil, checkConflicts)
	})
}

func TestInventoryUnsupportedKindsEnvtest(t *testing.T) {
	src, dst := clients(t)
	shop := namespace(t, srcEnv, "shop")
	widgets := installCRD(t, srcEnv, "widgets.example.com")
	w := &unstructured.Unstructured{}
	w.SetGroupVersionKind(schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"})
	w.SetNamespace(shop)
	w.SetName("w1")
	if _, err := src.Dynamic.Resource(widgets).Namespace(shop).Create(context.Background(), w, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	create(t, srcEnv, configMap(shop, "app", nil))
	tests := []struct {
		name        string
		exclude     []string
		wantReason  string
		wantMessage []string
	}{
		{name: "the migration brings the CRD"},
		{name: "the CRD is excluded", exclude: []string{"CustomResourceDefinition"}, wantReason: ferryv1.ReasonUnsupportedKinds,
			wantMessage: []string{"destination cluster dst does not serve Widget.example.com (example.com/v1)"}},
		{name: "the kind is excluded too", exclude: []string{"CustomResourceDefinition", "Widget.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan(shop)
			p.Spec.ExcludedKinds = tt.exclude
			checkResult(t, p, src, dst, tt.wantReason, tt.wantMessage, inventory)
		})
	}
}

// installCRD installs a namespaced CRD of group example.com, version v1,
// kind Widget, and waits until the cluster serves it.
func installCRD(t *testing.T, env *testenv.Env, name string) schema.GroupVersionResource {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "example.com", Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: ptr.To(true)}}}},
		},
	}
	if err := env.Client.Create(context.Background(), crd); err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		l, err := env.Kube.Discovery().ServerResourcesForGroupVersion("example.com/v1")
		return err == nil && len(l.APIResources) > 0, nil
	})
	if err != nil {
		t.Fatalf("CRD %s not served: %v", name, err)
	}
	return gvr
}

func TestCheckPVCsEnvtest(t *testing.T) {
	src, dst := clients(t)
	shop := namespace(t, srcEnv, "shop")
	create(t, srcEnv, claim(shop, "data", ptr.To("local-path")), claim(shop, "plain", nil))
	tests := []struct {
		name        string
		mapping     map[string]string
		overrides   []ferryv1.PVCOverride
		defaultFast bool
		wantReason  string
		wantMessage []string
		wantTargets []string // target class of data, plain
	}{
		{name: "class mapped, default class for the claim without", mapping: map[string]string{"local-path": classStandard},
			defaultFast: true, wantTargets: []string{classStandard, ""}},
		{name: "no default class", mapping: map[string]string{"local-path": classStandard}, wantReason: ferryv1.ReasonStorageClassNotFound,
			wantMessage: []string{`"" (for claim ` + shop + `/plain)`, "it has: fast, standard"}},
		{name: "unmapped class missing", defaultFast: true, wantReason: ferryv1.ReasonStorageClassNotFound,
			wantMessage: []string{`"local-path" (for claim ` + shop + `/data)`, "--storage-class-map OLD=NEW"}},
		{name: "mapping onto a missing class", mapping: map[string]string{"local-path": classStandard, "x": "gold"}, defaultFast: true,
			wantReason: ferryv1.ReasonStorageClassNotFound, wantMessage: []string{`"gold" (in the storage-class mapping)`}},
		{name: "override class and skip", defaultFast: true, overrides: []ferryv1.PVCOverride{
			{Namespace: shop, Name: "data", TargetStorageClass: classFast},
			{Namespace: shop, Name: "plain", Action: ferryv1.PVCActionSkip, TargetStorageClass: "gold"}},
			wantTargets: []string{classFast, "gold"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setDefaultClass(t, classFast, tt.defaultFast)
			p := plan(shop)
			p.Spec.StorageClassMapping, p.Spec.PersistentVolumeClaims = tt.mapping, tt.overrides
			res := checkResult(t, p, src, dst, tt.wantReason, tt.wantMessage, listClaims, checkClasses)
			if tt.wantTargets == nil {
				return
			}
			var got []string
			for _, c := range res.PVCs {
				got = append(got, c.TargetStorageClass)
			}
			if !reflect.DeepEqual(got, tt.wantTargets) {
				t.Errorf("target classes = %q, want %q", got, tt.wantTargets)
			}
		})
	}
	setDefaultClass(t, classFast, false)
}

// setDefaultClass marks or unmarks a destination storage class as the
// default.
func setDefaultClass(t *testing.T, name string, isDefault bool) {
	t.Helper()
	ctx := context.Background()
	sc, err := dstEnv.Kube.StorageV1().StorageClasses().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc.Annotations = map[string]string{cluster.AnnotationDefaultStorageClass: fmt.Sprint(isDefault)}
	if _, err := dstEnv.Kube.StorageV1().StorageClasses().Update(ctx, sc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestCheckClaimOverridesEnvtest(t *testing.T) {
	src, dst := clients(t)
	shop := namespace(t, srcEnv, "shop")
	std := ptr.To(classStandard)
	selector, template := pods("db")
	db := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: shop, Name: "db"}, Spec: appsv1.StatefulSetSpec{
		Selector: selector, Template: template, VolumeClaimTemplates: []corev1.PersistentVolumeClaim{*claim("", "data", std)}}}
	create(t, srcEnv, db, claim(shop, "data-db-0", std), claim(shop, "logs", std), claim(shop, "cache", std))
	tests := []struct {
		name         string
		overrides    []ferryv1.PVCOverride
		wantReason   string
		wantMessage  []string
		wantWarnings int
	}{
		{name: "rename a plain claim", overrides: []ferryv1.PVCOverride{{Namespace: shop, Name: "logs", TargetName: "logs-v2"}}},
		{name: "skip", overrides: []ferryv1.PVCOverride{{Namespace: shop, Name: "cache", Action: ferryv1.PVCActionSkip}}, wantWarnings: 1},
		{name: "change a StatefulSet's claim without renaming", overrides: []ferryv1.PVCOverride{
			{Namespace: shop, Name: "data-db-0", TargetStorageClass: classFast}}},
		{name: "rename a StatefulSet's claim", overrides: []ferryv1.PVCOverride{{Namespace: shop, Name: "data-db-0", TargetName: "x"}},
			wantReason:  ferryv1.ReasonInvalidSpec,
			wantMessage: []string{"claim " + shop + "/data-db-0 belongs to StatefulSet db (template data) and cannot be renamed"}},
		{name: "claim not in the plan", overrides: []ferryv1.PVCOverride{{Namespace: shop, Name: "nope", TargetName: "x"}},
			wantReason: ferryv1.ReasonInvalidSpec, wantMessage: []string{"claim " + shop + "/nope is not in the plan's namespaces"}},
		{name: "two claims onto one name", overrides: []ferryv1.PVCOverride{{Namespace: shop, Name: "cache", TargetName: "logs"}},
			wantReason:  ferryv1.ReasonInvalidSpec,
			wantMessage: []string{"would both become " + shop + "/logs"}},
		// checkMoves decides whether the claim can move (TestCheckMovesEnvtest).
		{name: "move", overrides: []ferryv1.PVCOverride{{Namespace: shop, Name: "logs", Action: ferryv1.PVCActionMove}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan(shop)
			p.Spec.PersistentVolumeClaims = tt.overrides
			res := checkResult(t, p, src, dst, tt.wantReason, tt.wantMessage, listClaims, checkClasses, checkClaimOverrides)
			if len(res.Warnings) != tt.wantWarnings {
				t.Errorf("warnings = %q, want %d", res.Warnings, tt.wantWarnings)
			}
		})
	}
}

func TestValidateCountsWhatIsAppliedEnvtest(t *testing.T) {
	src, dst := clients(t)
	shop := namespace(t, srcEnv, "shop")
	std := ptr.To(classStandard)
	selector, template := pods("web")
	web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: shop, Name: "web"},
		Spec: appsv1.DeploymentSpec{Selector: selector, Template: template}}
	create(t, srcEnv, web)
	owner := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: getUID(t, web), Controller: ptr.To(true)}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: shop, Name: "web-1", OwnerReferences: []metav1.OwnerReference{owner}},
		Spec: appsv1.ReplicaSetSpec{Selector: web.Spec.Selector, Template: web.Spec.Template}}
	create(t, srcEnv, configMap(shop, "kube-root-ca.crt", nil), configMap(shop, "app", nil),
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: shop, Name: "default"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: shop, Name: "worker"}},
		rs, claim(shop, "data", std), claim(shop, "cache", std))
	p := plan(shop + ":shop-" + rand.String(5))
	p.Spec.PersistentVolumeClaims = []ferryv1.PVCOverride{{Namespace: shop, Name: "cache", Action: ferryv1.PVCActionSkip}}
	res, err := Validate(context.Background(), p, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if res.Problem != nil {
		t.Fatalf("problem: %+v", res.Problem)
	}
	wantCounts := []ferryv1.KindCount{{Kind: "ConfigMap", Count: 1}, {Kind: "Deployment.apps", Count: 1}, {Kind: "Namespace", Count: 1},
		{Kind: "PersistentVolumeClaim", Count: 1}, {Kind: "ServiceAccount", Count: 1}}
	if !reflect.DeepEqual(res.Counts, wantCounts) {
		t.Errorf("counts = %+v, want %+v", res.Counts, wantCounts)
	}
	if res.Total != 5 || res.Summary() != "5 objects and 1 volumes to migrate" {
		t.Errorf("total %d, summary %q", res.Total, res.Summary())
	}
	skipped := map[string]string{}
	for _, s := range res.Skipped {
		if s.Count != 1 {
			t.Errorf("skipped %+v: want a count of 1", s)
		}
		skipped[s.Kind] = s.Reason
	}
	wantSkipped := map[string]string{
		"ConfigMap":             "kube-root-ca.crt is recreated in every namespace by the root CA publisher",
		"ServiceAccount":        "the default ServiceAccount is created in every namespace by the service account controller",
		"ReplicaSet.apps":       "the ReplicaSet is recreated by its Deployment",
		"PersistentVolumeClaim": "the plan skips this claim",
	}
	if !reflect.DeepEqual(skipped, wantSkipped) {
		t.Errorf("skipped = %v, want %v", skipped, wantSkipped)
	}
}

// getUID reads the UID the API server gave a Deployment of the source.
func getUID(t *testing.T, d *appsv1.Deployment) types.UID {
	t.Helper()
	got, err := srcEnv.Kube.AppsV1().Deployments(d.Namespace).Get(context.Background(), d.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got.UID
}
