package cli

import (
	"strings"
	"testing"
)

func TestOutputOptions(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr string
	}{
		{name: "run without -o", err: (&runOptions{}).validate()},
		{name: "run -o name", err: (&runOptions{output: "name"}).validate()},
		{name: "run -o json", err: (&runOptions{output: "json"}).validate(), wantErr: `-o "json": use name`},
		{name: "status -o yaml", err: (&statusOptions{output: "yaml"}).validate(nil)},
		{name: "status -o name", err: (&statusOptions{output: "name"}).validate(nil), wantErr: "use json or yaml"},
		{name: "status --plan", err: (&statusOptions{plan: "shop"}).validate(nil)},
		{name: "status MIGRATION --plan", err: (&statusOptions{plan: "shop"}).validate([]string{"m"}), wantErr: "not both"},
	}
	for _, tt := range tests {
		if tt.wantErr == "" && tt.err != nil || tt.wantErr != "" && (tt.err == nil || !strings.Contains(tt.err.Error(), tt.wantErr)) {
			t.Errorf("%s: %v, want %q", tt.name, tt.err, tt.wantErr)
		}
	}
}
