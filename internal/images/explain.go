package images

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Kinds of failure, as Explain names them.
const (
	FailUnauthorized = "unauthorized"
	FailNotFound     = "not found"
	FailTLS          = "TLS"
	FailNetwork      = "network"
	FailOther        = "error"
)

// Classify names the kind of a registry failure.
func Classify(err error) string {
	var te *transport.Error
	if errors.As(err, &te) {
		for _, d := range te.Errors {
			switch d.Code {
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return FailUnauthorized
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
				return FailNotFound
			}
		}
		switch te.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return FailUnauthorized
		case http.StatusNotFound:
			return FailNotFound
		}
	}
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &ue) || errors.As(err, &he) || errors.As(err, &ci) ||
		strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:") ||
		strings.Contains(err.Error(), "HTTP response to HTTPS client") || strings.Contains(err.Error(), "HTTP request to an HTTPS server") {
		return FailTLS
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &ne) || errors.As(err, &oe) || strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host") {
		return FailNetwork
	}
	return FailOther
}

// Explain says what failed in a copy and what to do; source and
// destination name the Clusters whose registries the copy reads and
// writes.
func Explain(err error, source, destination string) string {
	side, image, cluster := "source", "", source
	var ce *Error
	if errors.As(err, &ce) {
		side, image, err = ce.Side, ce.Image, ce.Err
	}
	if side == "destination" {
		cluster = destination
	}
	switch Classify(err) {
	case FailUnauthorized:
		return fmt.Sprintf("%s: %s registry of cluster %s rejected the credentials (%v); fix the Secret named in the Cluster's spec.registry.credentialsSecretRef (keys username+password or token) and `ferry retry`", image, side, cluster, err)
	case FailNotFound:
		return fmt.Sprintf("%s: not found on the %s registry (%v); the workload references an image that is not there: push it again or fix the workload, then `ferry retry`", image, side, err)
	case FailTLS:
		return fmt.Sprintf("%s: TLS with the %s registry of cluster %s failed (%v); give the registry's CA (`ferry cluster add %s --registry-ca FILE`) or, for plain HTTP, --registry-insecure", image, side, cluster, err, cluster)
	case FailNetwork:
		return fmt.Sprintf("%s: cannot reach the %s registry of cluster %s (%v); check its address and the network path from Ferry's controller, then `ferry retry`", image, side, cluster, err)
	}
	return fmt.Sprintf("%s: %v", image, err)
}
