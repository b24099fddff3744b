package transform

import "testing"

func TestRouteTransform(t *testing.T) {
	route := func(host string) *builder {
		b := newObject("route.openshift.io/v1", "Route", "shop", "web").
			set(map[string]interface{}{"kind": "Service", "name": "web"}, "spec", "to").
			set(map[string]interface{}{"termination": "edge"}, "spec", "tls")
		if host != "" {
			b.set(host, "spec", "host")
		}
		return b
	}
	moved := &Context{NamespaceMap: map[string]string{"shop": "shop-new"}}
	mapped := &Context{NamespaceMap: map[string]string{"shop": "shop-new"},
		RouteDomains: map[string]string{"apps.src.example": "apps.dst.example"}}
	cases := []transformCase{
		{
			name: "generated host is dropped",
			tc:   moved,
			in:   route("web-shop.apps.src.example").obj(),
			want: route("").obj(),
		},
		{
			name: "generated host marked by annotation is dropped",
			tc:   moved,
			in:   route("web-shop.apps.src.example").annotations(AnnotationHostGenerated, "true", "team", "a").obj(),
			want: route("").annotations("team", "a").obj(),
		},
		{
			name: "generated host under a mapped domain is moved",
			tc:   mapped,
			in:   route("web-shop.apps.src.example").annotations(AnnotationHostGenerated, "true").obj(),
			want: route("web-shop-new.apps.dst.example").obj(),
		},
		{
			name: "generated host under an unmapped domain is dropped",
			tc:   mapped,
			in:   route("web-shop.apps.other.example").obj(),
			want: route("").obj(),
		},
		{
			name: "chosen host is kept, even under a mapped domain",
			tc:   mapped,
			in:   route("shop.apps.src.example").obj(),
			want: route("shop.apps.src.example").obj(),
		},
		{
			name: "host of a subdomain Route is dropped",
			tc:   mapped,
			in:   route("shop.apps.src.example").set("shop", "spec", "subdomain").obj(),
			want: route("").set("shop", "spec", "subdomain").obj(),
		},
		{
			name: "Route without a host",
			tc:   mapped,
			in:   route("").obj(),
			want: route("").obj(),
		},
	}
	runCases(t, &routeTransform{}, cases)
}
