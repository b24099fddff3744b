package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// ServerConfig loads dir's server certificate and requires clients to
// present a certificate signed by dir's CA, over TLS 1.3 only.
func ServerConfig(dir string) (*tls.Config, error) {
	pool, err := loadCA(dir)
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile))
	if err != nil {
		return nil, fmt.Errorf("load server certificate from %s: %w", dir, err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}, nil
}

// ClientConfig loads dir's client certificate and verifies the server
// against dir's CA and serverName, over TLS 1.3 only.
func ClientConfig(dir, serverName string) (*tls.Config, error) {
	pool, err := loadCA(dir)
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, ClientCertFile), filepath.Join(dir, ClientKeyFile))
	if err != nil {
		return nil, fmt.Errorf("load client certificate from %s: %w", dir, err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ServerName:   serverName,
	}, nil
}

func loadCA(dir string) (*x509.CertPool, error) {
	pemBytes, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("read CA certificate from %s: no PEM certificate found", dir)
	}
	return pool, nil
}

// ErrPeerIdentity is the error of a handshake whose peer certificate, valid
// for the CA, does not name the identity [RequirePeer] expects.
var ErrPeerIdentity = errors.New("peer certificate does not name the expected identity")

// ParseIdentity parses an identity: an absolute URI such as
// ferry://migration/m/transfer/0123456789.
func ParseIdentity(identity string) (*url.URL, error) {
	u, err := url.Parse(identity)
	if err != nil {
		return nil, fmt.Errorf("identity %q: %w", identity, err)
	}
	if u.Scheme == "" || u.Host == "" && u.Opaque == "" && u.Path == "" {
		return nil, fmt.Errorf("identity %q: want an absolute URI such as ferry://migration/m/transfer/t", identity)
	}
	return u, nil
}

// RequirePeer makes cfg, a server's or a client's, complete a handshake
// only when the peer's certificate, besides being valid for the CA, names
// identity as a URI subject alternative name; otherwise the handshake
// fails with [ErrPeerIdentity] and a bad-certificate alert. The error
// names both identities and the certificate's serial number, no key
// material.
func RequirePeer(cfg *tls.Config, identity string) error {
	u, err := ParseIdentity(identity)
	if err != nil {
		return err
	}
	want := u.String()
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("%w %s: no peer certificate", ErrPeerIdentity, want)
		}
		leaf := cs.PeerCertificates[0]
		var names []string
		for _, got := range leaf.URIs {
			if got.String() == want {
				return nil
			}
			names = append(names, got.String())
		}
		return fmt.Errorf("%w %s: certificate %x names %v", ErrPeerIdentity, want, leaf.SerialNumber, names)
	}
	return nil
}
