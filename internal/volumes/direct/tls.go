package direct

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/mover/certs"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// renewBefore is how long before expiry the certificates are replaced.
const renewBefore = 30 * 24 * time.Hour

// Keys of a transfer's two Secrets: the file names "ferry mover" reads in
// --tls-dir.
var (
	serverKeys = []string{certs.CAFile, certs.ServerCertFile, certs.ServerKeyFile}
	clientKeys = []string{certs.CAFile, certs.ClientCertFile, certs.ClientKeyFile}
)

// tlsState is what the receiver and sender pods need of the certificates.
type tlsState struct {
	// certIPs are the IP addresses the server certificates are valid for.
	certIPs []string
	// renewed is true when new certificates were stored by this call.
	renewed bool
}

// transferSecrets are the stored Secrets of one transfer, nil when missing.
type transferSecrets struct {
	server, client *corev1.Secret
}

// ensureCerts makes sure every transfer has its server Secret in its
// destination namespace and its client Secret in its source namespace,
// all of one CA, both certificates naming the transfer's identity, its
// server certificate valid for its hosts (Service DNS names, load
// balancer address) and at least one of the ready destination nodes.
// Otherwise it makes a new CA and new certificates for every transfer,
// with all node IPs, and stores them; the CA's key is forgotten then, so
// no Secret holds it.
func ensureCerts(ctx context.Context, o Options, transfers []volumes.Transfer, hosts map[volumes.Transfer][]string, allIPs, readyIPs []string) (tlsState, error) {
	if len(transfers) == 0 {
		return tlsState{}, nil
	}
	stored, err := getTransferSecrets(ctx, o, transfers)
	if err != nil {
		return tlsState{}, err
	}
	if ips, ok := certsUsable(o.Migration, transfers, stored, hosts, readyIPs, time.Now()); ok {
		return tlsState{certIPs: ips}, nil
	}
	ca, err := certs.NewAuthority()
	if err != nil {
		return tlsState{}, fmt.Errorf("make the mover CA: %w", err)
	}
	for i, t := range transfers {
		server, client, err := issue(ca, o.Migration, t, append(slices.Clone(allIPs), hosts[t]...))
		if err != nil {
			return tlsState{}, err
		}
		if err := putSecret(ctx, o.Destination.Kube, stored[i].server, server); err != nil {
			return tlsState{}, err
		}
		if err := putSecret(ctx, o.Source.Kube, stored[i].client, client); err != nil {
			return tlsState{}, err
		}
	}
	return tlsState{certIPs: allIPs, renewed: true}, nil
}

