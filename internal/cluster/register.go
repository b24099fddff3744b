package cluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Names of what registration creates on a registered cluster.
const (
	// AgentNamespace holds Ferry's service account on every cluster.
	AgentNamespace = "ferry-system"
	// AgentServiceAccount is the service account Ferry acts as.
	AgentServiceAccount = "ferry"
	// SourceRole may read everything and quiesce workloads.
	SourceRole = "ferry-source"
	// DestinationRole may create, change and delete what migrations bring.
	DestinationRole  = "ferry-destination"
	agentTokenSecret = "ferry-token"
)

// Roles say which of Ferry's roles a cluster gets.
type Roles struct{ Source, Destination bool }

// sourceRules: read everything (export, validation, pod logs), change the
// workload kinds that quiesce and un-quiesce touch, and run the sending
// data movers.
var sourceRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets", "replicasets", "daemonsets"}, Verbs: []string{"patch", "update"}},
	{APIGroups: []string{"batch"}, Resources: []string{"cronjobs", "jobs"}, Verbs: []string{"patch", "update"}},
	// OpenShift's DeploymentConfigs, where served.
	{APIGroups: []string{"apps.openshift.io"}, Resources: []string{"deploymentconfigs"}, Verbs: []string{"patch", "update"}},
	// Hooks: Jobs on the source, and commands in running pods.
	{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"create", "delete"}},
	{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create", "get"}},
	{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"selfsubjectaccessreviews"}, Verbs: []string{"create"}},
	// The sending data movers: a pod per claim, its certificate Secret,
	// and the pod's log for progress and errors.
	{APIGroups: []string{""}, Resources: []string{"pods", "secrets", "services"}, Verbs: []string{"create", "update", "patch", "delete", "deletecollection"}},
}

// destinationRules: a destination receives objects of any kind, including
// RBAC objects and CRDs, so it needs write access to every resource and
// the bind/escalate verbs to recreate roles it does not itself hold.
var destinationRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}},
	{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles", "roles"}, Verbs: []string{"bind", "escalate"}},
}

// Registration is the result of preparing a cluster for Ferry.
type Registration struct {
	// Token of Ferry's service account.
	Token string
}

// Prepare creates Ferry's service account on a cluster, binds the roles
// and returns a long-lived token. It is idempotent.
func Prepare(ctx context.Context, kube kubernetes.Interface, roles Roles) (*Registration, error) {
	if err := ensure(ctx, func() error {
		_, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: AgentNamespace,
			Labels: map[string]string{ferryv1.LabelManagedBy: ferryv1.ManagedByValue}}}, metav1.CreateOptions{})
		return err
	}); err != nil {
		return nil, fmt.Errorf("create namespace %s: %w", AgentNamespace, err)
	}
	if err := ensure(ctx, func() error {
		_, err := kube.CoreV1().ServiceAccounts(AgentNamespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: AgentServiceAccount}}, metav1.CreateOptions{})
		return err
	}); err != nil {
		return nil, fmt.Errorf("create service account: %w", err)
	}
	for _, r := range []struct {
		name  string
		want  bool
		rules []rbacv1.PolicyRule
	}{{SourceRole, roles.Source, sourceRules}, {DestinationRole, roles.Destination, destinationRules}} {
		if !r.want {
			continue
		}
		if err := bindRole(ctx, kube, r.name, r.rules); err != nil {
			return nil, err
		}
	}
	tok, err := token(ctx, kube)
	if err != nil {
		return nil, err
	}
	return &Registration{Token: tok}, nil
}

func ensure(_ context.Context, create func() error) error {
	if err := create(); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

func bindRole(ctx context.Context, kube kubernetes.Interface, name string, rules []rbacv1.PolicyRule) error {
	meta := metav1.ObjectMeta{Name: name, Labels: map[string]string{ferryv1.LabelManagedBy: ferryv1.ManagedByValue}}
	role := &rbacv1.ClusterRole{ObjectMeta: meta, Rules: rules}
	if _, err := kube.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
		existing, gerr := kube.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
		if gerr != nil {
			return fmt.Errorf("get cluster role %s: %w", name, gerr)
		}
		existing.Rules = rules
		if _, err := kube.RbacV1().ClusterRoles().Update(ctx, existing, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update cluster role %s: %w", name, err)
		}
	} else if err != nil {
		return fmt.Errorf("create cluster role %s: %w", name, err)
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: meta,
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: AgentServiceAccount, Namespace: AgentNamespace}}}
	if err := ensure(ctx, func() error {
		_, err := kube.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{})
		return err
	}); err != nil {
		return fmt.Errorf("bind cluster role %s: %w", name, err)
	}
	return nil
}

// token returns the long-lived token of Ferry's service account, creating
// its token Secret when needed.
func token(ctx context.Context, kube kubernetes.Interface) (string, error) {
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: agentTokenSecret, Namespace: AgentNamespace,
		Annotations: map[string]string{corev1.ServiceAccountNameKey: AgentServiceAccount}}, Type: corev1.SecretTypeServiceAccountToken}
	if err := ensure(ctx, func() error {
		_, err := kube.CoreV1().Secrets(AgentNamespace).Create(ctx, sec, metav1.CreateOptions{})
		return err
	}); err != nil {
		return "", fmt.Errorf("create token secret: %w", err)
	}
	var tok string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		s, err := kube.CoreV1().Secrets(AgentNamespace).Get(ctx, agentTokenSecret, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		tok = string(s.Data[corev1.ServiceAccountTokenKey])
		return tok != "", nil
	})
	if err != nil {
		return "", fmt.Errorf("wait for the token of %s/%s (is kube-controller-manager's token controller running?): %w", AgentNamespace, AgentServiceAccount, err)
	}
	return tok, nil
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
}

// Store writes the Cluster and its token Secret on the host.
func Store(ctx context.Context, host client.Client, namespace, name string, target *rest.Config, set Settings, tok string) (*ferryv1.Cluster, error) {
	secName := "cluster-" + name
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secName, Namespace: namespace,
		Labels: map[string]string{ferryv1.LabelManagedBy: ferryv1.ManagedByValue}}}
	if _, err := createOrUpdate(ctx, host, sec, func() { sec.Data = map[string][]byte{TokenKey: []byte(tok)} }); err != nil {
		return nil, fmt.Errorf("store token secret %s: %w", secName, err)
	}
	c := &ferryv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	if _, err := createOrUpdate(ctx, host, c, func() {
		c.Spec = ferryv1.ClusterSpec{URL: target.Host, CABundle: target.CAData, Insecure: target.Insecure,
			TokenSecretRef: &ferryv1.SecretReference{Name: secName}, IsHost: set.IsHost, MoverService: set.MoverService,
			MoverIngressClass: set.MoverIngressClass, MoverIngressDomain: set.MoverIngressDomain, Registry: set.Registry}
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
