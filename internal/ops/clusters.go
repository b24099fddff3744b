package ops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/images"
	"ferry.dev/ferry/internal/volumes/direct"
)

// Cluster roles: what Ferry may do on a registered cluster.
const (
	RoleSource      = "source"
	RoleDestination = "destination"
	RoleBoth        = "both"
)

// ClusterRegistration is what registering a cluster takes.
type ClusterRegistration struct {
	// Name of the Cluster on the host.
	Name string
	// Config reaches the cluster as someone who may create a namespace,
	// a service account and roles there (an administrator).
	Config *rest.Config
	// Role is RoleSource, RoleDestination or RoleBoth.
	Role string
	// MoverService is how movers on other clusters reach this one's
	// receivers: ferryv1.MoverServiceNodePort, MoverServiceLoadBalancer,
	// MoverServiceRoute or MoverServiceIngress; empty means NodePort, the
	// Cluster's default.
	MoverService string
	// MoverIngressClass and MoverIngressDomain are the ingress class and
	// the receivers' DNS domain of MoverServiceIngress, which needs both;
	// other mover services take neither.
	MoverIngressClass, MoverIngressDomain string
	// IsHost marks the cluster the controller runs in.
	IsHost bool
	// Registry is the cluster's image registry, nil for none. Its
	// CredentialsSecretRef names an existing Secret in Ferry's namespace,
	// unless RegistryCredentials is set.
	Registry *ferryv1.RegistrySpec
	// RegistryCredentials, when set, are stored in the Secret
	// "registry-<name>" (keys username and password, or token), which the
	// Cluster then names.
	RegistryCredentials map[string][]byte
	// ClusterScopedWrites binds Ferry's optional role for cluster-scoped
	// objects (CRDs, ClusterRoles, ClusterRoleBindings, SCCs, moved PVs).
	ClusterScopedWrites bool
	// TokenTTL is the lifetime of Ferry's token (cluster.DefaultTokenTTL
	// when zero); the controller renews it at half of that.
	TokenTTL time.Duration
	// AsUser registers the user's own token of Config (its bearer token)
	// instead of creating Ferry's service account: for a namespace admin,
	// with whose rights alone Ferry then acts on the cluster (the
	// Cluster's access User). Nothing is created on the cluster.
	AsUser bool
}

// Validate says what is wrong with the registration, if anything.
func (r ClusterRegistration) Validate() error {
	switch r.Role {
	case RoleSource, RoleDestination, RoleBoth:
	default:
		return fmt.Errorf("role %q: use %s, %s or %s", r.Role, RoleSource, RoleDestination, RoleBoth)
	}
	if err := r.validateMoverService(); err != nil {
		return err
	}
	if err := r.validateRegistry(); err != nil {
		return err
	}
	if r.AsUser && r.ClusterScopedWrites {
		return fmt.Errorf("a cluster registered with your own token gets no roles from Ferry: drop --cluster-scoped-writes or --as-user")
	}
	if r.TokenTTL != 0 && r.TokenTTL < cluster.MinTokenTTL {
		return fmt.Errorf("token TTL %s: give at least %s (the API server issues no shorter token)", r.TokenTTL, cluster.MinTokenTTL)
	}
	return ValidateName(r.Name)
}

func (r ClusterRegistration) validateMoverService() error {
	switch r.MoverService {
	case "", ferryv1.MoverServiceNodePort, ferryv1.MoverServiceLoadBalancer, ferryv1.MoverServiceRoute:
		if r.MoverIngressClass != "" || r.MoverIngressDomain != "" {
			return fmt.Errorf("an ingress class and domain are for mover service %s only, not %s: drop them or use --mover-service %[1]s",
				ferryv1.MoverServiceIngress, moverServiceOrDefault(r.MoverService))
		}
		return nil
	case ferryv1.MoverServiceIngress:
		return direct.Ingress{Class: r.MoverIngressClass, Domain: r.MoverIngressDomain}.Validate()
	}
	return fmt.Errorf("mover service %q: use %s, %s, %s or %s", r.MoverService, ferryv1.MoverServiceNodePort,
		ferryv1.MoverServiceLoadBalancer, ferryv1.MoverServiceRoute, ferryv1.MoverServiceIngress)
}

// moverServiceOrDefault is s, or NodePort when it is empty.
func moverServiceOrDefault(s string) string {
	if s == "" {
		return ferryv1.MoverServiceNodePort
	}
	return s
}

