package discover

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
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
