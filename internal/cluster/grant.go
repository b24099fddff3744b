package cluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Grant is what Ferry's service account is granted in a plan's namespaces
// on one cluster: a RoleBinding of SourceNamespaceRole or
// DestinationNamespaceRole in each namespace. It is made with the
// credentials of the user who creates the plan, never by the controller,
// so that Ferry acts only where that user may grant it.
type Grant struct {
	// Plan and HostNamespace name the plan on the host.
	Plan, HostNamespace string
	// AgentNamespace is the namespace of Ferry's service account on the
	// cluster (the host's Ferry namespace).
	AgentNamespace string
	// Source and Destination are the namespaces the cluster is the
	// source, and the destination, of (both for a conversion in place).
	Source, Destination []string
	// CreateNamespaces creates the destination namespaces that do not
	// exist (else they are left out, in GrantResult.Missing).
	CreateNamespaces bool
}

// GrantResult says what Apply did.
type GrantResult struct {
	// Bound are the namespaces/roles bound, as "NAMESPACE (ROLE)".
	Bound []string
	// CreatedNamespaces are the destination namespaces that did not
	// exist: created, labeled as the plan's (a rollback deletes them).
	CreatedNamespaces []string
	// Missing are the destination namespaces that do not exist and were
	// not created (not granted).
	Missing []string
}

// bindingName is the name of a grant's RoleBinding.
func (g Grant) bindingName(role string) string {
	return role + ":" + g.AgentNamespace + ":" + g.Plan
}

// Apply makes the grant's RoleBindings, creating the destination
// namespaces that do not exist yet when CreateNamespaces is set (a
// RoleBinding needs its namespace).
// A missing source namespace fails it before it changes anything. It is
// idempotent.
func (g Grant) Apply(ctx context.Context, kube kubernetes.Interface) (*GrantResult, error) {
	res := &GrantResult{}
	for _, ns := range g.Source {
		if _, err := kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return res, fmt.Errorf("source namespace %s does not exist: %w", ns, err)
		} else if err != nil {
			return res, fmt.Errorf("get namespace %s: %w", ns, err)
		}
	}
	var destination []string
	for _, ns := range g.Destination {
		exists, created, err := g.ensureNamespace(ctx, kube, ns)
		if err != nil {
			return res, err
		}
		if created {
			res.CreatedNamespaces = append(res.CreatedNamespaces, ns)
		}
		if !exists && !created {
			res.Missing = append(res.Missing, ns)
			continue
		}
		destination = append(destination, ns)
	}
	for _, side := range []struct {
		role       string
		namespaces []string
	}{{SourceNamespaceRole, g.Source}, {DestinationNamespaceRole, destination}} {
		for _, ns := range side.namespaces {
			if err := g.bind(ctx, kube, ns, side.role); err != nil {
				return res, err
			}
			res.Bound = append(res.Bound, ns+" ("+side.role+")")
		}
	}
	return res, nil
}

// ensureNamespace says whether namespace ns exists, creating it when the
// grant may.
func (g Grant) ensureNamespace(ctx context.Context, kube kubernetes.Interface, ns string) (exists, created bool, err error) {
	_, err = kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err == nil {
		return true, false, nil
	}
	if !apierrors.IsNotFound(err) {
		return false, false, fmt.Errorf("get namespace %s: %w", ns, err)
	}
	if !g.CreateNamespaces {
		return false, false, nil
	}
	obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{ferryv1.LabelPlan: g.Plan}}}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return false, false, fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return false, true, nil
}

func (g Grant) bind(ctx context.Context, kube kubernetes.Interface, ns, role string) error {
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: g.bindingName(role), Namespace: ns, Labels: map[string]string{
			ferryv1.LabelManagedBy: ferryv1.ManagedByValue, ferryv1.LabelGrantPlan: g.Plan, ferryv1.LabelGrantNamespace: g.HostNamespace}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects: []rbacv1.Subject{Subject(g.AgentNamespace)},
	}
	_, err := kube.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = kube.RbacV1().RoleBindings(ns).Update(ctx, rb, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("grant Ferry role %s in namespace %s: %w", role, ns, err)
	}
	return nil
}

// Revoke deletes every RoleBinding of the grants of plan (of Ferry's
// namespace hostNamespace) on a cluster, wherever they are; the
// namespaces stay.
func Revoke(ctx context.Context, kube kubernetes.Interface, plan, hostNamespace string) (int, error) {
	sel := metav1.ListOptions{LabelSelector: ferryv1.LabelGrantPlan + "=" + plan + "," + ferryv1.LabelGrantNamespace + "=" + hostNamespace}
	l, err := kube.RbacV1().RoleBindings(metav1.NamespaceAll).List(ctx, sel)
	if err != nil {
		return 0, fmt.Errorf("list the grants of plan %s: %w", plan, err)
	}
	for _, rb := range l.Items {
		err := kube.RbacV1().RoleBindings(rb.Namespace).Delete(ctx, rb.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return 0, fmt.Errorf("revoke the grant %s/%s: %w", rb.Namespace, rb.Name, err)
		}
	}
	return len(l.Items), nil
}
