package direct

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestCertsUsable(t *testing.T) {
	dns := []string{"ferry-mover-abc.ns.svc", "ferry-mover-abc.ns.svc.cluster.local"}
	files, err := generate(append([]string{"10.0.0.1", "10.0.0.2"}, dns...))
	if err != nil {
		t.Fatal(err)
	}
	other, err := generate(dns)
	if err != nil {
		t.Fatal(err)
	}
	server := secretFor("m", "dst", "s", files, serverKeys)
	client := secretFor("m", "src", "c", files, clientKeys)
	foreignClient := secretFor("m", "src2", "c", other, clientKeys)
	incomplete := server.DeepCopy()
	delete(incomplete.Data, "server.key")
	now := time.Now()
	tests := []struct {
		name    string
		servers []*corev1.Secret
		clients []*corev1.Secret
		dns     []string
		ready   []string
		now     time.Time
		want    bool
	}{
		{"usable", []*corev1.Secret{server, server}, []*corev1.Secret{client}, dns, []string{"10.0.0.2"}, now, true},
		{"same cluster, no nodes", []*corev1.Secret{server}, []*corev1.Secret{client}, dns, nil, now, true},
		{"missing secret", []*corev1.Secret{server, nil}, []*corev1.Secret{client}, dns, nil, now, false},
		{"incomplete secret", []*corev1.Secret{incomplete}, []*corev1.Secret{client}, dns, nil, now, false},
		{"other CA", []*corev1.Secret{server}, []*corev1.Secret{client, foreignClient}, dns, nil, now, false},
		{"new service name", []*corev1.Secret{server}, []*corev1.Secret{client}, append(dns, "ferry-mover-def.ns.svc"), nil, now, false},
		{"no ready node named", []*corev1.Secret{server}, []*corev1.Secret{client}, dns, []string{"10.0.0.3"}, now, false},
		{"about to expire", []*corev1.Secret{server}, []*corev1.Secret{client}, dns, nil, now.Add(340 * 24 * time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ips, ok := certsUsable(tt.servers, tt.clients, tt.dns, tt.ready, tt.now)
			if ok != tt.want {
				t.Fatalf("certsUsable = %v, want %v", ok, tt.want)
			}
			if ok && (!slices.Contains(ips, "10.0.0.1") || !slices.Contains(ips, "10.0.0.2")) {
				t.Errorf("certificate IPs %v", ips)
			}
		})
	}
}
