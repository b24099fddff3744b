package cli

import (
	"strings"
	"testing"
)

func TestParsePVCOverrideVerify(t *testing.T) {
	tests := []struct {
		in      string
		verify  bool
		wantErr string
	}{
		{in: "shop/data:verify=true", verify: true},
		{in: "shop/data:name=data-v2,verify=false"},
		{in: "shop/data:verify=maybe", wantErr: "give true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			o, err := parsePVCOverride(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || o.Verify != tt.verify {
				t.Fatalf("got %+v, %v; want verify %v", o, err, tt.verify)
			}
		})
	}
}
