package cluster

import (
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The roles Ferry's service account gets on a registered cluster
// (docs/rbac.md says what each rule is for and which step uses it).
const (
	// ReaderRole is bound cluster-wide: read every kind a plan discovers,
	// Secrets excepted (they are read only in the plan's namespaces).
	ReaderRole = "ferry-reader"
	// SourceNamespaceRole is bound by a RoleBinding in each source
	// namespace of a plan, made with the user's credentials when the plan
	// is created: read Secrets, quiesce, run movers and hooks there.
	SourceNamespaceRole = "ferry-source-namespace"
	// DestinationNamespaceRole is bound by a RoleBinding in each
	// destination namespace of a plan: write what a migration brings.
	DestinationNamespaceRole = "ferry-destination-namespace"
	// ClusterWritesRole is optional (`ferry cluster add
	// --cluster-scoped-writes`), bound cluster-wide: the cluster-scoped
	// objects of a plan (CRDs, ClusterRoles, ClusterRoleBindings, SCCs,
	// the PVs of moved claims).
	ClusterWritesRole = "ferry-cluster-writes"
	// TokenRole lets the service account renew its own token (the
	// controller refreshes it before it expires); a Role in Ferry's
	// namespace on the cluster, limited by name to the service account.
	TokenRole = "ferry-token"
)

var readVerbs = []string{"get", "list", "watch"}

// writeVerbs are every verb that changes an object, except the RBAC
// verbs bind and escalate, which are named where they are needed.
var writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}

// ProbedGroups are the API groups Ferry lists whether or not the cluster
// serves them (OpenShift's): the API server answers 403 before it answers
// 404, so the reader must be allowed to find out that they are not there.
var ProbedGroups = []string{"apps.openshift.io", "authorization.openshift.io", "build.openshift.io",
	"image.openshift.io", "route.openshift.io", "security.openshift.io"}

// ReaderRules are the rules of ReaderRole for the resources the cluster
// serves (from discovery): get, list and watch on every top-level core
// resource but Secrets, the pods' logs (movers' and hooks' progress and
// errors), and every resource of every other API group served, and of
// ProbedGroups (so that custom resources of groups served when the
// cluster was registered are read too). Subresources of the core group
// (nodes/proxy, pods/exec, serviceaccounts/token, ...) are not granted.
func ReaderRules(lists []*metav1.APIResourceList) []rbacv1.PolicyRule {
	core := map[string]bool{"pods/log": true}
	groups := map[string]bool{}
	for _, g := range ProbedGroups {
		groups[g] = true
	}
	for _, l := range lists {
		if l == nil {
			continue
		}
		group, _, _ := strings.Cut(l.GroupVersion, "/")
		if !strings.Contains(l.GroupVersion, "/") {
			group = ""
		}
		if group != "" {
			groups[group] = true
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || r.Name == "secrets" || !hasListVerb(r.Verbs) {
				continue
			}
			core[r.Name] = true
		}
	}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: sortedKeys(core), Verbs: readVerbs},
		{APIGroups: sortedKeys(groups), Resources: []string{"*"}, Verbs: readVerbs},
	}
}

func hasListVerb(verbs metav1.Verbs) bool {
	for _, v := range verbs {
		if v == "list" {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sourceNamespaceRules, granted in a plan's source namespaces only.
var sourceNamespaceRules = []rbacv1.PolicyRule{
	// Validation's inventory and the export (MigrateResources,
	// ExportResources) read every kind in the namespace: its Secrets,
	// and custom resources of groups installed after the cluster was
	// registered (which ReaderRole does not name).
	{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: readVerbs},
	// The movers keep their certificates in Secrets of their own.
	{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: writeVerbs},
	// Sending movers and usage pods (CopyVolumes, StartMovers, plan
	// validation) and the Services of a receiver within one cluster.
	{APIGroups: []string{""}, Resources: []string{"pods", "services"}, Verbs: writeVerbs},
	// Hooks that run commands in pods, and the release of held
	// senders (StartMovers, CopyVolumes).
	{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create", "get"}},
	// MoveVolumes deletes the source claim; MoveVolumesBack recreates it.
	{APIGroups: []string{""}, Resources: []string{"persistentvolumeclaims"}, Verbs: writeVerbs},
	// Quiesce and Unquiesce (and a StorageConversion's SwitchClaims).
	{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets", "replicasets", "daemonsets"}, Verbs: []string{"patch", "update"}},
	{APIGroups: []string{"batch"}, Resources: []string{"cronjobs"}, Verbs: []string{"patch", "update"}},
	{APIGroups: []string{"apps.openshift.io"}, Resources: []string{"deploymentconfigs"}, Verbs: []string{"patch", "update"}},
	// Job hooks on the source, and the quiesce of Jobs.
	{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: writeVerbs},
}

// destinationNamespaceRules, granted in a plan's destination namespaces
// only: a destination namespace receives objects of any kind, its Roles
// and RoleBindings too, which the API server lets Ferry create only if it
// holds their rights (escalate) or may bind their roles (bind) there.
var destinationNamespaceRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: append(append([]string{}, readVerbs...), writeVerbs...)},
	{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles", "clusterroles"}, Verbs: []string{"bind", "escalate"}},
}

// clusterWritesRules are the optional cluster-scoped writes.
var clusterWritesRules = []rbacv1.PolicyRule{
	// The CRDs of migrated custom resources (MigrateResources) and their
	// removal (DeleteFromDestination).
	{APIGroups: []string{"apiextensions.k8s.io"}, Resources: []string{"customresourcedefinitions"}, Verbs: writeVerbs},
	// ClusterRoles and ClusterRoleBindings naming the namespaces'
	// service accounts; bind and escalate because the API server
	// requires them to recreate roles Ferry does not hold itself.
	{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles", "clusterrolebindings"}, Verbs: writeVerbs},
	{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles"}, Verbs: []string{"bind", "escalate"}},
	// Moved claims: the source PV is set to Retain (MoveVolumes), the
	// destination PV created (and deleted by a rollback).
	{APIGroups: []string{""}, Resources: []string{"persistentvolumes"}, Verbs: writeVerbs},
	// OpenShift's SecurityContextConstraints of the namespaces' service
	// accounts, where served.
	{APIGroups: []string{"security.openshift.io"}, Resources: []string{"securitycontextconstraints"}, Verbs: writeVerbs},
}

// tokenRules let the service account request tokens for itself.
func tokenRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"serviceaccounts/token"},
		ResourceNames: []string{AgentServiceAccount}, Verbs: []string{"create"}}}
}

// NamespaceRole returns the ClusterRole that a RoleBinding grants in a
// plan's namespace on a cluster of that side.
func NamespaceRole(destination bool) string {
	if destination {
		return DestinationNamespaceRole
	}
	return SourceNamespaceRole
}
