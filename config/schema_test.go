package config

import "testing"

// TestSchemaVersion fails when the CRDs changed without a new
// SchemaVersion: bump it and set SchemaHash to the hash it prints.
func TestSchemaVersion(t *testing.T) {
	got, err := CRDHash()
	if err != nil {
		t.Fatal(err)
	}
	if got != SchemaHash {
		t.Fatalf("the CRDs changed since schema version %d: set SchemaVersion to %d and SchemaHash to %q in config/schema.go", SchemaVersion, SchemaVersion+1, got)
	}
}

func TestTenantRoles(t *testing.T) {
	roles, err := TenantRoles()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ferry-tenant-edit": "rbac.authorization.k8s.io/aggregate-to-admin", "ferry-tenant-view": "rbac.authorization.k8s.io/aggregate-to-view"}
	if len(roles) != len(want) {
		t.Fatalf("%d roles, want %d", len(roles), len(want))
	}
	for _, r := range roles {
		if label, ok := want[r.Name]; !ok || r.Labels[label] != "true" || len(r.Rules) == 0 {
			t.Errorf("role %s: labels %v, %d rules", r.Name, r.Labels, len(r.Rules))
		}
	}
}
