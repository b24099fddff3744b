package planning

import (
	"context"
	"reflect"
	"testing"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/resources/migrate"
	"ferry.dev/ferry/internal/resources/transform"
)

func TestCheckSameNamespace(t *testing.T) {
	tests := []struct {
		name       string
		src, dst   string
		namespaces []string
		wantReason string
	}{
		{name: "two clusters, same name", src: "a", dst: "b", namespaces: []string{"shop"}},
		{name: "one cluster, renamed", src: "a", dst: "a", namespaces: []string{"shop:shop-new"}},
		{name: "one cluster, onto itself", src: "a", dst: "a", namespaces: []string{"shop:shop-new", "db"}, wantReason: ferryv1.ReasonInvalidSpec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &ferryv1.Plan{Spec: ferryv1.PlanSpec{SourceCluster: tt.src, DestinationCluster: tt.dst, Namespaces: tt.namespaces}}
			res, err := run(context.Background(), p, nil, nil, checkSameNamespace)
			if err != nil {
				t.Fatal(err)
			}
			if got := reason(res); got != tt.wantReason {
				t.Errorf("reason = %q, want %q (%v)", got, tt.wantReason, res.Problem)
			}
		})
	}
}

func TestRunRejectsBadNamespaces(t *testing.T) {
	p := &ferryv1.Plan{Spec: ferryv1.PlanSpec{Namespaces: []string{"shop", "shop"}}}
	res, err := run(context.Background(), p, nil, nil, checkSameNamespace)
	if err != nil {
		t.Fatal(err)
	}
	if reason(res) != ferryv1.ReasonInvalidSpec {
		t.Errorf("reason = %q, want %s", reason(res), ferryv1.ReasonInvalidSpec)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{in: nil},
		{in: []string{"a", "b"}, want: []string{"a", "b"}},
		{in: []string{"a", "b", "c", "d"}, want: []string{"a", "b", "and 2 more"}},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, 2); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("truncate(%q, 2) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTransformContext(t *testing.T) {
	p := &ferryv1.Plan{Spec: ferryv1.PlanSpec{
		StorageClassMapping: map[string]string{"standard": "fast"},
		RegistryRewrites:    []ferryv1.RegistryRewrite{{From: "a/", To: "b/"}},
	}}
	s := migrate.Scope{Namespaces: []migrate.NamespaceMapping{{Source: "shop", Destination: "shop-new"}}}
	claim := ferryv1.PlanPVC{Namespace: "shop", Name: "data", TargetNamespace: "shop-new", TargetName: "data-v2"}
	got := TransformContext(p, s, []ferryv1.PlanPVC{claim})
	want := transform.Context{
		NamespaceMap:     map[string]string{"shop": "shop-new"},
		StorageClassMap:  transform.StorageClassMap{"standard": "fast"},
		RegistryRewrites: []transform.RegistryRewrite{{From: "a/", To: "b/"}},
		Claims:           map[string]ferryv1.PlanPVC{"shop/data": claim},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TransformContext =\n%+v\nwant\n%+v", got, want)
	}
}

// reason is the reason of a result's problem, or "".
func reason(res *Result) string {
	if res.Problem == nil {
		return ""
	}
	return res.Problem.Reason
}
