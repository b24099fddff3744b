package images

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Keys of a registry credentials Secret.
const (
	UsernameKey = "username"
	PasswordKey = "password"
	TokenKey    = "token"
)

// Endpoint is how the copy reaches one registry.
type Endpoint struct {
	// Address is HOST[:PORT].
	Address string
	// Auth answers the registry's challenge; anonymous when nil.
	Auth authn.Authenticator
	// Transport carries the requests (TLS settings); the default when nil.
	Transport http.RoundTripper
	// Insecure allows plain HTTP.
	Insecure bool
}

// EndpointFor builds the endpoint of a Cluster's registry, reading its
// credentials Secret in namespace with c.
func EndpointFor(ctx context.Context, c client.Reader, namespace string, spec *ferryv1.RegistrySpec) (*Endpoint, error) {
	e := &Endpoint{Address: spec.Address, Insecure: spec.Insecure, Auth: authn.Anonymous}
	t, err := NewTransport(spec.CABundle, spec.Insecure)
	if err != nil {
		return nil, err
	}
	e.Transport = t
	if spec.CredentialsSecretRef == nil {
		return e, nil
	}
	var sec corev1.Secret
	key := client.ObjectKey{Namespace: namespace, Name: spec.CredentialsSecretRef.Name}
	if err := c.Get(ctx, key, &sec); err != nil {
		return nil, fmt.Errorf("get registry credentials secret %s: %w", key, err)
	}
	e.Auth, err = AuthFromSecret(sec.Data)
	if err != nil {
		return nil, fmt.Errorf("registry credentials secret %s: %w", key, err)
	}
	return e, nil
}

// AuthFromSecret returns the authenticator of a credentials Secret's
// data: a bearer token, or a username and password.
func AuthFromSecret(data map[string][]byte) (authn.Authenticator, error) {
	if tok := string(data[TokenKey]); tok != "" {
		return &authn.Bearer{Token: tok}, nil
	}
	user, pass := string(data[UsernameKey]), string(data[PasswordKey])
	if user == "" || pass == "" {
		return nil, fmt.Errorf("needs the key %q, or the keys %q and %q", TokenKey, UsernameKey, PasswordKey)
	}
	return &authn.Basic{Username: user, Password: pass}, nil
}

// NewTransport returns an HTTP transport that trusts the system's CAs and
// caBundle, and skips certificate verification when insecure.
func NewTransport(caBundle []byte, insecure bool) (http.RoundTripper, error) {
	t := remote.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // the user asked for it
	if len(caBundle) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caBundle) {
			return nil, fmt.Errorf("the registry's CA bundle holds no PEM certificate")
		}
		t.TLSClientConfig.RootCAs = pool
	}
	return t, nil
}

func (e *Endpoint) nameOptions() []name.Option {
	if e.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// ref names r on this endpoint's registry (r.Registry is ignored).
func (e *Endpoint) ref(r Ref) (name.Reference, error) {
	r.Registry = e.Address
	if r.Digest != "" {
		r.Tag = ""
	}
	return name.ParseReference(r.String(), e.nameOptions()...)
}

// repo names the repository of r on this endpoint's registry.
func (e *Endpoint) repo(path string) (name.Repository, error) {
	return name.NewRepository(e.Address+"/"+path, e.nameOptions()...)
}

func (e *Endpoint) auth() authn.Authenticator {
	if e.Auth == nil {
		return authn.Anonymous
	}
	return e.Auth
}

func (e *Endpoint) transport() http.RoundTripper {
	if e.Transport == nil {
		return remote.DefaultTransport
	}
	return e.Transport
}

// options are the remote options of this endpoint.
func (e *Endpoint) options(ctx context.Context, jobs int) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithAuth(e.auth()), remote.WithTransport(e.transport()), remote.WithJobs(jobs)}
}
