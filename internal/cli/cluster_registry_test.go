package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRegistryFlags(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "creds")
	if err := os.WriteFile(creds, []byte("# registry\nusername = ferry\npassword=s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("ferry:s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		flags registryFlags
		err   string
	}{
		{name: "none"},
		{name: "address only", flags: registryFlags{address: "10.200.1.1:5000", insecure: true}},
		{name: "internal without address", flags: registryFlags{internal: "reg.svc:5000"}, err: "need --registry"},
		{name: "secret and file", flags: registryFlags{address: "r:5000", secret: "s", credentialsFile: creds}, err: "not both"},
		{name: "credentials file", flags: registryFlags{address: "r:5000", credentialsFile: creds}},
		{name: "bad credentials file", flags: registryFlags{address: "r:5000", credentialsFile: bad}, err: "line 1"},
		{name: "missing CA file", flags: registryFlags{address: "r:5000", caFile: filepath.Join(dir, "none.pem")}, err: "registry CA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, data, err := tt.flags.spec()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("spec() error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (spec == nil) != (tt.flags.address == "") {
				t.Fatalf("spec %+v for address %q", spec, tt.flags.address)
			}
			if tt.flags.credentialsFile != "" && (string(data["username"]) != "ferry" || string(data["password"]) != "s3cret") {
				t.Errorf("credentials %q", data)
			}
		})
	}
}

func TestClusterAddRegistryValidation(t *testing.T) {
	tests := []struct {
		registry, internal, err string
	}{
		{registry: "10.200.1.1:5000"},
		{registry: "registry.example", internal: "image-registry.openshift-image-registry.svc:5000"},
		{registry: "https://registry.example", err: "HOST[:PORT]"},
		{registry: "registry.example/path", err: "HOST[:PORT]"},
		{registry: "registry.example", internal: "reg.svc:5000/ns", err: "internal registry address"},
	}
	for _, tt := range tests {
		o := &clusterAddOptions{name: "c1", role: "both", registry: registryFlags{address: tt.registry, internal: tt.internal}}
		err := o.validate()
		if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("--registry %q --registry-internal %q: %v, want %q", tt.registry, tt.internal, err, tt.err)
		}
	}
}
