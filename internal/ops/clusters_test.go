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
		{name: "unknown mover service", change: func(r *ClusterRegistration) { r.MoverService = "Ingress" }, wantErr: "use NodePort, LoadBalancer or Route"},
		{name: "Route mover service", change: func(r *ClusterRegistration) { r.MoverService = "Route" }},
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
