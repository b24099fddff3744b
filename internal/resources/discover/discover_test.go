package discover

import (
	"context"
	"errors"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestKindFilter(t *testing.T) {
	deploy := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	cm := schema.GroupKind{Kind: "ConfigMap"}
	widget := schema.GroupKind{Group: "e2e.ferry.dev", Kind: "Widget"}
	tests := []struct {
		name   string
		f      KindFilter
		gk     schema.GroupKind
		allows bool
	}{
		{"empty allows all", KindFilter{}, deploy, true},
		{"exclude by kind", KindFilter{Exclude: []string{"ConfigMap"}}, cm, false},
		{"exclude by kind and group", KindFilter{Exclude: []string{"Deployment.apps"}}, deploy, false},
		{"exclude other group", KindFilter{Exclude: []string{"Deployment.extensions"}}, deploy, true},
		{"include only", KindFilter{Include: []string{"Widget.e2e.ferry.dev"}}, widget, true},
		{"include only, other kind", KindFilter{Include: []string{"Widget"}}, cm, false},
		{"case-insensitive", KindFilter{Include: []string{"configmap"}}, cm, true},
		{"exclude wins", KindFilter{Include: []string{"ConfigMap"}, Exclude: []string{"ConfigMap"}}, cm, false},
	}
	for _, tt := range tests {
		if got := tt.f.Allows(tt.gk); got != tt.allows {
			t.Errorf("%s: Allows(%v) = %v, want %v", tt.name, tt.gk, got, tt.allows)
		}
	}
}

func TestKindName(t *testing.T) {
	if got := KindName(schema.GroupKind{Kind: "Pod"}); got != "Pod" {
		t.Errorf("got %q", got)
	}
	if got := KindName(schema.GroupKind{Group: "apps", Kind: "Deployment"}); got != "Deployment.apps" {
		t.Errorf("got %q", got)
	}
}

// TestListOfVanishedKind: a kind whose CRD went away after discovery
// lists as empty (List and Count), any other failure is an error.
func TestListOfVanishedKind(t *testing.T) {
	gvr := schema.GroupVersionResource{Group: "e2e.ferry.dev", Version: "v1", Resource: "widgets"}
	res := Resource{GVR: gvr, GVK: gvr.GroupVersion().WithKind("Widget"), Namespaced: true}
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"not served any more", apierrors.NewNotFound(gvr.GroupResource(), ""), false},
		{"forbidden", apierrors.NewForbidden(gvr.GroupResource(), "", errors.New("no list right")), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{gvr: "WidgetList"})
			dyn.PrependReactor("list", "widgets", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tt.err })
			calls := 0
			err := List(context.Background(), dyn, res, "shop", "", func(*unstructured.Unstructured) error { calls++; return nil })
			if (err != nil) != tt.wantErr || calls != 0 {
				t.Errorf("List: err %v, %d calls; want error %v, no call", err, calls, tt.wantErr)
			}
			for _, selector := range []string{"", "app=web"} {
				n, err := Count(context.Background(), dyn, res, "shop", selector)
				if (err != nil) != tt.wantErr || n != 0 {
					t.Errorf("Count(selector %q): %d, err %v; want 0, error %v", selector, n, err, tt.wantErr)
				}
			}
		})
	}
}
