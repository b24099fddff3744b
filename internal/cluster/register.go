package cluster

import (
	"context"
	"fmt"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Names of what registration creates on a registered cluster.
const (
	// DefaultAgentNamespace holds Ferry's service account on a cluster
	// when Ferry's own namespace on the host is the default one; it is
	// always the host's Ferry namespace, so that two installations of
	// Ferry (or two test runs) have a service account each.
	DefaultAgentNamespace = "ferry-system"
	// AgentServiceAccount is the service account Ferry acts as.
	AgentServiceAccount = "ferry"
	// DefaultTokenTTL is how long a token lives unless told otherwise;
	// the controller renews it when half of that has passed.
	DefaultTokenTTL = 24 * time.Hour
	// MinTokenTTL is the shortest lifetime the API server issues.
	MinTokenTTL = 10 * time.Minute
	// legacy names of the roles and token Secret of Ferry before least
	// privilege: removed when a cluster is registered again.
	legacySourceRole      = "ferry-source"
	legacyDestinationRole = "ferry-destination"
	legacyTokenSecret     = "ferry-token"
)

// Roles say which of Ferry's roles a cluster gets.
type Roles struct{ Source, Destination bool }

// PrepareOptions say what Prepare sets up.
type PrepareOptions struct {
	// Roles the cluster plays.
	Roles Roles
	// Namespace of Ferry's service account on the cluster (the host's
	// Ferry namespace).
	Namespace string
	// ClusterScopedWrites binds ClusterWritesRole.
	ClusterScopedWrites bool
	// TokenTTL is the lifetime of the token; zero is DefaultTokenTTL.
	TokenTTL time.Duration
}

// Registration is the result of preparing a cluster for Ferry.
type Registration struct {
	// Token of Ferry's service account, bound and expiring.
	Token string
	// Expires is when the token expires.
	Expires time.Time
}

// Prepare creates Ferry's service account on a cluster, its roles and
// bindings (docs/rbac.md), and requests a token for it. It is idempotent:
// run again, it brings the roles to what this version of Ferry needs and
// removes what older versions granted.
func Prepare(ctx context.Context, kube kubernetes.Interface, o PrepareOptions) (*Registration, error) {
	if o.Namespace == "" {
		o.Namespace = DefaultAgentNamespace
	}
	if err := ensureAccount(ctx, kube, o.Namespace); err != nil {
		return nil, err
	}
	lists, err := kube.Discovery().ServerPreferredResources()
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("discover the served resources: %w", err)
	}
	meta := managedMeta(ReaderRole)
	if err := putClusterRole(ctx, kube, &rbacv1.ClusterRole{ObjectMeta: meta, Rules: ReaderRules(lists)}); err != nil {
		return nil, err
	}
	if err := bindClusterRole(ctx, kube, ReaderRole, o.Namespace, true); err != nil {
		return nil, err
	}
	for _, r := range []struct {
		name  string
		want  bool
		rules []rbacv1.PolicyRule
	}{{SourceNamespaceRole, o.Roles.Source, sourceNamespaceRules}, {DestinationNamespaceRole, o.Roles.Destination, destinationNamespaceRules}} {
		if r.want {
			if err := putClusterRole(ctx, kube, &rbacv1.ClusterRole{ObjectMeta: managedMeta(r.name), Rules: r.rules}); err != nil {
				return nil, err
			}
		}
	}
	if err := putClusterRole(ctx, kube, &rbacv1.ClusterRole{ObjectMeta: managedMeta(ClusterWritesRole), Rules: clusterWritesRules}); err != nil {
		return nil, err
	}
	if err := bindClusterRole(ctx, kube, ClusterWritesRole, o.Namespace, o.ClusterScopedWrites); err != nil {
		return nil, err
	}
	if err := removeLegacy(ctx, kube, o.Namespace); err != nil {
		return nil, err
	}
	return RequestToken(ctx, kube, o.Namespace, o.TokenTTL)
}

// managedMeta is the metadata of an object registration owns.
func managedMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: map[string]string{ferryv1.LabelManagedBy: ferryv1.ManagedByValue}}
}

// ensureAccount creates the namespace, the service account and the Role
// that lets it renew its token.
func ensureAccount(ctx context.Context, kube kubernetes.Interface, ns string) error {
	if err := ensure(ctx, func() error {
		_, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: managedMeta(ns)}, metav1.CreateOptions{})
		return err
	}); err != nil {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	if err := ensure(ctx, func() error {
		_, err := kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: AgentServiceAccount}}, metav1.CreateOptions{})
		return err
	}); err != nil {
		return fmt.Errorf("create service account: %w", err)
	}
	meta := managedMeta(TokenRole)
	meta.Namespace = ns
	role := &rbacv1.Role{ObjectMeta: meta, Rules: tokenRules()}
	if _, err := kube.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
		if _, err := kube.RbacV1().Roles(ns).Update(ctx, role, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update role %s/%s: %w", ns, TokenRole, err)
		}
	} else if err != nil {
		return fmt.Errorf("create role %s/%s: %w", ns, TokenRole, err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: meta, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: TokenRole},
		Subjects: []rbacv1.Subject{Subject(ns)}}
	if err := ensure(ctx, func() error {
		_, err := kube.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{})
		return err
	}); err != nil {
		return fmt.Errorf("bind role %s/%s: %w", ns, TokenRole, err)
	}
	return nil
}

// Subject is Ferry's service account in namespace ns.
func Subject(ns string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: AgentServiceAccount, Namespace: ns}
}

