package direct

import (
	"context"
	"errors"
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/volumes"
)

// ingressesGVR is Kubernetes' Ingresses.
var ingressesGVR = networkingv1.SchemeGroupVersion.WithResource("ingresses")

// PassthroughAnnotations are the annotations with which the common
// ingress controllers forward TLS untouched by server name instead of
// terminating it: ingress-nginx (started with --enable-ssl-passthrough),
// HAProxy Technologies' controller and the HAProxy Ingress project's.
// Every receiver's Ingress carries them all; each controller reads its
// own.
var PassthroughAnnotations = map[string]string{
	"nginx.ingress.kubernetes.io/ssl-passthrough": "true",
	"haproxy.org/ssl-passthrough":                 "true",
	"haproxy-ingress.github.io/ssl-passthrough":   "true",
}

// Ingress is the front of an ingress controller that does TLS
// passthrough: an Ingress (networking.k8s.io/v1) of Class per receiver,
// with PassthroughAnnotations and one rule for the host
// <receiver's Service>.<Domain> to the Service's mover port. Names under
// Domain must resolve to the controller from the source's pods.
type Ingress struct {
	// Class is the ingress class (spec.ingressClassName).
	Class string
	// Domain is the DNS domain of the receivers' hosts.
	Domain string
}

var _ Front = Ingress{}

func (Ingress) kind() string                          { return "Ingress" }
func (Ingress) resource() schema.GroupVersionResource { return ingressesGVR }

// Validate checks that the class and the domain are given and are DNS
// names, and that a receiver's host under the domain is one.
func (i Ingress) Validate() error {
	if i.Class == "" || i.Domain == "" {
		return errors.New("moverService Ingress needs an ingress class and a domain (`ferry cluster add NAME --mover-service Ingress --mover-ingress-class CLASS --mover-ingress-domain DOMAIN`)")
	}
	if errs := validation.IsDNS1123Subdomain(i.Class); len(errs) > 0 {
		return fmt.Errorf("ingress class %q: %s", i.Class, strings.Join(errs, "; "))
	}
	return validateIngressDomain(i.Domain)
}

// validateIngressDomain checks that the receivers' hosts under domain
// (<receiver>.<domain>) are valid DNS names.
func validateIngressDomain(domain string) error {
	if errs := validation.IsDNS1123Subdomain(domain); len(errs) > 0 {
		return fmt.Errorf("ingress domain %q: %s", domain, strings.Join(errs, "; "))
	}
	if n := len(domain) + 1 + serviceNameLen; n > validation.DNS1123SubdomainMaxLength {
		return fmt.Errorf("ingress domain %q: too long, receivers' hosts under it would have %d characters (at most %d)",
			domain, n, validation.DNS1123SubdomainMaxLength)
	}
	return nil
}

// serviceNameLen is the length of every receiver Service's name, the
// first label of its host.
var serviceNameLen = len(serviceName("m", volumes.Transfer{}))

// check says whether the ingress class exists on the destination.
func (i Ingress) check(ctx context.Context, c *cluster.Clients) error {
	_, err := c.Kube.NetworkingV1().IngressClasses().Get(ctx, i.Class, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("cluster %s has moverIngressClass %s, but it has no IngressClass %[2]s: give the class of an ingress controller that does TLS passthrough (`ferry cluster add %[1]s --mover-service Ingress --mover-ingress-class CLASS ...`)",
			c.Name, i.Class)
	}
	if err != nil {
		return fmt.Errorf("get ingress class %s of cluster %s: %w", i.Class, c.Name, err)
	}
	return nil
}

// object is the Ingress of a receiver's Service.
func (i Ingress) object(svc, ns string) (*unstructured.Unstructured, error) {
	prefix := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: networkingv1.SchemeGroupVersion.String(), Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{Name: svc, Namespace: ns, Annotations: PassthroughAnnotations},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To(i.Class),
			Rules: []networkingv1.IngressRule{{
				Host: svc + "." + i.Domain,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
						Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: "mover"}},
					}}},
				}},
			}},
		},
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ing)
	if err != nil {
		return nil, fmt.Errorf("ingress %s/%s: %w", ns, svc, err)
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// host is the host of the Ingress's first rule, as Ferry made it.
func (Ingress) host(obj *unstructured.Unstructured) string {
	rules, _, _ := unstructured.NestedSlice(obj.Object, "spec", "rules")
	if len(rules) == 0 {
		return ""
	}
	m, _ := rules[0].(map[string]interface{})
	h, _ := m["host"].(string)
	return h
}