func (r ClusterRegistration) validateRegistry() error {
	if r.Registry == nil {
		if r.RegistryCredentials != nil {
			return fmt.Errorf("registry credentials without a registry: give its address too (--registry HOST[:PORT])")
		}
		return nil
	}
	if _, err := name.NewRegistry(r.Registry.Address, name.StrictValidation); err != nil || strings.Contains(r.Registry.Address, "/") {
		return fmt.Errorf("registry address %q: give HOST[:PORT], without scheme or path", r.Registry.Address)
	}
	if a := r.Registry.InternalAddress; a != "" {
		if _, err := name.NewRegistry(a, name.StrictValidation); err != nil || strings.Contains(a, "/") {
			return fmt.Errorf("internal registry address %q: give HOST[:PORT] as pods reference it, without scheme or path", a)
		}
	}
	if r.RegistryCredentials != nil {
		if _, err := images.AuthFromSecret(r.RegistryCredentials); err != nil {
			return fmt.Errorf("registry credentials: %w", err)
		}
	}
	return nil
}

// ClusterRegistered is the result of a registration.
type ClusterRegistered struct {
	// Cluster is the Cluster stored on the host.
	Cluster *ferryv1.Cluster
	// Facts are what the check with the stored token found, when it passed.
	Facts *cluster.Facts
	// Problem is why the check failed, when it did (the registration
	// itself stands; fix the problem and the controller sees it).
	Problem *cluster.Problem
	// RegistryProblem is why the registry check failed, when the cluster
	// has a registry and it did.
	RegistryProblem *images.CheckError
}

// storeRegistryCredentials writes the Secret registry-<name> with data.
func (o *Client) storeRegistryCredentials(ctx context.Context, name string, data map[string][]byte) (*ferryv1.SecretReference, error) {
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "registry-" + name, Namespace: o.namespace,
		Labels: map[string]string{ferryv1.LabelManagedBy: ferryv1.ManagedByValue}}}
	_, err := controllerutil.CreateOrUpdate(ctx, o.c, sec, func() error {
		sec.Data = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store registry credentials secret %s: %w", sec.Name, err)
	}
	return &ferryv1.SecretReference{Name: sec.Name}, nil
}

// checkRegistry checks the registry as the controller will.
func (o *Client) checkRegistry(ctx context.Context, name string, spec *ferryv1.RegistrySpec) *images.CheckError {
	e, err := images.EndpointFor(ctx, o.c, o.namespace, spec)
	if err != nil {
		return &images.CheckError{Reason: ferryv1.ReasonRegistryCredentials, Message: err.Error()}
	}
	if err := images.Check(ctx, e, name); err != nil {
		var ce *images.CheckError
		if errors.As(err, &ce) {
			return ce
		}
		return &images.CheckError{Reason: ferryv1.ReasonRegistryUnreachable, Message: err.Error()}
	}
	return nil
}

// RegisterCluster prepares the cluster for Ferry and stores it on the
// host (PrepareCluster, then StoreCluster).
func (o *Client) RegisterCluster(ctx context.Context, r ClusterRegistration) (*ClusterRegistered, error) {
	tok, err := o.PrepareCluster(ctx, r)
	if err != nil {
		return nil, err
	}
	return o.StoreCluster(ctx, r, tok)
}

// PrepareCluster creates what Ferry needs on the cluster itself (a
// namespace named as Ferry's on the host, a service account with the
// roles of docs/rbac.md, a bound token that expires) and returns the
// token. It changes nothing on the host.
func (o *Client) PrepareCluster(ctx context.Context, r ClusterRegistration) (cluster.Token, error) {
	if err := r.Validate(); err != nil {
		return cluster.Token{}, err
	}
	kube, err := kubernetes.NewForConfig(r.Config)
	if err != nil {
		return cluster.Token{}, fmt.Errorf("clients of cluster %s: %w", r.Name, err)
	}
	if _, err := kube.Discovery().ServerVersion(); err != nil {
		return cluster.Token{}, fmt.Errorf("cannot reach cluster %s at %s: %w; check the kubeconfig and that the API server runs", r.Name, r.Config.Host, err)
	}
	if r.AsUser {
		return userToken(r)
	}
	ttl := r.TokenTTL
	if ttl == 0 {
		ttl = cluster.DefaultTokenTTL
	}
	reg, err := cluster.Prepare(ctx, kube, cluster.PrepareOptions{
		Roles:     cluster.Roles{Source: r.Role != RoleDestination, Destination: r.Role != RoleSource},
		Namespace: o.namespace, ClusterScopedWrites: r.ClusterScopedWrites, TokenTTL: ttl})
	if apierrors.IsForbidden(err) {
		return cluster.Token{}, fmt.Errorf("prepare cluster %s: %w; creating Ferry's service account and roles takes a cluster administrator's credentials: "+
			"a namespace admin registers the cluster with their own token instead (`ferry cluster add --as-user`, or \"Use my own token\" in the console)", r.Name, err)
	}
	if err != nil {
		return cluster.Token{}, fmt.Errorf("prepare cluster %s: %w", r.Name, err)
	}
	return cluster.Token{Value: reg.Token, Expires: reg.Expires, TTL: ttl, Namespace: o.namespace}, nil
}

