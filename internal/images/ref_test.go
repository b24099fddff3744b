package images

import (
	"strings"
	"testing"
)

const dig = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParse(t *testing.T) {
	tests := []struct {
		in        string
		want      Ref
		canonical string
		err       string
	}{
		{in: "nginx", want: Ref{Path: "nginx"}, canonical: "docker.io/library/nginx:latest"},
		{in: "library/nginx:1.27", want: Ref{Path: "library/nginx", Tag: "1.27"}, canonical: "docker.io/library/nginx:1.27"},
		{in: "docker.io/nginx", want: Ref{Registry: "docker.io", Path: "nginx"}, canonical: "docker.io/library/nginx:latest"},
		{in: "index.docker.io/user/app:v2", want: Ref{Registry: "index.docker.io", Path: "user/app", Tag: "v2"}, canonical: "docker.io/user/app:v2"},
		{in: "localhost/app", want: Ref{Registry: "localhost", Path: "app"}, canonical: "localhost/app:latest"},
		{in: "localhost:5000/team/app:v1", want: Ref{Registry: "localhost:5000", Path: "team/app", Tag: "v1"}, canonical: "localhost:5000/team/app:v1"},
		{in: "10.200.1.1:5000/shop/web@" + dig, want: Ref{Registry: "10.200.1.1:5000", Path: "shop/web", Digest: dig}, canonical: "10.200.1.1:5000/shop/web@" + dig},
		{in: "reg.example/shop/web:v1@" + dig, want: Ref{Registry: "reg.example", Path: "shop/web", Tag: "v1", Digest: dig}, canonical: "reg.example/shop/web:v1@" + dig},
		{in: "image-registry.openshift-image-registry.svc:5000/shop/web", want: Ref{Registry: "image-registry.openshift-image-registry.svc:5000", Path: "shop/web"}, canonical: "image-registry.openshift-image-registry.svc:5000/shop/web:latest"},
		{in: "[::1]:5000/app:v1", want: Ref{Registry: "[::1]:5000", Path: "app", Tag: "v1"}, canonical: "[::1]:5000/app:v1"},
		{in: "team/app", want: Ref{Path: "team/app"}, canonical: "docker.io/team/app:latest"},
		{in: "Reg.Example:443/a/b/c:x_y-1.2", want: Ref{Registry: "Reg.Example:443", Path: "a/b/c", Tag: "x_y-1.2"}, canonical: "Reg.Example:443/a/b/c:x_y-1.2"},
		{in: "app@sha256:abc", err: "digest"},
		{in: "Shop/Web", err: "repository"},
		{in: "host:5000/app:bad tag", err: "tag"},
		{in: "", err: "repository"},
		{in: "reg.example/", err: "repository"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse(%q) error = %v, want one about %s", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want the input back", got.String())
			}
			if c := got.Canonical().String(); c != tt.canonical {
				t.Errorf("Canonical() = %q, want %q", c, tt.canonical)
			}
		})
	}
}

func TestMappingRewrite(t *testing.T) {
	m := &Mapping{
		SourceHosts:         []string{"10.200.1.1:5000", "image-registry.svc:5000"},
		SourceAddress:       "10.200.1.1:5000",
		DestinationAddress:  "10.200.2.1:5000",
		DestinationInternal: "registry.dst.svc:5000",
		Namespaces:          map[string]string{"shop": "shop-moved", "same": "same"},
	}
	tests := []struct {
		in, want string
		internal bool
	}{
		{"10.200.1.1:5000/shop/web:v1", "registry.dst.svc:5000/shop-moved/web:v1", true},
		{"image-registry.svc:5000/shop/web@" + dig, "registry.dst.svc:5000/shop-moved/web@" + dig, true},
		{"IMAGE-REGISTRY.SVC:5000/shop/web", "registry.dst.svc:5000/shop-moved/web", true},
		{"10.200.1.1:5000/shared/base:v1", "registry.dst.svc:5000/shared/base:v1", true},
		{"10.200.1.1:5000/shop", "registry.dst.svc:5000/shop", true}, // one component: no namespace in it
		{"10.200.1.1:5000/shopping/web:v1", "registry.dst.svc:5000/shopping/web:v1", true},
		{"10.200.1.1:5000/same/web:v1", "registry.dst.svc:5000/same/web:v1", true},
		{"10.200.1.1:50001/shop/web:v1", "10.200.1.1:50001/shop/web:v1", false},
		{"10.200.2.1:5000/shop/web:v1", "10.200.2.1:5000/shop/web:v1", false},
		{"nginx", "nginx", false},
		{"shop/web", "shop/web", false},
		{"localhost/shop/web", "localhost/shop/web", false},
		{"10.200.1.1:5000/Not Valid", "10.200.1.1:5000/Not Valid", false},
	}
	for _, tt := range tests {
		got, internal := m.Rewrite(tt.in)
		if got != tt.want || internal != tt.internal {
			t.Errorf("Rewrite(%q) = %q, %v; want %q, %v", tt.in, got, internal, tt.want, tt.internal)
		}
	}
	noInternal := *m
	noInternal.DestinationInternal = ""
	if got, _ := noInternal.Rewrite("10.200.1.1:5000/a/b:v1"); got != "10.200.2.1:5000/a/b:v1" {
		t.Errorf("without an internal address the rewrite uses the address, got %q", got)
	}
	var none *Mapping
	if got, internal := none.Rewrite("10.200.1.1:5000/a:v1"); internal || got != "10.200.1.1:5000/a:v1" {
		t.Errorf("a nil mapping rewrites nothing, got %q %v", got, internal)
	}
}

func TestMappingCopies(t *testing.T) {
	m := &Mapping{
		SourceHosts:        []string{"src:5000", "image-registry.svc:5000"},
		SourceAddress:      "src:5000",
		DestinationAddress: "dst:5000",
		Namespaces:         map[string]string{"shop": "shop2"},
	}
	got := m.Copies([]string{"image-registry.svc:5000/shop/web:v1", "nginx", "src:5000/shop/web:v1", "image-registry.svc:5000/shop/web:v1", "src:5000/base@" + dig})
	want := []struct{ image, dest, from, to string }{
		{"image-registry.svc:5000/shop/web:v1", "dst:5000/shop2/web:v1", "src:5000/shop/web:v1", "dst:5000/shop2/web:v1"},
		{"src:5000/shop/web:v1", "dst:5000/shop2/web:v1", "src:5000/shop/web:v1", "dst:5000/shop2/web:v1"},
		{"src:5000/base@" + dig, "dst:5000/base@" + dig, "src:5000/base@" + dig, "dst:5000/base@" + dig},
	}
	if len(got) != len(want) {
		t.Fatalf("Copies = %+v, want %d copies", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Image != w.image || g.Destination != w.dest || g.From.String() != w.from || g.To.String() != w.to {
			t.Errorf("copy %d = %s → %s (%s → %s), want %s → %s (%s → %s)", i, g.Image, g.Destination, g.From, g.To, w.image, w.dest, w.from, w.to)
		}
	}
}
