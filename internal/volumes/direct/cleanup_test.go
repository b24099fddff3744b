package direct

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestCleanupOfFrontsItMayNotList: where the clusters serve Routes but
// the token may not list them (a namespace admin's), the cleanup skips
// Routes unless the migration puts its receivers behind a Route; then
// it fails and says what it could not list.
func TestCleanupOfFrontsItMayNotList(t *testing.T) {
	tests := []struct {
		name    string
		front   Front
		wantErr bool
	}{
		{"no front", nil, false},
		{"behind an Ingress", Ingress{Class: "nginx", Domain: "apps.example.com"}, false},
		{"behind a Route", Route{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions(false)
			o.Front = tt.front
			for _, c := range o.clusters() {
				c.Kube.(*fake.Clientset).Resources = []*metav1.APIResourceList{
					{GroupVersion: routesGVR.GroupVersion().String(), APIResources: []metav1.APIResource{{Name: "routes", Namespaced: true, Kind: "Route"}}},
					{GroupVersion: ingressesGVR.GroupVersion().String(), APIResources: []metav1.APIResource{{Name: "ingresses", Namespaced: true, Kind: "Ingress"}}},
				}
				dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
					map[schema.GroupVersionResource]string{routesGVR: "RouteList", ingressesGVR: "IngressList"})
				dyn.PrependReactor("list", "routes", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewForbidden(routesGVR.GroupResource(), "", nil)
				})
				c.Dynamic = dyn
			}
			done, err := mustNew(t, o).Cleanup(context.Background())
			if tt.wantErr {
				if err == nil || !apierrors.IsForbidden(err) {
					t.Fatalf("cleanup = %v, %v; want the Forbidden list of routes", done, err)
				}
				return
			}
			if err != nil || !done {
				t.Fatalf("cleanup = %v, %v; want done", done, err)
			}
		})
	}
}
