package images

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func TestStreamCopies(t *testing.T) {
	is := &unstructured.Unstructured{Object: map[string]interface{}{
		"status": map[string]interface{}{"tags": []interface{}{
			map[string]interface{}{"tag": "v1", "items": []interface{}{
				map[string]interface{}{"dockerImageReference": "image-registry.svc:5000/shop/web@" + digestA},
				map[string]interface{}{"dockerImageReference": "image-registry.svc:5000/shop/web@sha256:old"},
			}},
			map[string]interface{}{"tag": "upstream", "items": []interface{}{
				map[string]interface{}{"dockerImageReference": "quay.example/lib/nginx@" + digestA},
			}},
			map[string]interface{}{"tag": "empty"},
		}},
	}}
	m := &Mapping{SourceHosts: []string{"10.0.0.1:5000", "image-registry.svc:5000"}, SourceAddress: "10.0.0.1:5000",
		DestinationAddress: "10.0.0.2:5000", DestinationInternal: "registry.dst.svc:5000", Namespaces: map[string]string{"shop": "shop-new"}}
	got := m.StreamCopies(is)
	want := []Copy{{
		Image:       "image-registry.svc:5000/shop/web@" + digestA,
		Destination: "registry.dst.svc:5000/shop-new/web@" + digestA,
		From:        Ref{Registry: "10.0.0.1:5000", Path: "shop/web", Digest: digestA},
		To:          Ref{Registry: "10.0.0.2:5000", Path: "shop-new/web", Tag: "v1"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("StreamCopies = %+v\nwant %+v", got, want)
	}
	if tags := StreamTags(is); len(tags) != 2 || tags[1].Tag != "upstream" {
		t.Errorf("StreamTags = %+v", tags)
	}
}
