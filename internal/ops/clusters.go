package ops

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
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
	// receivers: ferryv1.MoverServiceNodePort or MoverServiceLoadBalancer;
	// empty means NodePort, the Cluster's default.
	MoverService string
	// IsHost marks the cluster the controller runs in.
	IsHost bool
}

// Validate says what is wrong with the registration, if anything.
func (r ClusterRegistration) Validate() error {
	switch r.Role {
	case RoleSource, RoleDestination, RoleBoth:
	default:
		return fmt.Errorf("role %q: use %s, %s or %s", r.Role, RoleSource, RoleDestination, RoleBoth)
	}
	switch r.MoverService {
	case "", ferryv1.MoverServiceNodePort, ferryv1.MoverServiceLoadBalancer:
	default:
		return fmt.Errorf("mover service %q: use %s or %s", r.MoverService, ferryv1.MoverServiceNodePort, ferryv1.MoverServiceLoadBalancer)
	}
	return ValidateName(r.Name)
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

// PrepareCluster creates what Ferry needs on the cluster itself (its
// namespace, a service account with the role's permissions, a token) and
// returns the token. It changes nothing on the host.
func (o *Client) PrepareCluster(ctx context.Context, r ClusterRegistration) (token string, err error) {
	if err := r.Validate(); err != nil {
		return "", err
	}
	kube, err := kubernetes.NewForConfig(r.Config)
	if err != nil {
		return "", fmt.Errorf("clients of cluster %s: %w", r.Name, err)
	}
	if _, err := kube.Discovery().ServerVersion(); err != nil {
		return "", fmt.Errorf("cannot reach cluster %s at %s: %w; check the kubeconfig and that the API server runs", r.Name, r.Config.Host, err)
	}
	reg, err := cluster.Prepare(ctx, kube, cluster.Roles{Source: r.Role != RoleDestination, Destination: r.Role != RoleSource})
	if err != nil {
		return "", fmt.Errorf("prepare cluster %s: %w", r.Name, err)
	}
	return reg.Token, nil
}

// StoreCluster stores the token and the Cluster on the host (its CRDs
// installed), and checks the cluster with that token, as the controller
// will.
func (o *Client) StoreCluster(ctx context.Context, r ClusterRegistration, token string) (*ClusterRegistered, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	c, err := cluster.Store(ctx, o.c, o.namespace, r.Name, r.Config,
		cluster.Settings{IsHost: r.IsHost, MoverService: r.MoverService}, token)
	if err != nil {
		return nil, err
	}
	out := &ClusterRegistered{Cluster: c}
	clients, err := cluster.NewClients(r.Name, withToken(r.Config, token))
	if err != nil {
		return nil, err
	}
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
