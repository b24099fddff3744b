package direct

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/discover"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// RouterPort is the port of OpenShift's router that senders dial when
// receivers are behind Routes.
const RouterPort = 443

// routesGVR is OpenShift's Routes.
var routesGVR = schema.GroupVersionResource{Group: "route.openshift.io", Version: "v1", Resource: "routes"}

func (p *Path) useRoute() bool { return p.o.Route && !p.o.SameCluster }

// ensureRoutes ensures a passthrough Route in front of each transfer's
// receiver Service and returns the host each was given ("" while the
// router has not given one). The destination must serve Routes.
func (p *Path) ensureRoutes(ctx context.Context, transfers []volumes.Transfer) (map[volumes.Transfer]string, error) {
	out := map[volumes.Transfer]string{}
	if !p.useRoute() {
		return out, nil
	}
	served, err := discover.Serves(p.o.Destination.Kube.Discovery(), routesGVR)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", p.o.Destination.Name, err)
	}
	if !served {
		return nil, fmt.Errorf("cluster %s has moverService Route but does not serve %s %s: set its mover service to NodePort or LoadBalancer (`ferry cluster add %[1]s --mover-service ...`)",
			p.o.Destination.Name, routesGVR.GroupVersion(), routesGVR.Resource)
	}
	for _, t := range transfers {
		r, err := ensureRoute(ctx, p.o, t)
		if err != nil {
			return nil, err
		}
		out[t] = routeHost(r)
	}
	return out, nil
}

// receiverRoute is the passthrough Route of a transfer's receiver: TLS
// goes through the router untouched to the receiver, which checks the
// sender's client certificate itself. The host is left to the router.
func receiverRoute(o Options, t volumes.Transfer) *unstructured.Unstructured {
	r := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": routesGVR.GroupVersion().String(),
		"kind":       "Route",
		"spec": map[string]interface{}{
			"to":   map[string]interface{}{"kind": "Service", "name": serviceName(o.Migration, t)},
			"port": map[string]interface{}{"targetPort": "mover"},
			"tls":  map[string]interface{}{"termination": "passthrough"},
		},
	}}
	r.SetName(serviceName(o.Migration, t))
	r.SetNamespace(t.DestinationNamespace)
	labels := map[string]string{}
	for k, v := range moverpod.CommonLabels(o.Migration) {
		labels[k] = v
	}
	r.SetLabels(labels)
	return r
}

// ensureRoute creates a transfer's Route unless it exists, and returns it.
func ensureRoute(ctx context.Context, o Options, t volumes.Transfer) (*unstructured.Unstructured, error) {
	want := receiverRoute(o, t)
	ri := o.Destination.Dynamic.Resource(routesGVR).Namespace(want.GetNamespace())
	r, err := ri.Get(ctx, want.GetName(), metav1.GetOptions{})
	if err == nil {
		return r, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("get route %s/%s: %w", want.GetNamespace(), want.GetName(), err)
	}
	r, err = ri.Create(ctx, want, metav1.CreateOptions{FieldManager: fieldManager})
	if err != nil {
		return nil, fmt.Errorf("create route %s/%s: %w", want.GetNamespace(), want.GetName(), err)
	}
	return r, nil
}

// routeHost is the host of a Route: spec.host, which OpenShift's API
// server generates when it is not given, else the host a router admitted
// it under; "" before either.
func routeHost(r *unstructured.Unstructured) string {
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

// deleteRoutes deletes the selected Routes of a cluster that serves them.
func deleteRoutes(ctx context.Context, c *cluster.Clients, sel metav1.ListOptions) error {
	served, err := discover.Serves(c.Kube.Discovery(), routesGVR)
	if err != nil || !served {
		return err
	}
	l, err := c.Dynamic.Resource(routesGVR).Namespace(metav1.NamespaceAll).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("list mover routes of cluster %s: %w", c.Name, err)
	}
	for _, r := range l.Items {
		if err := ignoreNotFound(c.Dynamic.Resource(routesGVR).Namespace(r.GetNamespace()).Delete(ctx, r.GetName(), metav1.DeleteOptions{})); err != nil {
			return fmt.Errorf("delete route %s/%s of cluster %s: %w", r.GetNamespace(), r.GetName(), c.Name, err)
		}
	}
	return nil
}
