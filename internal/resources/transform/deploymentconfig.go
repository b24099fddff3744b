package transform

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// deploymentConfigTransform moves the image change triggers of OpenShift
// DeploymentConfigs with the namespaces: a trigger's ImageStreamTag in a
// renamed namespace is taken from the destination namespace, and the
// image it last triggered is rewritten like container images. The pod
// template and the quiesced replicas are the workload step's.
type deploymentConfigTransform struct{}

var _ Transformer = (*deploymentConfigTransform)(nil)

// Name implements Transformer.
func (*deploymentConfigTransform) Name() string { return "deployment-config" }

// AppliesTo implements Transformer: DeploymentConfigs.
func (*deploymentConfigTransform) AppliesTo(gk schema.GroupKind) bool {
	return gk == gkDeploymentConfig
}

// Transform implements Transformer. A trigger without a namespace names
// an ImageStream of the DeploymentConfig's own namespace and stays so.
func (*deploymentConfigTransform) Transform(tc *Context, obj *unstructured.Unstructured) (string, error) {
	for _, t := range nestedSlice(obj.Object, "spec", "triggers") {
		params := nestedMap(asMap(t), "imageChangeParams")
		if params == nil {
			continue
		}
		if img, ok := params["lastTriggeredImage"].(string); ok && img != "" {
			params["lastTriggeredImage"] = tc.Image(img)
		}
		mapImageStreamRef(tc, nestedMap(params, "from"))
	}
	return "", nil
}

// mapImageStreamRef moves a reference to an ImageStreamTag or
// ImageStreamImage of a renamed namespace to the destination namespace.
func mapImageStreamRef(tc *Context, from map[string]interface{}) {
	if from == nil {
		return
	}
	switch from["kind"] {
	case "ImageStreamTag", "ImageStreamImage":
		if ns, _ := from["namespace"].(string); ns != "" {
			from["namespace"] = tc.namespace(ns)
		}
	}
}

// asMap returns v as an object, nil when it is not one.
func asMap(v interface{}) map[string]interface{} {
	m, _ := v.(map[string]interface{})
	return m
}
