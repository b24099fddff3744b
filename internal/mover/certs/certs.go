// Package certs makes and loads the TLS material of the mover: a CA, server
// and client certificates, used for mutual TLS 1.3. A certificate may name
// an identity (a URI subject alternative name, such as one transfer of a
// migration); [RequirePeer] makes a side accept only a peer naming the
// identity it expects, on top of the CA check.
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
	"net/url"
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
// subject alternative names after DefaultHosts. The certificates name no
// identity: any holder of a certificate of the CA is accepted.
func Generate(dir string, hosts []string) error {
	return GenerateFor(dir, hosts, "")
}

// GenerateFor is Generate with both certificates naming identity, a URI
// (see [ParseIdentity]), as a URI subject alternative name, so that
// [RequirePeer] on either side can insist on it. An empty identity names
// none.
func GenerateFor(dir string, hosts []string, identity string) error {
	ca, err := NewAuthority()
	if err != nil {
		return err
	}
	server, err := ca.Server(hosts, identity)
	if err != nil {
		return err
	}
	client, err := ca.Client(identity)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create TLS directory: %w", err)
	}
	if err := writeFile(filepath.Join(dir, CAFile), ca.CertPEM(), 0o644); err != nil {
		return err
	}
	if err := server.write(dir, ServerCertFile, ServerKeyFile); err != nil {
		return err
	}
	return client.write(dir, ClientCertFile, ClientKeyFile)
}

// Authority is a CA held in memory only: it issues the server and client
// certificates of one migration, and its key is never written anywhere.
type Authority struct {
	ca *pair
}

// Issued is a certificate and its private key, PEM-encoded.
type Issued struct {
	CertPEM, KeyPEM []byte
}

// NewAuthority makes a new CA.
func NewAuthority() (*Authority, error) {
	ca, err := newCert("ferry mover CA", nil, func(t *x509.Certificate) {
		t.IsCA = true
		t.BasicConstraintsValid = true
		t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	})
	if err != nil {
		return nil, err
	}
	return &Authority{ca: ca}, nil
}

// CertPEM is the CA certificate, PEM-encoded: the ca.crt of both sides.
func (a *Authority) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.ca.der})
}

// Server issues a server certificate for DefaultHosts and hosts (IP
// addresses or DNS names), naming identity when it is not empty.
func (a *Authority) Server(hosts []string, identity string) (Issued, error) {
	id, err := identityURIs(identity)
	if err != nil {
		return Issued{}, err
	}
	return a.issue("ferry mover server", func(t *x509.Certificate) {
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		addHosts(t, append(append([]string{}, DefaultHosts...), hosts...))
		t.URIs = id
	})
}

// Client issues a client certificate naming identity when it is not empty.
func (a *Authority) Client(identity string) (Issued, error) {
	id, err := identityURIs(identity)
	if err != nil {
		return Issued{}, err
	}
	return a.issue("ferry mover client", func(t *x509.Certificate) {
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		t.URIs = id
	})
}

func (a *Authority) issue(cn string, edit func(*x509.Certificate)) (Issued, error) {
	p, err := newCert(cn, a.ca, edit)
	if err != nil {
		return Issued{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(p.key)
	if err != nil {
		return Issued{}, fmt.Errorf("encode key of %s: %w", cn, err)
	}
	return Issued{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
	}, nil
}

// write writes the certificate and the key (mode 0600) into dir.
func (i Issued) write(dir, certName, keyName string) error {
	if err := writeFile(filepath.Join(dir, certName), i.CertPEM, 0o644); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, keyName), i.KeyPEM, 0o600)
}

// identityURIs is the URI subject alternative names of a certificate
// naming identity: none when it is empty.
func identityURIs(identity string) ([]*url.URL, error) {
	if identity == "" {
		return nil, nil
	}
	u, err := ParseIdentity(identity)
	if err != nil {
		return nil, err
	}
	return []*url.URL{u}, nil
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

// writeFile writes atomically, so a reader never sees half a key, and
// sets the mode explicitly regardless of umask.
func writeFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
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
