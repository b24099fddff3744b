package images

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// CheckError is why a registry check failed: a condition reason and a
// message that says what to do.
type CheckError struct {
	Reason  string
	Message string
}

func (e *CheckError) Error() string { return e.Reason + ": " + e.Message }

// Check pings the registry (GET /v2/) with the endpoint's credentials.
// cluster names the Cluster in the messages.
func Check(ctx context.Context, e *Endpoint, cluster string) error {
	reg, err := name.NewRegistry(e.Address, e.nameOptions()...)
	if err != nil {
		return &CheckError{Reason: ferryv1.ReasonRegistryUnreachable, Message: fmt.Sprintf(
			"registry address %q of cluster %s is not HOST[:PORT]: %v; register it again with `ferry cluster add %s --registry HOST[:PORT]`", e.Address, cluster, err, cluster)}
	}
	err = ping(ctx, e, reg)
	if err == nil {
		return nil
	}
	switch Classify(err) {
	case FailUnauthorized:
		return &CheckError{Reason: ferryv1.ReasonRegistryUnauthorized, Message: fmt.Sprintf(
			"registry %s of cluster %s rejected the credentials (%v); fix the Secret named in spec.registry.credentialsSecretRef (keys username+password, or token)", e.Address, cluster, err)}
	case FailTLS:
		return &CheckError{Reason: ferryv1.ReasonRegistryTLS, Message: fmt.Sprintf(
			"TLS with registry %s of cluster %s failed (%v); give the CA that signs its certificate with `ferry cluster add %s --registry-ca FILE`, or --registry-insecure for plain HTTP", e.Address, cluster, err, cluster)}
	}
	return &CheckError{Reason: ferryv1.ReasonRegistryUnreachable, Message: fmt.Sprintf(
		"registry %s of cluster %s does not answer (%v); check the address (as reached from Ferry's controller) and that the registry runs", e.Address, cluster, err)}
}

func ping(ctx context.Context, e *Endpoint, reg name.Registry) error {
	t, err := transport.NewWithContext(ctx, reg, e.auth(), e.transport(), nil)
	if err != nil {
		return err
	}
	u := url.URL{Scheme: reg.Scheme(), Host: reg.RegistryStr(), Path: "/v2/"}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: t}).Do(req)
	if err != nil {
		return err
	}
	defer drain(resp)
	return transport.CheckError(resp, http.StatusOK)
}
