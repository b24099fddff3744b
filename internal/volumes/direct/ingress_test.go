package direct

import (
	"context"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/volumes"
)

func TestReceiverIngress(t *testing.T) {
	o := Options{Migration: "m1", Front: Ingress{Class: "passthrough", Domain: "movers.example.com"}}
	tr := volumes.Transfer{SourceNamespace: "a", SourceClaim: "data", DestinationNamespace: "b", DestinationClaim: "data"}
	obj, err := frontObject(o, tr)
	if err != nil {
		t.Fatal(err)
	}
	var ing networkingv1.Ingress
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &ing); err != nil {
		t.Fatal(err)
	}
	svc := serviceName("m1", tr)
	if ing.APIVersion != "networking.k8s.io/v1" || ing.Kind != "Ingress" || ing.Namespace != "b" || ing.Name != svc {
		t.Errorf("ingress %s %s %s/%s", ing.APIVersion, ing.Kind, ing.Namespace, ing.Name)
	}
	if ing.Labels[ferryv1.LabelMigration] != "m1" || ing.Labels[ferryv1.LabelManagedBy] != ferryv1.ManagedByValue {
		t.Errorf("ingress labels %v", ing.Labels)
	}
	if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "passthrough" {
		t.Errorf("ingress class %v, want passthrough", ing.Spec.IngressClassName)
	}
	if ing.Annotations["nginx.ingress.kubernetes.io/ssl-passthrough"] != "true" || ing.Annotations["haproxy.org/ssl-passthrough"] != "true" {
		t.Errorf("passthrough annotations missing: %v", ing.Annotations)
	}
	if len(ing.Spec.TLS) != 0 || ing.Spec.DefaultBackend != nil {
		t.Errorf("the controller must not terminate TLS nor serve a default backend: %+v", ing.Spec)
	}
	if len(ing.Spec.Rules) != 1 {
		t.Fatalf("rules %+v, want one", ing.Spec.Rules)
	}
	rule := ing.Spec.Rules[0]
	if want := svc + ".movers.example.com"; rule.Host != want || (Ingress{}).host(obj) != want {
		t.Errorf("host %q (read back %q), want %q", rule.Host, (Ingress{}).host(obj), want)
	}
	if rule.HTTP == nil || len(rule.HTTP.Paths) != 1 {
		t.Fatalf("paths %+v, want one", rule.HTTP)
	}
	p := rule.HTTP.Paths[0]
	if p.Path != "/" || p.PathType == nil || *p.PathType != networkingv1.PathTypePrefix ||
		p.Backend.Service == nil || p.Backend.Service.Name != svc || p.Backend.Service.Port.Name != "mover" {
		t.Errorf("path %+v backend %+v", p, p.Backend.Service)
	}
	if s := receiverService(o, tr); s.Spec.Type != "ClusterIP" || s.Spec.Ports[0].Name != "mover" {
		t.Errorf("receiver service %s port %s, want ClusterIP with port mover behind the Ingress", s.Spec.Type, s.Spec.Ports[0].Name)
	}
	if got := senderAddress(o, tr, rule.Host, 0); got != rule.Host+":443" {
		t.Errorf("sender dials %s", got)
	}
}

func TestIngressValidate(t *testing.T) {
	tests := []struct {
		name    string
		in      Ingress
		wantErr string
	}{
		{name: "class and domain", in: Ingress{Class: "nginx", Domain: "movers.example.com"}},
		{name: "no domain", in: Ingress{Class: "nginx"}, wantErr: "needs an ingress class and a domain"},
		{name: "no class", in: Ingress{Domain: "movers.example.com"}, wantErr: "--mover-ingress-class"},
		{name: "domain with a scheme", in: Ingress{Class: "nginx", Domain: "https://movers.example.com"}, wantErr: `ingress domain "https://movers.example.com"`},
		{name: "wildcard domain", in: Ingress{Class: "nginx", Domain: "*.example.com"}, wantErr: "ingress domain"},
		{name: "upper-case class", in: Ingress{Class: "NGINX", Domain: "example.com"}, wantErr: `ingress class "NGINX"`},
		{name: "domain too long for the hosts", in: Ingress{Class: "nginx", Domain: strings.Repeat("a.", 120) + "example.com"}, wantErr: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Validate()
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewRefusesBadFront(t *testing.T) {
	o := testOptions(false)
	o.Front = Ingress{Class: "nginx"}
	if _, err := New(o); err == nil || !strings.Contains(err.Error(), "domain") {
		t.Errorf("New with an Ingress front without domain: %v", err)
	}
}

func TestIngressCheckClass(t *testing.T) {
	o := testOptions(false)
	f := Ingress{Class: "passthrough", Domain: "movers.example.com"}
	err := f.check(context.Background(), o.Destination)
	if err == nil || !strings.Contains(err.Error(), "has no IngressClass passthrough") || !strings.Contains(err.Error(), "--mover-ingress-class") {
		t.Errorf("check without the class: %v", err)
	}
	class := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "passthrough"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}
	if _, err := o.Destination.Kube.NetworkingV1().IngressClasses().Create(context.Background(), class, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.check(context.Background(), o.Destination); err != nil {
		t.Errorf("check with the class: %v", err)
	}
}
