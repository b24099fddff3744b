package order

import (
	"math/rand/v2"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	crd            = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
	namespace      = schema.GroupKind{Kind: "Namespace"}
	pv             = schema.GroupKind{Kind: "PersistentVolume"}
	serviceAccount = schema.GroupKind{Kind: "ServiceAccount"}
	secret         = schema.GroupKind{Kind: "Secret"}
	configMap      = schema.GroupKind{Kind: "ConfigMap"}
	limitRange     = schema.GroupKind{Kind: "LimitRange"}
	quota          = schema.GroupKind{Kind: "ResourceQuota"}
	clusterRole    = schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}
	clusterBinding = schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}
	role           = schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "Role"}
	roleBinding    = schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}
	netpol         = schema.GroupKind{Group: "networking.k8s.io", Kind: "NetworkPolicy"}
	pvc            = schema.GroupKind{Kind: "PersistentVolumeClaim"}
	pdb            = schema.GroupKind{Group: "policy", Kind: "PodDisruptionBudget"}
	deployment     = schema.GroupKind{Group: "apps", Kind: "Deployment"}
	statefulSet    = schema.GroupKind{Group: "apps", Kind: "StatefulSet"}
	daemonSet      = schema.GroupKind{Group: "apps", Kind: "DaemonSet"}
	replicaSet     = schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}
	job            = schema.GroupKind{Group: "batch", Kind: "Job"}
	cronJob        = schema.GroupKind{Group: "batch", Kind: "CronJob"}
	pod            = schema.GroupKind{Kind: "Pod"}
	hpa            = schema.GroupKind{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}
	service        = schema.GroupKind{Kind: "Service"}
	ingress        = schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"}
	route          = schema.GroupKind{Group: "route.openshift.io", Kind: "Route"}
	certificate    = schema.GroupKind{Group: "cert-manager.io", Kind: "Certificate"}
	issuer         = schema.GroupKind{Group: "cert-manager.io", Kind: "Issuer"}
	widget         = schema.GroupKind{Group: "example.com", Kind: "Widget"}
	coreUnknown    = schema.GroupKind{Kind: "PodTemplate"}
)

// applyOrder is the order the product brief asks for, with a few custom
// resources at the end ordered by group and kind.
var applyOrder = []schema.GroupKind{
	crd, namespace, pv, serviceAccount, secret, configMap, limitRange, quota,
	clusterRole, clusterBinding, role, roleBinding, netpol, pvc, pdb,
	deployment, statefulSet, daemonSet, replicaSet, job, cronJob, pod,
	hpa, service, ingress, route,
	coreUnknown, certificate, issuer, widget,
}

func TestSort(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		gks := slices.Clone(applyOrder)
		r := rand.New(rand.NewPCG(seed, seed))
		r.Shuffle(len(gks), func(i, j int) { gks[i], gks[j] = gks[j], gks[i] })
		Sort(gks)
		if !slices.Equal(gks, applyOrder) {
			t.Fatalf("seed %d: Sort = %v, want %v", seed, gks, applyOrder)
		}
		ReverseSort(gks)
		want := slices.Clone(applyOrder)
		slices.Reverse(want)
		if !slices.Equal(gks, want) {
			t.Fatalf("seed %d: ReverseSort = %v, want %v", seed, gks, want)
		}
	}
}

func TestLess(t *testing.T) {
	cases := []struct {
		name string
		a, b schema.GroupKind
		want bool
	}{
		{"definitions before their resources", crd, widget, true},
		{"namespace before namespaced objects", namespace, secret, true},
		{"volume before claim", pv, pvc, true},
		{"service account before pods", serviceAccount, deployment, true},
		{"config before workloads", configMap, statefulSet, true},
		{"role before binding", role, roleBinding, true},
		{"claim before workload", pvc, statefulSet, true},
		{"autoscaler after its target", deployment, hpa, true},
		{"service before ingress", service, ingress, true},
		{"route after service", route, service, false},
		{"custom resources after routes", route, certificate, true},
		{"ties by group", coreUnknown, widget, true},
		{"ties by kind", certificate, issuer, true},
		{"same kind", pod, pod, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Less(tc.a, tc.b); got != tc.want {
				t.Errorf("Less(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestPriority(t *testing.T) {
	cases := []struct {
		gk   schema.GroupKind
		want int
	}{
		{crd, 0},
		{namespace, 1},
		{widget, len(priorities)},
		// Same kind name in another group is another kind.
		{schema.GroupKind{Group: "example.com", Kind: "Deployment"}, len(priorities)},
	}
	for _, tc := range cases {
		if got := Priority(tc.gk); got != tc.want {
			t.Errorf("Priority(%v) = %d, want %d", tc.gk, got, tc.want)
		}
	}
	seen := map[schema.GroupKind]bool{}
	for _, gk := range priorities {
		if seen[gk] {
			t.Errorf("%v listed twice", gk)
		}
		seen[gk] = true
	}
}

func TestSortFuncIsStable(t *testing.T) {
	type item struct {
		gk   schema.GroupKind
		name string
	}
	items := []item{
		{service, "web"}, {deployment, "web"}, {configMap, "b"},
		{deployment, "api"}, {configMap, "a"}, {service, "api"},
	}
	key := func(i item) schema.GroupKind { return i.gk }
	cases := []struct {
		name string
		sort func([]item, func(item) schema.GroupKind)
		want []string
	}{
		{"apply", SortFunc[item], []string{"ConfigMap/b", "ConfigMap/a", "Deployment/web", "Deployment/api", "Service/web", "Service/api"}},
		{"delete", ReverseSortFunc[item], []string{"Service/web", "Service/api", "Deployment/web", "Deployment/api", "ConfigMap/b", "ConfigMap/a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := slices.Clone(items)
			tc.sort(got, key)
			var names []string
			for _, i := range got {
				names = append(names, i.gk.Kind+"/"+i.name)
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("got %v, want %v", names, tc.want)
			}
		})
	}
}
