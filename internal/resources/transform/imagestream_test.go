package transform

import (
	"testing"

	"ferry.dev/ferry/internal/images"
)

func TestImageStreamTransform(t *testing.T) {
	const digest = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	tc := &Context{
		NamespaceMap: map[string]string{"shop": "shop-new"},
		Images: &images.Mapping{SourceHosts: []string{"src.reg:5000"}, SourceAddress: "src.reg:5000",
			DestinationAddress: "dst.reg:5000", Namespaces: map[string]string{"shop": "shop-new"}},
	}
	status := map[string]interface{}{"tags": []interface{}{
		map[string]interface{}{"tag": "v1", "items": []interface{}{map[string]interface{}{"dockerImageReference": "src.reg:5000/shop/web@" + digest}}},
		map[string]interface{}{"tag": "upstream", "items": []interface{}{map[string]interface{}{"dockerImageReference": "quay.example/lib/nginx@" + digest}}},
	}}
	upstream := map[string]interface{}{"name": "upstream", "from": map[string]interface{}{"kind": "DockerImage", "name": "quay.example/lib/nginx:1.27"}}
	follow := func(ns string) map[string]interface{} {
		return map[string]interface{}{"name": "stable", "from": map[string]interface{}{"kind": "ImageStreamTag", "namespace": ns, "name": "web:v1"}}
	}
	in := newObject("image.openshift.io/v1", "ImageStream", "shop", "web").
		set([]interface{}{upstream, follow("shop")}, "spec", "tags").set(status, "status").obj()
	want := newObject("image.openshift.io/v1", "ImageStream", "shop", "web").
		set([]interface{}{upstream, follow("shop-new"),
			map[string]interface{}{"name": "v1", "from": map[string]interface{}{"kind": "DockerImage", "name": "dst.reg:5000/shop-new/web@" + digest}},
		}, "spec", "tags").set(status, "status").obj()
	runCases(t, &imageStreamTransform{}, []transformCase{
		{name: "internal tag pinned to the destination registry, external kept, follower moved", tc: tc, in: in, want: want},
		{name: "no registries: nothing added", tc: &Context{},
			in:   newObject("image.openshift.io/v1", "ImageStream", "shop", "web").set(status, "status").obj(),
			want: newObject("image.openshift.io/v1", "ImageStream", "shop", "web").set(status, "status").obj()},
	})
}
