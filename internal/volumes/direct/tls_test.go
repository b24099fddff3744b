package direct

import (
	"slices"
	"testing"
	"time"

	"ferry.dev/ferry/internal/mover/certs"
	"ferry.dev/ferry/internal/volumes"
)

func TestCertsUsable(t *testing.T) {
	const m = "m"
	tr2 := volumes.Transfer{SourceNamespace: "shop", SourceClaim: "logs", DestinationNamespace: "shop-new", DestinationClaim: "logs-copy"}
	transfers := []volumes.Transfer{testTransfer, tr2}
	hosts := map[volumes.Transfer][]string{testTransfer: serviceHosts(m, testTransfer), tr2: serviceHosts(m, tr2)}
	nodes := []string{"10.0.0.1", "10.0.0.2"}
	issueAll := func(t *testing.T, ips []string) []transferSecrets {
		t.Helper()
		ca, err := certs.NewAuthority()
		if err != nil {
			t.Fatal(err)
		}
		var out []transferSecrets
		for _, tr := range transfers {
			s, c, err := issue(ca, m, tr, append(slices.Clone(ips), hosts[tr]...))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, transferSecrets{s, c})
		}
		return out
	}
	good, other, fewerIPs := issueAll(t, nodes), issueAll(t, nodes), issueAll(t, nodes[:1])
	edit := func(f func([]transferSecrets)) []transferSecrets {
		c := slices.Clone(good)
		f(c)
		return c
	}
	now := time.Now()
	tests := []struct {
		name   string
		stored []transferSecrets
		hosts  map[volumes.Transfer][]string
		ready  []string
		now    time.Time
		want   bool
	}{
		{"usable", good, hosts, []string{"10.0.0.2"}, now, true},
		{"same cluster, no nodes", good, hosts, nil, now, true},
		{"missing secret", edit(func(s []transferSecrets) { s[1].client = nil }), hosts, nil, now, false},
		{"incomplete secret", edit(func(s []transferSecrets) {
			s[0].server = s[0].server.DeepCopy()
			delete(s[0].server.Data, certs.ServerKeyFile)
		}), hosts, nil, now, false},
		{"other CA", edit(func(s []transferSecrets) { s[1] = other[1] }), hosts, nil, now, false},
		{"another transfer's identity", edit(func(s []transferSecrets) { s[1] = s[0] }), hosts, nil, now, false},
		{"server and client of other CAs", edit(func(s []transferSecrets) { s[0].client = other[0].client }), hosts, nil, now, false},
		{"other node IPs", edit(func(s []transferSecrets) { s[1] = fewerIPs[1] }), hosts, nil, now, false},
		{"new service name", good, map[volumes.Transfer][]string{testTransfer: append(slices.Clone(hosts[testTransfer]), "ferry-mover-def.ns.svc")}, nil, now, false},
		{"no ready node named", good, hosts, []string{"10.0.0.3"}, now, false},
		{"about to expire", good, hosts, nil, now.Add(340 * 24 * time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ips, ok := certsUsable(m, transfers, tt.stored, tt.hosts, tt.ready, tt.now)
			if ok != tt.want {
				t.Fatalf("certsUsable = %v, want %v", ok, tt.want)
			}
			if ok && (!slices.Contains(ips, nodes[0]) || !slices.Contains(ips, nodes[1])) {
				t.Errorf("certificate IPs %v", ips)
			}
		})
	}
}