// userToken is the bearer token of r's kubeconfig, which a cluster
// registered as the user's holds.
func userToken(r ClusterRegistration) (cluster.Token, error) {
	tok := r.Config.BearerToken
	if tok == "" && r.Config.BearerTokenFile != "" {
		raw, err := os.ReadFile(r.Config.BearerTokenFile)
		if err != nil {
			return cluster.Token{}, fmt.Errorf("read the token of cluster %s: %w", r.Name, err)
		}
		tok = strings.TrimSpace(string(raw))
	}
	if tok == "" {
		return cluster.Token{}, fmt.Errorf("the kubeconfig of cluster %s authenticates without a bearer token (a client certificate, or an exec plugin): --as-user stores your token, so use a context with one (`kubectl create token` for a service account, or your identity provider's)", r.Name)
	}
	return cluster.Token{Value: tok}, nil
}

// StoreCluster stores the token and the Cluster on the host (its CRDs
// installed), and checks the cluster with that token, as the controller
// will.
func (o *Client) StoreCluster(ctx context.Context, r ClusterRegistration, token cluster.Token) (*ClusterRegistered, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if r.RegistryCredentials != nil {
		ref, err := o.storeRegistryCredentials(ctx, r.Name, r.RegistryCredentials)
		if err != nil {
			return nil, err
		}
		reg := *r.Registry
		reg.CredentialsSecretRef = ref
		r.Registry = &reg
	}
	c, err := cluster.Store(ctx, o.c, o.namespace, r.Name, r.Config,
		cluster.Settings{IsHost: r.IsHost, MoverService: r.MoverService, MoverIngressClass: r.MoverIngressClass,
			MoverIngressDomain: r.MoverIngressDomain, Registry: r.Registry, AsUser: r.AsUser}, token)
	if err != nil {
		return nil, err
	}
	out := &ClusterRegistered{Cluster: c}
	if r.Registry != nil {
		out.RegistryProblem = o.checkRegistry(ctx, r.Name, r.Registry)
	}
	clients, err := cluster.NewClients(r.Name, withToken(r.Config, token.Value))
	if err != nil {
		return nil, err
	}
	clients.Token, clients.AsUser = token, r.AsUser
	facts, err := cluster.Check(ctx, clients)
	var p *cluster.Problem
	switch {
	case errors.As(err, &p):
		out.Problem = p
	case err != nil:
		return nil, fmt.Errorf("check cluster %s: %w", r.Name, err)
	default:
		out.Facts = facts
	}
	return out, nil
}

// withToken is cfg authenticating with tok alone, as the controller does.
func withToken(cfg *rest.Config, tok string) *rest.Config {
	cfg = rest.AnonymousClientConfig(cfg)
	cfg.BearerToken = tok
	return cfg
}

// ListClusters returns the registered clusters, by name.
func (o *Client) ListClusters(ctx context.Context) ([]ferryv1.Cluster, error) {
	var l ferryv1.ClusterList
	if err := o.c.List(ctx, &l, client.InNamespace(o.namespace)); err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	return l.Items, nil
}

// GetCluster returns the registered cluster name.
func (o *Client) GetCluster(ctx context.Context, name string) (*ferryv1.Cluster, error) {
	var c ferryv1.Cluster
	if err := o.c.Get(ctx, o.key(name), &c); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("cluster %s is not registered in %s: register it with `ferry cluster add`: %w", name, o.namespace, err)
		}
		return nil, fmt.Errorf("get cluster %s: %w", name, err)
	}
	return &c, nil
}

// DeleteCluster removes a registered cluster from the host: the Cluster
// and the token Secret Ferry stored for it. It refuses while a plan that
// is not being deleted names it. What the registration created on the
// cluster itself (Ferry's namespace, service account and roles) stays, so
// that registering it again is quick; its token expires.
func (o *Client) DeleteCluster(ctx context.Context, name string) error {
	c, err := o.GetCluster(ctx, name)
	if err != nil {
		return err
	}
	plans, err := o.ListPlans(ctx)
	if err != nil {
		return err
	}
	var users []string
	for _, p := range plans {
		if p.DeletionTimestamp == nil && (p.Spec.SourceCluster == name || p.Spec.DestinationCluster == name) {
			users = append(users, p.Name)
		}
	}
	if len(users) > 0 {
		return fmt.Errorf("cluster %s is in plans %v: delete them first", name, users)
	}
	if err := o.c.Delete(ctx, c); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete cluster %s: %w", name, err)
	}
	if ref := c.Spec.TokenSecretRef; ref != nil {
		if err := o.deleteManagedSecret(ctx, ref.Name); err != nil {
			return fmt.Errorf("delete token Secret %s of cluster %s: %w", ref.Name, name, err)
		}
	}
	return nil
}
