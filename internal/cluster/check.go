package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"

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
}

// Problem is why a cluster is not ready: a condition reason and a message
// that says what to do.
type Problem struct {
	Reason  string
	Message string
}

func (p *Problem) Error() string { return p.Reason + ": " + p.Message }

// RequiredAccess lists what Ferry must be allowed to do on every cluster:
// read everything it migrates, quiesce workloads on a source, create
// namespaced and cluster-scoped objects on a destination.
var RequiredAccess = []authzv1.ResourceAttributes{
	{Verb: "list", Group: "", Resource: "namespaces"},
	{Verb: "list", Group: "*", Resource: "*"},
	{Verb: "patch", Group: "apps", Resource: "deployments"},
	{Verb: "patch", Group: "batch", Resource: "cronjobs"},
}

// DestinationAccess is what a destination must also allow.
var DestinationAccess = []authzv1.ResourceAttributes{
	{Verb: "create", Group: "", Resource: "namespaces"},
	{Verb: "create", Group: "*", Resource: "*"},
	{Verb: "delete", Group: "*", Resource: "*"},
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
	if denied, err := MissingAccess(ctx, c, RequiredAccess); err != nil {
		return nil, classify(c, err)
	} else if len(denied) > 0 {
		return nil, &Problem{Reason: ferryv1.ReasonInsufficientPermissions, Message: fmt.Sprintf(
			"the credentials of cluster %s may not %s; run `ferry cluster add %s` again to grant Ferry's role, or bind it to cluster-admin",
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
	if err != nil {
		return nil, classify(c, err)
	}
	for _, sc := range scs.Items {
		f.StorageClasses = append(f.StorageClasses, ferryv1.StorageClassInfo{Name: sc.Name, Provisioner: sc.Provisioner,
			Default: IsDefaultStorageClass(&sc)})
	}
	return f, nil
}

// MissingAccess returns the accesses of want that the cluster denies.
func MissingAccess(ctx context.Context, c *Clients, want []authzv1.ResourceAttributes) ([]string, error) {
	var denied []string
	for _, ra := range want {
		ra := ra
		r, err := c.Kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx,
			&authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &ra}}, metav1.CreateOptions{})
		if err != nil {
			return nil, err
		}
		if !r.Status.Allowed {
			res := ra.Resource
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
		return &Problem{Reason: ferryv1.ReasonUnauthorized, Message: fmt.Sprintf(
			"cluster %s at %s rejected the token (%v); the service account or its token was deleted: run `ferry cluster add %s` again",
			c.Name, c.Config.Host, err, c.Name)}
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
