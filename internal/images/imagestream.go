package images

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ImageStreamTag is one tag of an OpenShift ImageStream and the image it
// points at now (the first item of its status history).
type ImageStreamTag struct {
	// Tag is the tag's name.
	Tag string
	// Image is the tag's current image, as the ImageStream records it
	// (typically REGISTRY/NAMESPACE/STREAM@DIGEST).
	Image string
}

// StreamTags returns the tags of an ImageStream (as unstructured) with
// their current images, in status order; tags without an image are left
// out.
func StreamTags(is *unstructured.Unstructured) []ImageStreamTag {
	tags, _, _ := unstructured.NestedSlice(is.Object, "status", "tags")
	var out []ImageStreamTag
	for _, t := range tags {
		m, _ := t.(map[string]interface{})
		tag, _ := m["tag"].(string)
		items, _ := m["items"].([]interface{})
		if tag == "" || len(items) == 0 {
			continue
		}
		first, _ := items[0].(map[string]interface{})
		if ref, _ := first["dockerImageReference"].(string); ref != "" {
			out = append(out, ImageStreamTag{Tag: tag, Image: ref})
		}
	}
	return out
}

// StreamCopies returns the copies of the tags of an ImageStream whose
// current images are in the source's internal registry: each read by its
// reference (a digest, as the registry records it) and written under the
// tag's name in the destination's repository, so that the destination
// registry holds the tag with the same digest. Tags of other registries
// are not copied.
func (m *Mapping) StreamCopies(is *unstructured.Unstructured) []Copy {
	var out []Copy
	for _, t := range StreamTags(is) {
		r, ok := m.Internal(t.Image)
		if !ok {
			continue
		}
		from, to := r, r
		from.Registry = m.SourceAddress
		to.Registry, to.Path, to.Tag, to.Digest = m.DestinationAddress, m.path(r.Path), t.Tag, ""
		dst, _ := m.Rewrite(t.Image)
		out = append(out, Copy{Image: t.Image, Destination: dst, From: from, To: to})
	}
	return out
}

// imageStreamList is OpenShift's ImageStreams, read as unstructured.
var imageStreamList = schema.GroupVersionKind{Group: "image.openshift.io", Version: "v1", Kind: "ImageStreamList"}

// Streams returns the ImageStreams in namespace that sel selects; none
// where the cluster does not serve them.
func Streams(ctx context.Context, c client.Reader, namespace string, sel labels.Selector) ([]unstructured.Unstructured, error) {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(imageStreamList)
	err := c.List(ctx, l, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: sel})
	if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list ImageStreams in %s: %w", namespace, err)
	}
	return l.Items, nil
}
