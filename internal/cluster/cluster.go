// Package cluster builds clients for the clusters Ferry knows (Cluster
// objects on the host) and checks that they are reachable with enough
// permissions.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// TokenKey is the key of the token in a Cluster's token Secret.
const TokenKey = "token"

// ErrSecret is returned when a Cluster's token Secret is missing or lacks
// the token.
var ErrSecret = errors.New("token secret missing or incomplete")

// Clients are the clients of one cluster.
type Clients struct {
	// Name of the Cluster object.
	Name string
	// Config is the REST configuration.
	Config *rest.Config
	// Kube is the typed clientset.
	Kube kubernetes.Interface
	// Dynamic reads and writes any kind.
	Dynamic dynamic.Interface
	// Metadata lists objects without their content.
	Metadata metadata.Interface
	// Client is a controller-runtime client without a cache.
	Client client.Client
	// Registry is the cluster's image registry (a copy of the Cluster's
	// spec.registry), nil when it has none; Namespace is the Cluster's,
	// where the registry's credentials Secret is.
	Registry  *ferryv1.RegistrySpec
	Namespace string
	// Token is the token these clients authenticate with, as stored
	// (with its expiry when Ferry requested it); empty for the host's own
	// credentials.
	Token Token
	// AsUser says that the token is a user's own (the Cluster's access
	// is User): Ferry does only what that user may, asks no grants and
	// does without cluster-wide reads it is refused.
	AsUser bool
}

// ListIn says where to list what Ferry made in namespaces on this
// cluster: every namespace at once ("") with Ferry's service account,
// which reads cluster-wide, or namespace by namespace with a namespace
// admin's token (every namespace, too, when namespaces is nil).
func (c *Clients) ListIn(namespaces []string) []string {
	if !c.AsUser || namespaces == nil {
		return []string{""}
	}
	return namespaces
}

// Registry builds and caches the clients of registered clusters.
type Registry struct {
	host   *rest.Config
	reader client.Reader
	// home, when set, is Ferry's own namespace: Clusters elsewhere (a
	// namespace admin's) must hold their user's own token.
	home  string
	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	key     string
	clients *Clients
}

// NewRegistry returns a registry that reads Clusters and Secrets with
// reader and reaches the host cluster with host.
func NewRegistry(host *rest.Config, reader client.Reader) *Registry {
	return &Registry{host: host, reader: reader, cache: map[string]cached{}}
}

// Confine makes the registry refuse, outside Ferry's own namespace home,
// every Cluster but those holding their user's own token (access User):
// a namespace admin's Cluster can never borrow the controller's
// credentials or a service account's. It returns r.
func (r *Registry) Confine(home string) *Registry {
	r.home = home
	return r
}

// Clients returns the clients of a Cluster, built anew when the Cluster or
// its Secret changed.
func (r *Registry) Clients(ctx context.Context, c *ferryv1.Cluster) (*Clients, error) {
	cfg, tok, key, err := r.config(ctx, c)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.cache[c.Namespace+"/"+c.Name]; ok && e.key == key {
		return e.clients, nil
	}
	cl, err := NewClients(c.Name, cfg)
	if err != nil {
		return nil, err
	}
	cl.Registry, cl.Namespace, cl.Token, cl.AsUser = c.Spec.Registry.DeepCopy(), c.Namespace, tok, c.Spec.ActsAsUser()
	r.cache[c.Namespace+"/"+c.Name] = cached{key: key, clients: cl}
	return cl, nil
}

// config builds the REST config of a Cluster and a key that changes when
// anything it was built from changes.
func (r *Registry) config(ctx context.Context, c *ferryv1.Cluster) (*rest.Config, Token, string, error) {
	if r.home != "" && c.Namespace != r.home && !c.Spec.ActsAsUser() {
		return nil, Token{}, "", &Problem{Reason: ferryv1.ReasonInsufficientPermissions, Message: fmt.Sprintf(
			"cluster %s is in namespace %s, outside Ferry's namespace %s, so it must hold your own token: register it with `ferry cluster add %s --as-user`",
			c.Name, c.Namespace, r.home, c.Name)}
	}
	if c.Spec.IsHost && c.Spec.URL == "" && !c.Spec.ActsAsUser() {
		return rest.CopyConfig(r.host), Token{}, fmt.Sprintf("host/%d", c.Generation), nil
	}
	if c.Spec.TokenSecretRef == nil {
		return nil, Token{}, "", fmt.Errorf("cluster %s has no tokenSecretRef: %w", c.Name, ErrSecret)
	}
	var sec corev1.Secret
	key := client.ObjectKey{Namespace: c.Namespace, Name: c.Spec.TokenSecretRef.Name}
	if err := r.reader.Get(ctx, key, &sec); err != nil {
		return nil, Token{}, "", fmt.Errorf("get token secret %s of cluster %s: %w: %w", key, c.Name, ErrSecret, err)
	}
	tok := readToken(&sec)
	if tok.Value == "" {
		return nil, Token{}, "", fmt.Errorf("secret %s has no %q key: %w", key, TokenKey, ErrSecret)
	}
	cfg := &rest.Config{
		Host:            c.Spec.URL,
		BearerToken:     tok.Value,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.Spec.CABundle, Insecure: c.Spec.Insecure},
	}
	return cfg, tok, fmt.Sprintf("%d/%s", c.Generation, sec.ResourceVersion), nil
}

// NewClients builds the clients for cfg, tuned for bulk work: high
// client-side rate limits (the API server's own priority and fairness is
// the real limit) and a request timeout.
func NewClients(name string, cfg *rest.Config) (*Clients, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 2000, 4000
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "ferry"
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("clientset for cluster %s: %w", name, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client for cluster %s: %w", name, err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("metadata client for cluster %s: %w", name, err)
	}
	cl, err := client.New(cfg, client.Options{})
	if err != nil {
		return nil, fmt.Errorf("client for cluster %s: %w", name, err)
	}
	return &Clients{Name: name, Config: cfg, Kube: kube, Dynamic: dyn, Metadata: md, Client: cl}, nil
}
