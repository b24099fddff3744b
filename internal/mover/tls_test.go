package mover_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"
)

// TestMutualTLSRejectsForeignCertificates checks both directions: the
// receiver refuses a client certificate from another CA, and the sender
// refuses a server certificate from another CA.
func TestMutualTLSRejectsForeignCertificates(t *testing.T) {
	good, foreign := newPKI(t), newPKI(t)
	tests := []struct {
		name   string
		server *tls.Config
		client *tls.Config
	}{
		{
			name:   "client certificate from another CA",
			server: serverTLS(t, good),
			client: mixTLS(clientTLS(t, good), clientTLS(t, foreign)),
		},
		{
			name:   "server certificate from another CA",
			server: mixTLS(serverTLS(t, foreign), serverTLS(t, good)),
			client: clientTLS(t, good),
		},
		{
			name:   "everything from another CA",
			server: serverTLS(t, good),
			client: clientTLS(t, foreign),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := t.TempDir(), t.TempDir()
			newTree(t, src).file("secret", []byte("data"))
			r := startReceiver(t, dst, tt.server, false)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := runSync(ctx, t, src, r.addr, tt.client)
			if err == nil {
				t.Fatal("sync succeeded, want a TLS failure")
			}
			if !strings.Contains(err.Error(), "certificate") {
				t.Errorf("sync failed with %v, want a certificate error", err)
			}
			if got := snapshot(t, dst); len(got) != 1 { // only "."
				t.Errorf("destination changed despite the TLS failure: %v", got)
			}
		})
	}
}

// mixTLS returns base with the certificate of other, keeping base's trust.
func mixTLS(base, other *tls.Config) *tls.Config {
	c := base.Clone()
	c.Certificates = other.Certificates
	return c
}

func TestTLSRequiresVersion13(t *testing.T) {
	pki := newPKI(t)
	for _, cfg := range []*tls.Config{serverTLS(t, pki), clientTLS(t, pki)} {
		if cfg.MinVersion != tls.VersionTLS13 {
			t.Errorf("MinVersion = %#x, want TLS 1.3", cfg.MinVersion)
		}
	}
}
