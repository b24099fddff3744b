package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Facts is what a check found out about a cluster.
type Facts struct {
	// Version of Kubernetes.
	Version string
	// APIVersions served, as group/version.
	APIVersions []string
	// StorageClasses of the cluster.
	StorageClasses []ferryv1.StorageClassInfo
	// Limited lists what a user's own token may not do of what Ferry's
	// reader role grants ("list namespaces", "list storageclasses…"):
	// Ferry does without it, and plans warn where it matters.
	Limited []string
}

// Problem is why a cluster is not ready: a condition reason and a message
// that says what to do.
type Problem struct {
	Reason  string
	Message string
}

func (p *Problem) Error() string { return p.Reason + ": " + p.Message }

// RequiredAccess lists what Ferry must be allowed to do on every cluster:
// read, cluster-wide, the kinds a plan discovers (ReaderRole). What it may
// do in a plan's namespaces is granted, and checked, per plan
// (NamespaceAccess).
var RequiredAccess = []authzv1.ResourceAttributes{
	{Verb: "list", Group: "", Resource: "namespaces"},
	{Verb: "list", Group: "", Resource: "pods"},
	{Verb: "list", Group: "", Resource: "persistentvolumeclaims"},
	{Verb: "list", Group: "apps", Resource: "deployments"},
	{Verb: "list", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
	{Verb: "get", Group: "", Resource: "pods", Subresource: "log"},
}

// Check verifies that the cluster answers, accepts the credentials and
// grants the access Ferry needs, and collects its facts. The returned
// *Problem (as error) names the condition reason.
func Check(ctx context.Context, c *Clients) (*Facts, error) {
	v, err := c.Kube.Discovery().ServerVersion()
	if err != nil {
		return nil, classify(c, err)
	}
	f := &Facts{Version: v.GitVersion}
	if denied, err := MissingAccess(ctx, c, "", RequiredAccess); err != nil {
		return nil, classify(c, err)
	} else if len(denied) > 0 && c.AsUser {
		f.Limited = denied
	} else if len(denied) > 0 {
		return nil, &Problem{Reason: ferryv1.ReasonInsufficientPermissions, Message: fmt.Sprintf(
			"the credentials of cluster %s may not %s; run `ferry cluster add %s` again to grant Ferry's reader role",
			c.Name, strings.Join(denied, ", "), c.Name)}
	}
	groups, err := c.Kube.Discovery().ServerGroups()
	if err != nil {
		return nil, classify(c, err)
	}
	for _, g := range groups.Groups {
		for _, gv := range g.Versions {
			f.APIVersions = append(f.APIVersions, gv.GroupVersion)
		}
	}
	sort.Strings(f.APIVersions)
	scs, err := c.Kube.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if apierrors.IsForbidden(err) && c.AsUser {
		f.Limited = append(f.Limited, "list storageclasses.storage.k8s.io")
		return f, nil
	}
	if err != nil {
		return nil, classify(c, err)
	}
	for _, sc := range scs.Items {
		f.StorageClasses = append(f.StorageClasses, ferryv1.StorageClassInfo{Name: sc.Name, Provisioner: sc.Provisioner,
			Default: IsDefaultStorageClass(&sc)})
	}
	return f, nil
}

// SourceNamespaceAccess samples, in a source namespace of a plan, the
// rights of SourceNamespaceRole that a migration needs there.
var SourceNamespaceAccess = []authzv1.ResourceAttributes{
	{Verb: "list", Group: "", Resource: "secrets"},
	{Verb: "create", Group: "", Resource: "pods"},
	{Verb: "patch", Group: "apps", Resource: "deployments"},
	{Verb: "create", Group: "batch", Resource: "jobs"},
}

// DestinationNamespaceAccess samples, in a destination namespace of a
// plan, the rights of DestinationNamespaceRole.
var DestinationNamespaceAccess = []authzv1.ResourceAttributes{
	{Verb: "patch", Group: "", Resource: "namespaces"},
	{Verb: "create", Group: "", Resource: "pods"},
	{Verb: "create", Group: "", Resource: "secrets"},
	{Verb: "create", Group: "apps", Resource: "deployments"},
	{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "rolebindings"},
	{Verb: "delete", Group: "", Resource: "persistentvolumeclaims"},
}

// MissingAccess returns the accesses of want that the cluster denies, in
// namespace ns ("": cluster-wide, or as each access says).
func MissingAccess(ctx context.Context, c *Clients, ns string, want []authzv1.ResourceAttributes) ([]string, error) {
	var denied []string
	for _, ra := range want {
		ra := ra
		if ns != "" {
			ra.Namespace = ns
		}
		r, err := c.Kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx,
			&authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &ra}}, metav1.CreateOptions{})
		if err != nil {
			return nil, err
		}
		if !r.Status.Allowed {
			res := ra.Resource
			if ra.Subresource != "" {
				res += "/" + ra.Subresource
			}
			if ra.Group != "" {
				res += "." + ra.Group
			}
			denied = append(denied, ra.Verb+" "+res)
		}
	}
	return denied, nil
}

// classify turns an error of a request into a Problem.
func classify(c *Clients, err error) error {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	switch {
	case apierrors.IsUnauthorized(err):
		return unauthorized(c, err, time.Now())
	case apierrors.IsForbidden(err):
		return &Problem{Reason: ferryv1.ReasonInsufficientPermissions, Message: fmt.Sprintf(
			"cluster %s forbids a request Ferry needs (%v): grant Ferry's role with `ferry cluster add %s`", c.Name, err, c.Name)}
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &netErr) || errors.As(err, &opErr) || strings.Contains(err.Error(), "connect:") ||
		strings.Contains(err.Error(), "certificate") || strings.Contains(err.Error(), "no such host") {
		return &Problem{Reason: ferryv1.ReasonUnreachable, Message: fmt.Sprintf(
			"cannot reach the API server of cluster %s at %s: %v; check the URL, the CA bundle and the network path from Ferry's controller",
			c.Name, c.Config.Host, err)}
	}
	return &Problem{Reason: ferryv1.ReasonUnreachable, Message: fmt.Sprintf("cluster %s at %s: %v", c.Name, c.Config.Host, err)}
}

// unauthorized says why a cluster rejected the token: it expired (Ferry
// renews its tokens at half their lifetime, so the controller was not
// running, or could not renew it), or it was revoked.
func unauthorized(c *Clients, err error, now time.Time) *Problem {
	if exp := c.Token.Expires; !exp.IsZero() && !now.Before(exp) {
		return &Problem{Reason: ferryv1.ReasonTokenExpired, Message: fmt.Sprintf(
			"the token of cluster %s expired at %s (the controller renews it when half of its lifetime has passed; it was not running, or could not renew it): run `ferry cluster add %s` again",
			c.Name, exp.UTC().Format(time.RFC3339), c.Name)}
	}
	return &Problem{Reason: ferryv1.ReasonUnauthorized, Message: fmt.Sprintf(
		"cluster %s at %s rejected the token (%v): it was revoked (Ferry's service account or its namespace deleted, or the cluster's signing key changed): run `ferry cluster add %s` again",
		c.Name, c.Config.Host, err, c.Name)}
}
