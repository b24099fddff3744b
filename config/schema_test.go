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
