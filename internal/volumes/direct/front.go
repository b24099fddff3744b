package direct

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/discover"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// FrontPort is the port of a TLS-passthrough front (OpenShift's router,
// an ingress controller) that senders dial.
const FrontPort = 443

// Front is a TLS-passthrough front on port 443 in front of the
// receivers' ClusterIP Services: one object per receiver (a Route, an
// Ingress) gives it a host, and the front forwards each connection by
// its TLS server name (SNI) to that receiver's Service without
// terminating TLS, so the receiver checks the sender's client
// certificate itself. Senders dial the host on FrontPort; the server
// certificate names it. Route and Ingress are the fronts.
type Front interface {
	// kind names the front's objects in messages ("Route").
	kind() string
	// resource is the API resource of the objects, which the
	// destination must serve.
	resource() schema.GroupVersionResource
	// Validate says what is wrong with the front's settings.
	Validate() error
	// object is the object that puts the Service svc of namespace ns
	// behind the front (without labels: ensureFront adds them).
	object(svc, ns string) (*unstructured.Unstructured, error)
	// host is the host the front serves obj under, "" until it has one.
	host(obj *unstructured.Unstructured) string
	// check says why the destination cannot put receivers behind the
	// front, when it can see why (a missing ingress class).
	check(ctx context.Context, c *cluster.Clients) error
}

// fronts are all fronts, for the cleanup, which removes the objects of
// each whatever the destination uses now.
var fronts = []Front{Route{}, Ingress{}}

func (p *Path) useFront() bool { return p.o.Front != nil && !p.o.SameCluster }

// ensureFronts ensures the front's object for each transfer's receiver
// Service and returns the host each was given ("" while the front has
// not given one).
func (p *Path) ensureFronts(ctx context.Context, transfers []volumes.Transfer) (map[volumes.Transfer]string, error) {
	out := map[volumes.Transfer]string{}
	if !p.useFront() {
		return out, nil
	}
	f, dst := p.o.Front, p.o.Destination
	served, err := discover.Serves(dst.Kube.Discovery(), f.resource())
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", dst.Name, err)
	}
	if !served {
		return nil, fmt.Errorf("cluster %s has moverService %s but does not serve %s %s: set its mover service to NodePort or LoadBalancer (`ferry cluster add %[1]s --mover-service ...`)",
			dst.Name, f.kind(), f.resource().GroupVersion(), f.resource().Resource)
	}
	if err := f.check(ctx, dst); err != nil {
		return nil, err
	}
	for _, t := range transfers {
		obj, err := ensureFront(ctx, p.o, t)
		if err != nil {
			return nil, err
		}
		out[t] = f.host(obj)
	}
	return out, nil
}

// frontObject is the front's object of a transfer, named and labelled as
// its Service.
func frontObject(o Options, t volumes.Transfer) (*unstructured.Unstructured, error) {
	obj, err := o.Front.object(serviceName(o.Migration, t), t.DestinationNamespace)
	if err != nil {
		return nil, err
	}
	obj.SetName(serviceName(o.Migration, t))
	obj.SetNamespace(t.DestinationNamespace)
	obj.SetLabels(moverpod.CommonLabels(o.Migration))
	return obj, nil
}

// ensureFront creates a transfer's front object unless it exists, and
// returns it.
func ensureFront(ctx context.Context, o Options, t volumes.Transfer) (*unstructured.Unstructured, error) {
	want, err := frontObject(o, t)
	if err != nil {
		return nil, err
	}
	kind := o.Front.kind()
	ri := o.Destination.Dynamic.Resource(o.Front.resource()).Namespace(want.GetNamespace())
	obj, err := ri.Get(ctx, want.GetName(), metav1.GetOptions{})
	if err == nil {
		return obj, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("get %s %s/%s: %w", kind, want.GetNamespace(), want.GetName(), err)
	}
	obj, err = ri.Create(ctx, want, metav1.CreateOptions{FieldManager: fieldManager})
	if err != nil {
		return nil, fmt.Errorf("create %s %s/%s: %w", kind, want.GetNamespace(), want.GetName(), err)
	}
	return obj, nil
}

// deleteFronts deletes the selected objects of every front that a
// cluster serves, in namespaces (see cluster.Clients.ListIn). used is the
// front the migration uses now, nil for none.
func deleteFronts(ctx context.Context, c *cluster.Clients, namespaces []string, sel metav1.ListOptions, used Front) error {
	for _, f := range fronts {
		for _, ns := range namespaces {
			if err := deleteFrontObjects(ctx, c, f, ns, sel, used); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteFrontObjects deletes the selected objects of front f. A token
// that may not list f's kind (a namespace admin's, where OpenShift's
// Route kind is served without a role granting it) has not made such
// objects unless the migration uses f: the kind is skipped then.
func deleteFrontObjects(ctx context.Context, c *cluster.Clients, f Front, namespace string, sel metav1.ListOptions, used Front) error {
	served, err := discover.Serves(c.Kube.Discovery(), f.resource())
	if err != nil || !served {
		return err
	}
	res := c.Dynamic.Resource(f.resource())
	l, err := res.Namespace(namespace).List(ctx, sel)
	if apierrors.IsForbidden(err) && (used == nil || used.kind() != f.kind()) {
		logf.FromContext(ctx).V(1).Info("mover fronts not listed: forbidden, and not used", "kind", f.kind(), "cluster", c.Name, "namespace", namespace)
		return nil
	}
	if err != nil {
		return fmt.Errorf("list mover %s of cluster %s: %w", f.resource().Resource, c.Name, err)
	}
	for _, obj := range l.Items {
		if err := ignoreNotFound(res.Namespace(obj.GetNamespace()).Delete(ctx, obj.GetName(), metav1.DeleteOptions{})); err != nil {
			return fmt.Errorf("delete %s %s/%s of cluster %s: %w", f.kind(), obj.GetNamespace(), obj.GetName(), c.Name, err)
		}
	}
	return nil
}
