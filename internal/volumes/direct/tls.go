package direct

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/mover/certs"
	"ferry.dev/ferry/internal/volumes"
)

// renewBefore is how long before expiry the certificates are replaced.
const renewBefore = 30 * 24 * time.Hour

// Keys of the two Secrets: the file names "ferry mover" reads in --tls-dir.
var (
	serverKeys = []string{certs.CAFile, certs.ServerCertFile, certs.ServerKeyFile}
	clientKeys = []string{certs.CAFile, certs.ClientCertFile, certs.ClientKeyFile}
)

// tlsState is what the receiver and sender pods need of the certificates.
type tlsState struct {
	// certIPs are the IP addresses the server certificate is valid for.
	certIPs []string
	// renewed is true when new certificates were stored by this call.
	renewed bool
}

// ensureCerts makes sure every destination namespace has the server
// Secret and every source namespace the client Secret, all of one CA, with
// a server certificate valid for hosts (the Service DNS names) and at least
// one of the ready destination nodes. Otherwise it makes new certificates
// for hosts and all node IPs and stores them everywhere.
func ensureCerts(ctx context.Context, o Options, transfers []volumes.Transfer, dnsNames, allIPs, readyIPs []string) (tlsState, error) {
	var srcNS, dstNS []string
	for _, t := range transfers {
		srcNS = appendUnique(srcNS, t.SourceNamespace)
		dstNS = appendUnique(dstNS, t.DestinationNamespace)
	}
	servers, err := getSecrets(ctx, o.Destination.Kube, dstNS, serverSecretName(o.Migration))
	if err != nil {
		return tlsState{}, err
	}
	clients, err := getSecrets(ctx, o.Source.Kube, srcNS, clientSecretName(o.Migration))
	if err != nil {
		return tlsState{}, err
	}
	if ips, ok := certsUsable(servers, clients, dnsNames, readyIPs, time.Now()); ok {
		return tlsState{certIPs: ips}, nil
	}
	files, err := generate(append(slices.Clone(allIPs), dnsNames...))
	if err != nil {
		return tlsState{}, err
	}
	for i, ns := range dstNS {
		if err := putSecret(ctx, o.Destination.Kube, servers[i], secretFor(o.Migration, ns, serverSecretName(o.Migration), files, serverKeys)); err != nil {
			return tlsState{}, err
		}
	}
	for i, ns := range srcNS {
		if err := putSecret(ctx, o.Source.Kube, clients[i], secretFor(o.Migration, ns, clientSecretName(o.Migration), files, clientKeys)); err != nil {
			return tlsState{}, err
		}
	}
	return tlsState{certIPs: allIPs, renewed: true}, nil
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// getSecrets gets the Secret name in each namespace; missing ones are nil.
func getSecrets(ctx context.Context, kube kubernetes.Interface, namespaces []string, name string) ([]*corev1.Secret, error) {
	out := make([]*corev1.Secret, len(namespaces))
	for i, ns := range namespaces {
		s, err := kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return nil, fmt.Errorf("get secret %s/%s: %w", ns, name, err)
		default:
			out[i] = s
		}
	}
	return out, nil
}

// certsUsable tells whether the stored Secrets can serve: all present and
// complete, one CA, a server certificate valid for every DNS name and at
// least one ready node, not about to expire. It returns the IP addresses
// of the server certificate.
func certsUsable(servers, clients []*corev1.Secret, dnsNames, readyIPs []string, now time.Time) ([]string, bool) {
	if len(servers) == 0 || len(clients) == 0 {
		return nil, false
	}
	var ca []byte
	for i, s := range append(slices.Clone(servers), clients...) {
		keys := serverKeys
		if i >= len(servers) {
			keys = clientKeys
		}
		if s == nil {
			return nil, false
		}
		for _, k := range keys {
			if len(s.Data[k]) == 0 {
				return nil, false
			}
		}
		if ca == nil {
			ca = s.Data[certs.CAFile]
		} else if !bytes.Equal(ca, s.Data[certs.CAFile]) {
			return nil, false
		}
	}
	server, err := parseCert(servers[0].Data[certs.ServerCertFile])
	if err != nil || now.Add(renewBefore).After(server.NotAfter) {
		return nil, false
	}
	for _, s := range servers[1:] {
		if !bytes.Equal(s.Data[certs.ServerCertFile], servers[0].Data[certs.ServerCertFile]) {
			return nil, false
		}
	}
	for _, name := range dnsNames {
		if server.VerifyHostname(name) != nil {
			return nil, false
		}
	}
	var ips []string
	for _, ip := range server.IPAddresses {
		ips = append(ips, ip.String())
	}
	if len(readyIPs) > 0 && receiverHost("", ips, readyIPs) == "" {
		return nil, false
	}
	return ips, true
}

func parseCert(pemBytes []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("no PEM block")
	}
	return x509.ParseCertificate(block.Bytes)
}

// generate makes new certificates with package certs and returns the
// files by name. It writes them to a temporary directory it removes
// again, on /dev/shm when the default one is read-only.
func generate(hosts []string) (map[string][]byte, error) {
	dir, err := os.MkdirTemp("", "ferry-mover-tls-")
	if err != nil {
		var err2 error
		if dir, err2 = os.MkdirTemp("/dev/shm", "ferry-mover-tls-"); err2 != nil {
			return nil, fmt.Errorf("make a directory for the mover certificates: %w", err)
		}
	}
	defer os.RemoveAll(dir)
	if err := certs.Generate(dir, hosts); err != nil {
		return nil, fmt.Errorf("generate mover certificates: %w", err)
	}
	files := map[string][]byte{}
	for _, name := range []string{certs.CAFile, certs.ServerCertFile, certs.ServerKeyFile, certs.ClientCertFile, certs.ClientKeyFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read mover certificate: %w", err)
		}
		files[name] = b
	}
	return files, nil
}

// secretFor is a TLS Secret holding the given files.
func secretFor(migration, namespace, name string, files map[string][]byte, keys []string) *corev1.Secret {
	data := map[string][]byte{}
	for _, k := range keys {
		data[k] = files[k]
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: commonLabels(migration)},
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
