package migrate

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/resources/transform"
)

// object is an unstructured object of a namespace shop.
func object(apiVersion, kind, name string, fields map[string]interface{}) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: fields}
	if u.Object == nil {
		u.Object = map[string]interface{}{}
	}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace("shop")
	u.SetName(name)
	return u
}

func TestDecide(t *testing.T) {
	tc := &transform.Context{Claims: transform.ClaimsByName([]ferryv1.PlanPVC{
		{Namespace: "shop", Name: "cache", Action: ferryv1.PVCActionSkip},
		{Namespace: "shop", Name: "data", Action: ferryv1.PVCActionCopy, TargetName: "data"},
	})}
	owned := object("v1", "Pod", "web-1", nil)
	owned.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "u", Controller: ptr.To(true)}})
	tests := []struct {
		name string
		obj  *unstructured.Unstructured
		want string
	}{
		{name: "applied", obj: object("v1", "ConfigMap", "app", nil)},
		{name: "root CA", obj: object("v1", "ConfigMap", "kube-root-ca.crt", nil),
			want: "kube-root-ca.crt is recreated in every namespace by the root CA publisher"},
		{name: "owned Pod", obj: owned, want: "the Pod is recreated by its controller"},
		{name: "skipped claim", obj: object("v1", "PersistentVolumeClaim", "cache", nil), want: transform.SkipClaim},
		{name: "copied claim", obj: object("v1", "PersistentVolumeClaim", "data", nil)},
		{name: "transform fails", obj: object("apps/v1", "Deployment", "web",
			map[string]interface{}{"metadata": map[string]interface{}{"annotations": map[string]interface{}{ferryv1.AnnotationOriginalReplicas: "many"}}}),
			want: "transform failed: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tc, tt.obj)
			if tt.want == "transform failed: " {
				if !strings.HasPrefix(got, tt.want) || got == tt.want {
					t.Errorf("decide = %q, want a transform failure", got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("decide = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCounterTally(t *testing.T) {
	tests := []struct {
		name        string
		add         func(*counter)
		wantApplied []ferryv1.KindCount
		wantSkipped []ferryv1.SkippedCount
	}{
		{name: "nothing", add: func(*counter) {}},
		{name: "applied and skipped, sorted", add: func(c *counter) {
			c.apply("Namespace", 1)
			c.apply("Secret", 0)
			c.add("ConfigMap", "")
			c.add("ConfigMap", "")
			c.add("Pod", "owned")
			c.add("ReplicaSet.apps", "owned")
			c.add("ReplicaSet.apps", "owned")
			c.add("ConfigMap", "root CA")
		}, wantApplied: []ferryv1.KindCount{{Kind: "ConfigMap", Count: 2}, {Kind: "Namespace", Count: 1}},
			wantSkipped: []ferryv1.SkippedCount{{Kind: "ReplicaSet.apps", Reason: "owned", Count: 2},
				{Kind: "ConfigMap", Reason: "root CA", Count: 1}, {Kind: "Pod", Reason: "owned", Count: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCounter()
			tt.add(c)
			got := c.tally()
			if !reflect.DeepEqual(got.Applied, tt.wantApplied) || !reflect.DeepEqual(got.Skipped, tt.wantSkipped) {
				t.Errorf("tally = %+v, want applied %+v, skipped %+v", got, tt.wantApplied, tt.wantSkipped)
			}
		})
	}
}

func TestCapSkipped(t *testing.T) {
	var many []ferryv1.SkippedCount
	for i := range 5 {
		many = append(many, ferryv1.SkippedCount{Kind: "K", Reason: fmt.Sprint(i), Count: 10 - i})
	}
	tests := []struct {
		name  string
		in    []ferryv1.SkippedCount
		limit int
		want  []ferryv1.SkippedCount
	}{
		{name: "under the limit", in: many[:2], limit: 3, want: many[:2]},
		{name: "at the limit", in: many[:3], limit: 3, want: many[:3]},
		{name: "over the limit", in: many, limit: 3, want: []ferryv1.SkippedCount{many[0], many[1],
			{Kind: "*", Reason: "other kinds and reasons", Count: 8 + 7 + 6}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := capSkipped(append([]ferryv1.SkippedCount{}, tt.in...), tt.limit); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("capSkipped = %+v, want %+v", got, tt.want)
			}
		})
	}
}
