package sniproxy

import (
	"context"
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// PassthroughAnnotation is the annotation (ingress-nginx's) without which
// the IngressController does not forward to an Ingress, as ingress-nginx
// would terminate TLS instead.
const PassthroughAnnotation = "nginx.ingress.kubernetes.io/ssl-passthrough"

// ControllerName is the controller of the IngressClass that
// StartIngressController makes.
const ControllerName = "ferry.dev/test-sni-proxy"

// IngressController plays an ingress controller started with TLS
// passthrough, for the Ingresses of one class in every namespace: a
// connection whose server name is the host of a rule of such an Ingress
// with PassthroughAnnotation "true" goes, untouched, to the Service of
// the rule's first path.
type IngressController struct {
	*Proxy
	// Class is the ingress class it serves.
	Class string
	kube  kubernetes.Interface
}

// StartIngressController ensures the IngressClass class (controller
// ControllerName; left on the cluster, as the test bed's CRDs are: an
// ingress class nothing uses changes nothing) and serves its Ingresses
// on addr (HOST:PORT). Close stops it.
func StartIngressController(ctx context.Context, kube kubernetes.Interface, addr, class string) (*IngressController, error) {
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: class}, Spec: networkingv1.IngressClassSpec{Controller: ControllerName}}
	if _, err := kube.NetworkingV1().IngressClasses().Create(ctx, ic, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create ingress class %s: %w", class, err)
	}
	c := &IngressController{Class: class, kube: kube}
	p, err := Start(kube, addr, c.backend)
	if err != nil {
		return nil, err
	}
	c.Proxy = p
	return c, nil
}

// backend is the Service of the rule for host sni of a passthrough
// Ingress of the class.
func (c *IngressController) backend(ctx context.Context, sni string) (Backend, error) {
	l, err := c.kube.NetworkingV1().Ingresses(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return Backend{}, err
	}
	for _, ing := range l.Items {
		if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != c.Class {
			continue
		}
		if b, ok := ruleBackend(ing, sni); ok {
			if ing.Annotations[PassthroughAnnotation] != "true" {
				return Backend{}, fmt.Errorf("ingress %s/%s for %s: no TLS passthrough (annotation %s)", ing.Namespace, ing.Name, sni, PassthroughAnnotation)
			}
			return b, nil
		}
	}
	return Backend{}, fmt.Errorf("no Ingress of class %s with host %q", c.Class, sni)
}

// ruleBackend is the Service of the first path of ing's rule for host.
func ruleBackend(ing networkingv1.Ingress, host string) (Backend, bool) {
	for _, r := range ing.Spec.Rules {
		if r.Host != host || r.HTTP == nil || len(r.HTTP.Paths) == 0 || r.HTTP.Paths[0].Backend.Service == nil {
			continue
		}
		svc := r.HTTP.Paths[0].Backend.Service
		return Backend{Namespace: ing.Namespace, Service: svc.Name, Port: svc.Port.Name}, true
	}
	return Backend{}, false
}
