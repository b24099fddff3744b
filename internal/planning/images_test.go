package planning

import (
	"testing"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/migrate"
	"ferry.dev/ferry/internal/resources/transform"
)

func TestImageRewriteFromRegistries(t *testing.T) {
	s := migrate.Scope{Namespaces: []migrate.NamespaceMapping{{Source: "shop", Destination: "shop-new"}, {Source: "tools", Destination: "tools"}}}
	src := &cluster.Clients{Name: "src", Registry: &ferryv1.RegistrySpec{Address: "10.200.1.1:5000", InternalAddress: "registry.src.svc:5000"}}
	dst := &cluster.Clients{Name: "dst", Registry: &ferryv1.RegistrySpec{Address: "10.200.2.1:5000", InternalAddress: "registry.dst.svc:5000"}}
	noReg := &cluster.Clients{Name: "plain"}
	p := &ferryv1.Plan{Spec: ferryv1.PlanSpec{RegistryRewrites: []ferryv1.RegistryRewrite{
		{From: "10.200.1.1:5000/", To: "manual.example/"}, // shadowed by the derived rewrite
		{From: "quay.example/", To: "mirror.example/"},
	}}}
	tests := []struct {
		name     string
		src, dst *cluster.Clients
		in, want string
	}{
		{"address, namespace renamed", src, dst, "10.200.1.1:5000/shop/web:v1", "registry.dst.svc:5000/shop-new/web:v1"},
		{"internal address", src, dst, "registry.src.svc:5000/shop/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			"registry.dst.svc:5000/shop-new/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		{"other namespace kept", src, dst, "registry.src.svc:5000/base/os:1", "registry.dst.svc:5000/base/os:1"},
		{"manual rewrite of an external image", src, dst, "quay.example/a/b:v1", "mirror.example/a/b:v1"},
		{"external image kept", src, dst, "nginx:1.27", "nginx:1.27"},
		{"no destination registry: manual rewrites only", src, noReg, "10.200.1.1:5000/shop/web:v1", "manual.example/shop/web:v1"},
		{"no source registry: manual rewrites only", noReg, dst, "10.200.1.1:5000/shop/web:v1", "manual.example/shop/web:v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := TransformContext(p, s, nil)
			tc.Images = ImageMapping(s, tt.src, tt.dst)
			if got := (&tc).Image(tt.in); got != tt.want {
				t.Errorf("Image(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if tc.Images == nil {
				return
			}
			copies := tc.Images.Copies([]string{tt.in})
			if len(copies) == 1 && copies[0].Destination != tt.want {
				t.Errorf("copy goes to %q but the workload references %q", copies[0].Destination, tt.want)
			}
		})
	}
	var nilCtx *transform.Context
	if got := nilCtx.Image("a/b"); got != "a/b" {
		t.Errorf("nil context rewrote %q", got)
	}
}