// issue makes a transfer's server Secret (for hosts) and client Secret,
// both certificates naming the transfer's identity.
func issue(ca *certs.Authority, migration string, t volumes.Transfer, hosts []string) (server, client *corev1.Secret, err error) {
	id := transferIdentity(migration, t)
	s, err := ca.Server(hosts, id)
	if err != nil {
		return nil, nil, fmt.Errorf("issue the server certificate of %s: %w", id, err)
	}
	c, err := ca.Client(id)
	if err != nil {
		return nil, nil, fmt.Errorf("issue the client certificate of %s: %w", id, err)
	}
	server = secretFor(migration, t, t.DestinationNamespace, serverSecretName(migration, t),
		map[string][]byte{certs.CAFile: ca.CertPEM(), certs.ServerCertFile: s.CertPEM, certs.ServerKeyFile: s.KeyPEM})
	client = secretFor(migration, t, t.SourceNamespace, clientSecretName(migration, t),
		map[string][]byte{certs.CAFile: ca.CertPEM(), certs.ClientCertFile: c.CertPEM, certs.ClientKeyFile: c.KeyPEM})
	return server, client, nil
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// getTransferSecrets gets the Secrets of each transfer.
func getTransferSecrets(ctx context.Context, o Options, transfers []volumes.Transfer) ([]transferSecrets, error) {
	out := make([]transferSecrets, len(transfers))
	for i, t := range transfers {
		var err error
		if out[i].server, err = lookupSecret(ctx, o.Destination.Kube, t.DestinationNamespace, serverSecretName(o.Migration, t)); err != nil {
			return nil, err
		}
		if out[i].client, err = lookupSecret(ctx, o.Source.Kube, t.SourceNamespace, clientSecretName(o.Migration, t)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lookupSecret gets a Secret, or nil when it does not exist.
func lookupSecret(ctx context.Context, kube kubernetes.Interface, namespace, name string) (*corev1.Secret, error) {
	s, err := kube.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get secret %s/%s: %w", namespace, name, err)
	}
	return s, nil
}

// certsUsable tells whether the stored Secrets can serve: all present and
// complete, one CA, each certificate naming its transfer's identity and
// not about to expire, each server certificate valid for its transfer's
// hosts, all for the same IP addresses and at least one ready node. It
// returns those IP addresses.
func certsUsable(migration string, transfers []volumes.Transfer, stored []transferSecrets, hosts map[volumes.Transfer][]string, readyIPs []string, now time.Time) ([]string, bool) {
	if len(transfers) == 0 || len(stored) != len(transfers) {
		return nil, false
	}
	var ca []byte
	var ips []string
	for i, t := range transfers {
		s := stored[i]
		if !complete(s.server, serverKeys) || !complete(s.client, clientKeys) {
			return nil, false
		}
		if i == 0 {
			ca = s.server.Data[certs.CAFile]
		}
		if !bytes.Equal(s.server.Data[certs.CAFile], ca) || !bytes.Equal(s.client.Data[certs.CAFile], ca) {
			return nil, false
		}
		id := transferIdentity(migration, t)
		server, ok := validCert(s.server.Data[certs.ServerCertFile], id, now)
		if !ok {
			return nil, false
		}
		if _, ok := validCert(s.client.Data[certs.ClientCertFile], id, now); !ok {
			return nil, false
		}
		for _, name := range hosts[t] {
			if server.VerifyHostname(name) != nil {
				return nil, false
			}
		}
		var certIPs []string
		for _, ip := range server.IPAddresses {
			certIPs = append(certIPs, ip.String())
		}
		if i == 0 {
			ips = certIPs
		} else if !slices.Equal(certIPs, ips) {
			return nil, false
		}
	}
	if len(readyIPs) > 0 && receiverHost("", ips, readyIPs) == "" {
		return nil, false
	}
	return ips, true
}

// complete tells whether s exists and has every key.
func complete(s *corev1.Secret, keys []string) bool {
	if s == nil {
		return false
	}
	for _, k := range keys {
		if len(s.Data[k]) == 0 {
			return false
		}
	}
	return true
}

// validCert parses a certificate and tells whether it names identity and
// lasts beyond renewBefore.
func validCert(pemBytes []byte, identity string, now time.Time) (*x509.Certificate, bool) {
	c, err := parseCert(pemBytes)
	if err != nil || now.Add(renewBefore).After(c.NotAfter) {
		return nil, false
	}
	for _, u := range c.URIs {
		if u.String() == identity {
			return c, true
		}
	}
	return nil, false
}

func parseCert(pemBytes []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("no PEM block")
	}
	return x509.ParseCertificate(block.Bytes)
}

// secretFor is a Secret of a transfer holding data.
func secretFor(migration string, t volumes.Transfer, namespace, name string, data map[string][]byte) *corev1.Secret {
	l := moverpod.CommonLabels(migration)
	l[moverpod.LabelTransfer] = moverpod.TransferName(migration, t)
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: l},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
}

// putSecret creates want, or replaces the data of existing.
func putSecret(ctx context.Context, kube kubernetes.Interface, existing, want *corev1.Secret) error {
	if existing == nil {
		_, err := kube.CoreV1().Secrets(want.Namespace).Create(ctx, want, metav1.CreateOptions{FieldManager: fieldManager})
		if err != nil {
			return fmt.Errorf("create secret %s/%s: %w", want.Namespace, want.Name, err)
		}
		return nil
	}
	s := existing.DeepCopy()
	s.Data, s.StringData = want.Data, nil
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	for k, v := range want.Labels {
		s.Labels[k] = v
	}
	if _, err := kube.CoreV1().Secrets(s.Namespace).Update(ctx, s, metav1.UpdateOptions{FieldManager: fieldManager}); err != nil {
		return fmt.Errorf("update secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
}
