package certs

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

func TestGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	if err := Generate(dir, []string{"10.0.0.5", "mover.ns.svc"}); err != nil {
		t.Fatal(err)
	}
	modes := map[string]os.FileMode{
		CAFile: 0o644, ServerCertFile: 0o644, ClientCertFile: 0o644,
		ServerKeyFile: 0o600, ClientKeyFile: 0o600,
	}
	for name, want := range modes {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("stat %s: %v", name, err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode = %v, want %v", name, st.Mode().Perm(), want)
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(load(t, dir, CAFile))
	server := load(t, dir, ServerCertFile)
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "10.0.0.5", "mover.ns.svc"} {
		opts := x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if _, err := server.Verify(opts); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	client := load(t, dir, ClientCertFile)
	opts := x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := client.Verify(opts); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if _, err := ServerConfig(dir); err != nil {
		t.Errorf("ServerConfig: %v", err)
	}
	if _, err := ClientConfig(dir, "localhost"); err != nil {
		t.Errorf("ClientConfig: %v", err)
	}
}

func load(t *testing.T, dir, name string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGenerateForIdentity(t *testing.T) {
	const id = "ferry://migration/m/transfer/0123456789"
	dir := t.TempDir()
	if err := GenerateFor(dir, nil, id); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ServerCertFile, ClientCertFile} {
		if c := load(t, dir, name); len(c.URIs) != 1 || c.URIs[0].String() != id {
			t.Errorf("%s names %v, want %s", name, c.URIs, id)
		}
	}
	if err := GenerateFor(t.TempDir(), nil, "transfer-1"); err == nil {
		t.Error("GenerateFor accepted an identity that is not an absolute URI")
	}
}

func TestParseIdentity(t *testing.T) {
	tests := []struct {
		identity string
		ok       bool
	}{
		{"ferry://migration/m/transfer/0123456789", true},
		{"spiffe://cluster.local/ns/shop/sa/mover", true},
		{"urn:ferry:transfer:1", true},
		{"transfer-1", false},
		{"/migration/m", false},
		{"ferry://", false},
		{"%zz", false},
	}
	for _, tt := range tests {
		if _, err := ParseIdentity(tt.identity); (err == nil) != tt.ok {
			t.Errorf("ParseIdentity(%q) = %v, want ok %v", tt.identity, err, tt.ok)
		}
	}
}
