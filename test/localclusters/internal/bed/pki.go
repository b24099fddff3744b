package bed

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki is the certificate material of one cluster.
type pki struct {
	dir string
}

func (c *Cluster) pki() pki { return pki{dir: c.Path("pki")} }

func (p pki) path(name string) string { return filepath.Join(p.dir, name) }

// generate writes a CA, the API server's serving certificate, the
// service-account signing key and the admin token, unless they exist.
func (p pki) generate(c *Cluster) error {
	if _, err := os.Stat(p.path("token")); err == nil {
		return nil
	}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return fmt.Errorf("create pki folder: %w", err)
	}
	caKey, caCert, err := newCA("ferry-localclusters-" + c.Name)
	if err != nil {
		return err
	}
	if err := writeCert(p.path("ca.crt"), caCert.Raw); err != nil {
		return err
	}
	if err := p.serving(c, caKey, caCert); err != nil {
		return err
	}
	if err := p.serviceAccountKey(); err != nil {
		return err
	}
	return p.token()
}

func newCA(cn string) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

func (p pki) serving(c *Cluster, caKey *ecdsa.PrivateKey, ca *x509.Certificate) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate serving key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default",
			"kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(c.HostIP()), net.ParseIP(c.APIServiceIP())},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("sign serving certificate: %w", err)
	}
	if err := writeCert(p.path("apiserver.crt"), der); err != nil {
		return err
	}
	return writeKey(p.path("apiserver.key"), key)
}

func (p pki) serviceAccountKey() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generate service-account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("encode service-account public key: %w", err)
	}
	if err := os.WriteFile(p.path("sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		return fmt.Errorf("write sa.pub: %w", err)
	}
	return writeKey(p.path("sa.key"), key)
}

// token writes a random admin token and the API server's token file that
// maps it to an admin user in system:masters.
func (p pki) token() error {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("generate token: %w", err)
	}
	tok := hex.EncodeToString(b)
	line := fmt.Sprintf("%s,admin,admin,system:masters\n", tok)
	if err := os.WriteFile(p.path("tokens.csv"), []byte(line), 0o600); err != nil {
		return fmt.Errorf("write tokens.csv: %w", err)
	}
	return os.WriteFile(p.path("token"), []byte(tok), 0o600)
}

func writeCert(path string, der []byte) error {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeKey(path string, key any) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode key %s: %w", path, err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// kubeconfig renders an admin kubeconfig for the cluster.
func (c *Cluster) kubeconfig() (string, error) {
	p := c.pki()
	ca, err := os.ReadFile(p.path("ca.crt"))
	if err != nil {
		return "", fmt.Errorf("read CA: %w", err)
	}
	tok, err := os.ReadFile(p.path("token"))
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    certificate-authority-data: %[3]s
users:
- name: %[1]s-admin
  user:
    token: %[4]s
contexts:
- name: %[1]s
  context:
    cluster: %[1]s
    user: %[1]s-admin
current-context: %[1]s
`, c.Name, c.APIServer(), b64(ca), string(tok)), nil
}
