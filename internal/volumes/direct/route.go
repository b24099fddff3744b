package direct

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"ferry.dev/ferry/internal/cluster"
)

// routesGVR is OpenShift's Routes.
var routesGVR = schema.GroupVersionResource{Group: "route.openshift.io", Version: "v1", Resource: "routes"}

// Route is the front of OpenShift's router: a passthrough Route
// (route.openshift.io/v1) per receiver, whose host the router gives.
type Route struct{}

var _ Front = Route{}

func (Route) kind() string                          { return "Route" }
func (Route) resource() schema.GroupVersionResource { return routesGVR }

// Validate: a Route takes no settings.
func (Route) Validate() error { return nil }

func (Route) check(context.Context, *cluster.Clients) error { return nil }

// object is the passthrough Route of a receiver's Service: TLS goes
// through the router untouched to the receiver. The host is left to
// the router.
func (Route) object(svc, _ string) (*unstructured.Unstructured, error) {
	return &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": routesGVR.GroupVersion().String(),
		"kind":       "Route",
		"spec": map[string]interface{}{
			"to":   map[string]interface{}{"kind": "Service", "name": svc},
			"port": map[string]interface{}{"targetPort": "mover"},
			"tls":  map[string]interface{}{"termination": "passthrough"},
		},
	}}, nil
}

// host is the host of a Route: spec.host, which OpenShift's API server
// generates when it is not given, else the host a router admitted it
// under; "" before either.
func (Route) host(r *unstructured.Unstructured) string {
	if h, _, _ := unstructured.NestedString(r.Object, "spec", "host"); h != "" {
		return h
	}
	ingress, _, _ := unstructured.NestedSlice(r.Object, "status", "ingress")
	for _, in := range ingress {
		if m, _ := in.(map[string]interface{}); m != nil {
			if h, _ := m["host"].(string); h != "" {
				return h
			}
		}
	}
	return ""
}
