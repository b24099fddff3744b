package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestVersionCommand(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, out string)
	}{
		{
			name: "text",
			args: []string{"version"},
			check: func(t *testing.T, out string) {
				if !strings.HasPrefix(out, "ferry ") {
					t.Errorf("output %q does not start with %q", out, "ferry ")
				}
			},
		},
		{
			name: "json",
			args: []string{"version", "-o", "json"},
			check: func(t *testing.T, out string) {
				var v map[string]string
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Fatalf("output is not JSON: %v\n%s", err, out)
				}
				if v["version"] == "" || v["goVersion"] == "" {
					t.Errorf("missing fields in %v", v)
				}
			},
		},
		{name: "bad format", args: []string{"version", "-o", "xml"}, wantErr: `unknown output format "xml"`},
		{name: "extra args", args: []string{"version", "now"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := NewRootCommand()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs(tt.args)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, out.String())
		})
	}
}
