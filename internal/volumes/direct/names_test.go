package direct

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"ferry.dev/ferry/internal/mover/certs"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

func TestNames(t *testing.T) {
	long := strings.Repeat("m", 63)
	base := volumes.Transfer{SourceNamespace: "shop", SourceClaim: "data", DestinationNamespace: "shop", DestinationClaim: "data"}
	tests := []struct {
		name      string
		migration string
		t         volumes.Transfer
	}{
		{"simple", "m1", base},
		{"long names", long, volumes.Transfer{SourceNamespace: long, SourceClaim: strings.Repeat("c", 253), DestinationNamespace: long, DestinationClaim: strings.Repeat("d", 253)}},
		{"other claim", "m1", volumes.Transfer{SourceNamespace: "shop", SourceClaim: "data2", DestinationNamespace: "shop", DestinationClaim: "data"}},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := []string{
				moverpod.TransferName(tt.migration, tt.t), receiverName(tt.migration, tt.t), senderName(tt.migration, tt.t),
				serviceName(tt.migration, tt.t), serverSecretName(tt.migration, tt.t), clientSecretName(tt.migration, tt.t),
			}
			for _, n := range names {
				if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
					t.Errorf("%q is not a DNS-1123 label: %v", n, errs)
				}
				if !strings.HasPrefix(n, "ferry-mover-") {
					t.Errorf("%q lacks the ferry-mover- prefix", n)
				}
			}
			if again := moverpod.TransferName(tt.migration, tt.t); again != names[0] {
				t.Errorf("transferName is not deterministic: %q then %q", names[0], again)
			}
			if prev, ok := seen[names[0]]; ok {
				t.Errorf("transfer name %q also used by %s", names[0], prev)
			}
			seen[names[0]] = tt.name
		})
	}
	if moverpod.TransferName("m1", base) == moverpod.TransferName("m2", base) {
		t.Error("two migrations share a transfer name")
	}
	if serverSecretName("m1", base) == serverSecretName("m2", base) || serverSecretName("m1", base) == clientSecretName("m1", base) {
		t.Error("secret names collide")
	}
	other := base
	other.SourceClaim = "data2"
	if clientSecretName("m1", base) == clientSecretName("m1", other) || transferIdentity("m1", base) == transferIdentity("m1", other) ||
		transferIdentity("m1", base) == transferIdentity("m2", base) {
		t.Error("two transfers share a client secret or an identity")
	}
	if id := transferIdentity(long, base); !strings.HasPrefix(id, "ferry://migration/"+long+"/transfer/") {
		t.Errorf("identity %q", id)
	} else if _, err := certs.ParseIdentity(id); err != nil {
		t.Error(err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name      string
		migration string
		noClients bool
		wantErr   string
	}{
		{"ok", "m", false, ""},
		{"no migration", "", false, "the migration is required"},
		{"bad label", "m/x", false, "not a valid label value"},
		{"no clients", "m", true, "source and destination clients are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions(false)
			o.Migration = tt.migration
			if tt.noClients {
				o.Destination = nil
			}
			_, err := New(o)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("New = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
