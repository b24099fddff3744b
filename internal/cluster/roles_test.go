package cluster

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestReaderRules(t *testing.T) {
	res := func(name string, verbs ...string) metav1.APIResource {
		return metav1.APIResource{Name: name, Verbs: verbs}
	}
	tests := []struct {
		name       string
		lists      []*metav1.APIResourceList
		wantCore   []string
		wantGroups []string
	}{
		{name: "nothing served", wantCore: []string{"pods/log"}, wantGroups: ProbedGroups},
		{
			name: "core without secrets and subresources, other groups whole",
			lists: []*metav1.APIResourceList{
				{GroupVersion: "v1", APIResources: []metav1.APIResource{res("pods", "get", "list"), res("pods/exec", "create"),
					res("secrets", "get", "list"), res("nodes", "list"), res("nodes/proxy", "get"), res("bindings", "create")}},
				{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{res("deployments", "list")}},
				{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{res("widgets", "list")}},
				nil,
			},
			wantCore: []string{"nodes", "pods", "pods/log"},
			wantGroups: []string{"apps", "apps.openshift.io", "authorization.openshift.io", "build.openshift.io", "example.com",
				"image.openshift.io", "route.openshift.io", "security.openshift.io"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules := ReaderRules(tt.lists)
			if len(rules) != 2 {
				t.Fatalf("rules %+v", rules)
			}
			if !reflect.DeepEqual(rules[0].APIGroups, []string{""}) || !reflect.DeepEqual(rules[0].Resources, tt.wantCore) {
				t.Errorf("core rule %+v, want resources %v", rules[0], tt.wantCore)
			}
			if !reflect.DeepEqual(rules[1].APIGroups, tt.wantGroups) || !reflect.DeepEqual(rules[1].Resources, []string{"*"}) {
				t.Errorf("groups rule %+v, want groups %v", rules[1], tt.wantGroups)
			}
			for _, r := range rules {
				if !reflect.DeepEqual(r.Verbs, []string{"get", "list", "watch"}) {
					t.Errorf("verbs %v, want read only", r.Verbs)
				}
			}
		})
	}
}

func TestTokenRoundTrip(t *testing.T) {
	exp := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		tok     Token
		renewAt time.Time
	}{
		{name: "requested by Ferry", tok: Token{Value: "t", Expires: exp, TTL: time.Hour, Namespace: "ferry-system"}, renewAt: exp.Add(-30 * time.Minute)},
		{name: "the user's own", tok: Token{Value: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{AnnotationTokenExpires: "stale"}}}
			tt.tok.write(sec)
			got := readToken(sec)
			if got != tt.tok {
				t.Errorf("read %+v, wrote %+v", got, tt.tok)
			}
			if !got.RenewAt().Equal(tt.renewAt) {
				t.Errorf("renew at %s, want %s", got.RenewAt(), tt.renewAt)
			}
		})
	}
}

func TestUnauthorized(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		expires    time.Time
		wantReason string
		wantText   string
	}{
		{name: "expired", expires: now.Add(-time.Minute), wantReason: ferryv1.ReasonTokenExpired, wantText: "expired at 2026-12-02T09:59:00Z"},
		{name: "revoked before expiry", expires: now.Add(time.Hour), wantReason: ferryv1.ReasonUnauthorized, wantText: "revoked"},
		{name: "a token of the user's own", wantReason: ferryv1.ReasonUnauthorized, wantText: "revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Clients{Name: "src", Config: &rest.Config{Host: "https://src"}, Token: Token{Expires: tt.expires}}
			p := unauthorized(c, errUnauthorized, now)
			if p.Reason != tt.wantReason || !strings.Contains(p.Message, tt.wantText) || !strings.Contains(p.Message, "ferry cluster add src") {
				t.Errorf("problem %+v, want %s saying %q and how to register again", p, tt.wantReason, tt.wantText)
			}
		})
	}
}

var errUnauthorized = errors.New("Unauthorized")
