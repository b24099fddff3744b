package config

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

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

// TestTenantRolesMatchDocs: the tables of docs/rbac.md for the tenant
// roles list exactly their rules.
func TestTenantRolesMatchDocs(t *testing.T) {
	raw, err := os.ReadFile("../docs/rbac.md")
	if err != nil {
		t.Fatal(err)
	}
	roles, err := TenantRoles()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		_, section, ok := strings.Cut(string(raw), "### "+r.Name+" ")
		if !ok {
			t.Errorf("docs/rbac.md has no section for %s", r.Name)
			continue
		}
		section, _, _ = strings.Cut(section, "\n### ")
		section, _, _ = strings.Cut(section, "\nBefore:")
		var rows []string
		for _, line := range strings.Split(section, "\n") {
			if cells := strings.Split(line, "|"); len(cells) >= 5 && strings.Contains(cells[1], "`") {
				rows = append(rows, strings.Join(ticked(cells[1]), ",")+" "+strings.Join(ticked(cells[2]), ",")+" "+strings.Join(ticked(cells[3]), ","))
			}
		}
		var want []string
		for _, rule := range r.Rules {
			want = append(want, strings.Join(rule.APIGroups, ",")+" "+strings.Join(rule.Resources, ",")+" "+strings.Join(rule.Verbs, ","))
		}
		if !slices.Equal(rows, want) {
			t.Errorf("docs/rbac.md for %s:\n%s\nrbac/tenant.yaml:\n%s", r.Name, strings.Join(rows, "\n"), strings.Join(want, "\n"))
		}
	}
}

var tick = regexp.MustCompile("`([^`]*)`")

// ticked returns the back-quoted values of a table cell.
func ticked(cell string) []string {
	var out []string
	for _, m := range tick.FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1])
	}
	return out
}