func ensure(_ context.Context, create func() error) error {
	if err := create(); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// putClusterRole creates the ClusterRole or sets its rules.
func putClusterRole(ctx context.Context, kube kubernetes.Interface, role *rbacv1.ClusterRole) error {
	_, err := kube.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		if err != nil {
			return fmt.Errorf("create cluster role %s: %w", role.Name, err)
		}
		return nil
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		existing, err := kube.RbacV1().ClusterRoles().Get(ctx, role.Name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get cluster role %s: %w", role.Name, err)
		}
		existing.Rules = role.Rules
		if _, err := kube.RbacV1().ClusterRoles().Update(ctx, existing, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update cluster role %s: %w", role.Name, err)
		}
		return nil
	})
}

// BindingName is the name of the ClusterRoleBinding of role to the
// service account of namespace ns.
func BindingName(role, ns string) string { return role + ":" + ns }

// bindClusterRole binds role cluster-wide to the service account of ns,
// or removes that binding when want is false.
func bindClusterRole(ctx context.Context, kube kubernetes.Interface, role, ns string, want bool) error {
	name := BindingName(role, ns)
	if !want {
		err := kube.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("remove cluster role binding %s: %w", name, err)
		}
		return nil
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: managedMeta(name),
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects: []rbacv1.Subject{Subject(ns)}}
	if err := ensure(ctx, func() error {
		_, err := kube.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{})
		return err
	}); err != nil {
		return fmt.Errorf("bind cluster role %s: %w", role, err)
	}
	return nil
}

// removeLegacy deletes what older versions of Ferry granted this service
// account: the ClusterRoleBindings ferry-source and ferry-destination (when
// they bind only it) and the never-expiring token Secret.
func removeLegacy(ctx context.Context, kube kubernetes.Interface, ns string) error {
	for _, name := range []string{legacySourceRole, legacyDestinationRole} {
		crb, err := kube.RbacV1().ClusterRoleBindings().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get cluster role binding %s: %w", name, err)
		}
		if len(crb.Subjects) != 1 || crb.Subjects[0] != Subject(ns) {
			continue
		}
		if err := kube.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("remove the legacy cluster role binding %s: %w", name, err)
		}
	}
	err := kube.CoreV1().Secrets(ns).Delete(ctx, legacyTokenSecret, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove the legacy token secret %s/%s: %w", ns, legacyTokenSecret, err)
	}
	return nil
}

// RequestToken requests a bound token of Ferry's service account in ns
// that expires after ttl (DefaultTokenTTL when zero).
func RequestToken(ctx context.Context, kube kubernetes.Interface, ns string, ttl time.Duration) (*Registration, error) {
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	secs := int64(ttl / time.Second)
	tr, err := kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, AgentServiceAccount,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &secs}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("request a token for service account %s/%s: %w", ns, AgentServiceAccount, err)
	}
	return &Registration{Token: tr.Status.Token, Expires: tr.Status.ExpirationTimestamp.Time}, nil
}

// Settings are the parts of a Cluster's spec that do not come from its
// kubeconfig.
type Settings struct {
	// IsHost marks the cluster the controller runs in.
	IsHost bool
	// MoverService is ferryv1.ClusterSpec.MoverService.
	MoverService string
	// MoverIngressClass and MoverIngressDomain are the ClusterSpec's
	// fields of the same names.
	MoverIngressClass, MoverIngressDomain string
	// Registry is ferryv1.ClusterSpec.Registry.
	Registry *ferryv1.RegistrySpec
	// AsUser stores the token as a user's own (access User).
	AsUser bool
}

// Store writes the Cluster and its token Secret on the host; the Secret
// also records when the token expires, its lifetime and the service
// account's namespace, for the controller's renewal.
func Store(ctx context.Context, host client.Client, namespace, name string, target *rest.Config, set Settings, tok Token) (*ferryv1.Cluster, error) {
	secName := "cluster-" + name
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secName, Namespace: namespace,
		Labels: map[string]string{ferryv1.LabelManagedBy: ferryv1.ManagedByValue}}}
	if _, err := createOrUpdate(ctx, host, sec, func() { tok.write(sec) }); err != nil {
		return nil, fmt.Errorf("store token secret %s: %w", secName, err)
	}
	c := &ferryv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	if _, err := createOrUpdate(ctx, host, c, func() {
		c.Spec = ferryv1.ClusterSpec{URL: target.Host, CABundle: target.CAData, Insecure: target.Insecure,
			TokenSecretRef: &ferryv1.SecretReference{Name: secName}, IsHost: set.IsHost, MoverService: set.MoverService,
			MoverIngressClass: set.MoverIngressClass, MoverIngressDomain: set.MoverIngressDomain, Registry: set.Registry}
		if set.AsUser {
			c.Spec.Access = ferryv1.ClusterAccessUser
		}
	}); err != nil {
		return nil, fmt.Errorf("store cluster %s: %w", name, err)
	}
	return c, nil
}

// createOrUpdate creates obj or updates it with mutate, retrying when the
// controller changed it in between (it writes the status).
func createOrUpdate(ctx context.Context, c client.Client, obj client.Object, mutate func()) (bool, error) {
	created := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var err error
		created, err = createOrUpdateOnce(ctx, c, obj, mutate)
		return err
	})
	return created, err
}

func createOrUpdateOnce(ctx context.Context, c client.Client, obj client.Object, mutate func()) (bool, error) {
	key := client.ObjectKeyFromObject(obj)
	if err := c.Get(ctx, key, obj); apierrors.IsNotFound(err) {
		mutate()
		return true, c.Create(ctx, obj)
	} else if err != nil {
		return false, err
	}
	mutate()
	return false, c.Update(ctx, obj)
}
