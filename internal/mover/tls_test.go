package mover_test

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/mover/certs"
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

// TestPeerIdentity: with one CA for two transfers, a receiver told its
// transfer's identity refuses the other transfer's valid client
// certificate, and one naming no identity, and accepts its own; a sender
// told the identity refuses the other transfer's valid server
// certificate.
func TestPeerIdentity(t *testing.T) {
	const own, other = "ferry://migration/m/transfer/aaaaaaaaaa", "ferry://migration/m/transfer/bbbbbbbbbb"
	ca, err := certs.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	ownPKI, otherPKI, anonPKI := issuePKI(t, ca, own), issuePKI(t, ca, other), issuePKI(t, ca, "")
	tests := []struct {
		name           string
		server, client *tls.Config
		wantErr        string
	}{
		{"own transfer", requirePeer(t, serverTLS(t, ownPKI), own), requirePeer(t, clientTLS(t, ownPKI), own), ""},
		{"another transfer's client certificate", requirePeer(t, serverTLS(t, ownPKI), own), clientTLS(t, otherPKI), "bad certificate"},
		{"client certificate without identity", requirePeer(t, serverTLS(t, ownPKI), own), clientTLS(t, anonPKI), "bad certificate"},
		{"another transfer's server certificate", serverTLS(t, otherPKI), requirePeer(t, clientTLS(t, ownPKI), own), "expected identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := t.TempDir(), t.TempDir()
			newTree(t, src).file("secret", []byte("data"))
			r := startReceiver(t, dst, tt.server, false)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := runSync(ctx, t, src, r.addr, tt.client)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("sync with its own transfer's certificates: %v", err)
				}
				if got := snapshot(t, dst); len(got) != 2 {
					t.Errorf("destination after the sync: %v", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("sync = %v, want an error containing %q", err, tt.wantErr)
			}
			if got := snapshot(t, dst); len(got) != 1 { // only "."
				t.Errorf("destination changed despite the refused identity: %v", got)
			}
		})
	}
}

// issuePKI writes ca's certificate and a server and a client certificate
// naming identity into a new directory.
func issuePKI(t *testing.T, ca *certs.Authority, identity string) string {
	t.Helper()
	server, err := ca.Server(nil, identity)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Client(identity)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		certs.CAFile: ca.CertPEM(), certs.ServerCertFile: server.CertPEM, certs.ServerKeyFile: server.KeyPEM,
		certs.ClientCertFile: client.CertPEM, certs.ClientKeyFile: client.KeyPEM,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func requirePeer(t *testing.T, cfg *tls.Config, identity string) *tls.Config {
	t.Helper()
	if err := certs.RequirePeer(cfg, identity); err != nil {
		t.Fatal(err)
	}
	return cfg
}
