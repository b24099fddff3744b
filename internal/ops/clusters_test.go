package ops

import (
	"strings"
	"testing"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestClusterRegistrationValidate(t *testing.T) {
	ok := ClusterRegistration{Name: "src", Role: RoleBoth, MoverService: ferryv1.MoverServiceNodePort}
	tests := []struct {
		name    string
		change  func(*ClusterRegistration)
		wantErr string
	}{
		{name: "valid", change: func(*ClusterRegistration) {}},
		{name: "source, LoadBalancer", change: func(r *ClusterRegistration) { r.Role, r.MoverService = RoleSource, ferryv1.MoverServiceLoadBalancer }},
		{name: "mover service left out: NodePort", change: func(r *ClusterRegistration) { r.MoverService = "" }},
		{name: "unknown role", change: func(r *ClusterRegistration) { r.Role = "sink" }, wantErr: `role "sink": use source, destination or both`},
		{name: "unknown mover service", change: func(r *ClusterRegistration) { r.MoverService = "Gateway" }, wantErr: "use NodePort, LoadBalancer, Route or Ingress"},
		{name: "Route mover service", change: func(r *ClusterRegistration) { r.MoverService = "Route" }},
		{name: "Ingress mover service", change: func(r *ClusterRegistration) {
			r.MoverService, r.MoverIngressClass, r.MoverIngressDomain = "Ingress", "nginx", "movers.example.com"
		}},
		{name: "Ingress without a domain", change: func(r *ClusterRegistration) { r.MoverService, r.MoverIngressClass = "Ingress", "nginx" },
			wantErr: "needs an ingress class and a domain"},
		{name: "Ingress without a class", change: func(r *ClusterRegistration) { r.MoverService, r.MoverIngressDomain = "Ingress", "movers.example.com" },
			wantErr: "--mover-ingress-class CLASS"},
		{name: "Ingress with a URL as domain", change: func(r *ClusterRegistration) {
			r.MoverService, r.MoverIngressClass, r.MoverIngressDomain = "Ingress", "nginx", "https://movers.example.com"
		}, wantErr: `ingress domain "https://movers.example.com"`},
		{name: "ingress settings with another mover service", change: func(r *ClusterRegistration) { r.MoverIngressDomain = "movers.example.com" },
			wantErr: "for mover service Ingress only, not NodePort"},
		{name: "bad name", change: func(r *ClusterRegistration) { r.Name = "Src_1" }, wantErr: "not a valid name"},
	}
	for _, tt := range tests {
		r := ok
		tt.change(&r)
		err := r.Validate()
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}
