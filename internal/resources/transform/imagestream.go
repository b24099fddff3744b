package transform

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"ferry.dev/ferry/internal/images"
)

// imageStreamTransform points OpenShift ImageStreams at the destination's
// registry. Spec tags that import an image (from.kind DockerImage) are
// rewritten like container images, and spec tags that follow another
// stream's tag in a renamed namespace follow it there. A tag whose
// current image is one of the source's internal images (pushed to its
// registry, so only in status) gets a spec tag naming the copy in the
// destination's registry by digest, the one the CopyImages step wrote;
// tags of external registries stay as they are. It runs before generic,
// which drops the status it reads.
type imageStreamTransform struct{}

var _ Transformer = (*imageStreamTransform)(nil)

// Name implements Transformer.
func (*imageStreamTransform) Name() string { return "image-stream" }

// AppliesTo implements Transformer: ImageStreams.
func (*imageStreamTransform) AppliesTo(gk schema.GroupKind) bool { return gk == gkImageStream }

// Transform implements Transformer.
func (*imageStreamTransform) Transform(tc *Context, obj *unstructured.Unstructured) (string, error) {
	specTags := nestedSlice(obj.Object, "spec", "tags")
	named := map[string]map[string]interface{}{}
	for _, t := range specTags {
		tag := asMap(t)
		if tag == nil {
			continue
		}
		if n, _ := tag["name"].(string); n != "" {
			named[n] = tag
		}
		from := nestedMap(tag, "from")
		if from == nil {
			continue
		}
		if from["kind"] == "DockerImage" {
			if ref, ok := from["name"].(string); ok {
				from["name"] = tc.Image(ref)
			}
			continue
		}
		mapImageStreamRef(tc, from)
	}
	for _, st := range images.StreamTags(obj) {
		to := tc.Image(st.Image)
		if to == st.Image {
			continue // not the source's internal registry's
		}
		if tag, ok := named[st.Tag]; ok {
			if from := nestedMap(tag, "from"); from != nil && from["kind"] != "DockerImage" {
				continue // follows another tag, moved above
			}
			tag["from"] = map[string]interface{}{"kind": "DockerImage", "name": to}
			continue
		}
		specTags = append(specTags, map[string]interface{}{
			"name": st.Tag,
			"from": map[string]interface{}{"kind": "DockerImage", "name": to},
		})
	}
	if len(specTags) > 0 {
		return "", setNested(obj, specTags, "spec", "tags")
	}
	return "", nil
}
