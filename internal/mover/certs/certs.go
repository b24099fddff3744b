// Package certs makes and loads the per-migration TLS material of the
// mover: a CA, a server and a client certificate, used for mutual TLS 1.3.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// File names inside a TLS directory.
const (
	CAFile         = "ca.crt"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
	ClientCertFile = "client.crt"
	ClientKeyFile  = "client.key"
)

// DefaultHosts are always in the server certificate.
var DefaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// Validity is how long generated certificates last.
const Validity = 365 * 24 * time.Hour

type pair struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

// Generate writes a new CA plus server and client certificates into dir.
// hosts (IP addresses or DNS names) are added to the server certificate's
// subject alternative names after DefaultHosts.
func Generate(dir string, hosts []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create TLS directory: %w", err)
	}
	ca, err := newCert("ferry mover CA", nil, func(t *x509.Certificate) {
		t.IsCA = true
		t.BasicConstraintsValid = true
		t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	})
	if err != nil {
		return err
	}
	server, err := newCert("ferry mover server", ca, func(t *x509.Certificate) {
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		addHosts(t, append(append([]string{}, DefaultHosts...), hosts...))
	})
	if err != nil {
		return err
	}
	client, err := newCert("ferry mover client", ca, func(t *x509.Certificate) {
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	})
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, CAFile), "CERTIFICATE", ca.der, 0o644); err != nil {
		return err
	}
	if err := writePair(dir, ServerCertFile, ServerKeyFile, server); err != nil {
		return err
	}
	return writePair(dir, ClientCertFile, ClientKeyFile, client)
}

func addHosts(t *x509.Certificate, hosts []string) {
	seen := map[string]bool{}
	for _, h := range hosts {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			t.IPAddresses = append(t.IPAddresses, ip)
		} else {
			t.DNSNames = append(t.DNSNames, h)
		}
	}
}

// newCert makes a key and a certificate signed by parent (self-signed when
// parent is nil); edit fills in the role-specific fields.
func newCert(cn string, parent *pair, edit func(*x509.Certificate)) (*pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key for %s: %w", cn, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate serial for %s: %w", cn, err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"ferry"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(Validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	edit(tmpl)
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, fmt.Errorf("create certificate for %s: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate for %s: %w", cn, err)
	}
	return &pair{cert: cert, der: der, key: key}, nil
}

func writePair(dir, certName, keyName string, p *pair) error {
	if err := writePEM(filepath.Join(dir, certName), "CERTIFICATE", p.der, 0o644); err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(p.key)
	if err != nil {
		return fmt.Errorf("encode key %s: %w", keyName, err)
	}
	return writePEM(filepath.Join(dir, keyName), "PRIVATE KEY", der, 0o600)
}

// writePEM writes atomically, so a reader never sees half a key, and sets
// the mode explicitly regardless of umask.
func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := pem.Encode(f, &pem.Block{Type: typ, Bytes: der}); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
