// Package scc handles OpenShift's SecurityContextConstraints as a
// cluster-scoped dependency of the migrated service accounts.
//
// # Basics
//
// An SCC names its subjects in users ("system:serviceaccount:NS:NAME")
// and groups ("system:serviceaccounts:NS"). [Migrated] picks the subjects
// of the migrated namespaces, renamed to their destination namespaces;
// other subjects never travel, so the destination grants nothing to
// namespaces that were not migrated.
//
// An SCC that does not exist on the destination is created as any other
// object. One that exists there and that Ferry did not create is merged:
// [Merge] adds the missing subjects and nothing else — the destination's
// definition (capabilities, volumes, user ranges, priority…) is never
// changed, so it is never loosened — and lists the fields where the two
// definitions differ, a conflict for the user to judge. The subjects
// added are recorded in ferryv1.AnnotationAddedSubjects under the plan's
// name together with the migration's labels; [Unmerge] removes them again
// (rollback, cancel) unless another plan's record still needs them.
package scc

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// GroupKind and resource of SecurityContextConstraints.
var (
	GroupKind = schema.GroupKind{Group: "security.openshift.io", Kind: "SecurityContextConstraints"}
	GVR       = schema.GroupVersionResource{Group: "security.openshift.io", Version: "v1", Resource: "securitycontextconstraints"}
	GVK       = schema.GroupVersionKind{Group: "security.openshift.io", Version: "v1", Kind: "SecurityContextConstraints"}
)

const (
	userPrefix  = "system:serviceaccount:"
	groupPrefix = "system:serviceaccounts:"
)

// subjectNamespace returns the namespace of a service-account subject:
// user "system:serviceaccount:NS:NAME" or group
// "system:serviceaccounts:NS".
func subjectNamespace(s string, group bool) (string, bool) {
	if group {
		ns, ok := strings.CutPrefix(s, groupPrefix)
		return ns, ok && ns != "" && !strings.Contains(ns, ":")
	}
	rest, ok := strings.CutPrefix(s, userPrefix)
	if !ok {
		return "", false
	}
	ns, name, ok := strings.Cut(rest, ":")
	return ns, ok && ns != "" && name != ""
}

// renameSubject moves a subject of namespace ns to namespace to.
func renameSubject(s, ns, to string, group bool) string {
	if group {
		return groupPrefix + to
	}
	return userPrefix + to + strings.TrimPrefix(s, userPrefix+ns)
}

// Names returns the SCC's users and groups.
func Names(obj *unstructured.Unstructured) (users, groups []string) {
	users, _, _ = unstructured.NestedStringSlice(obj.Object, "users")
	groups, _, _ = unstructured.NestedStringSlice(obj.Object, "groups")
	return users, groups
}

// NamesNamespace reports whether a subject of the SCC is a service
// account of one of namespaces (source names).
func NamesNamespace(obj *unstructured.Unstructured, namespaces map[string]bool) bool {
	users, groups := Names(obj)
	for i, list := range [][]string{users, groups} {
		for _, s := range list {
			if ns, ok := subjectNamespace(s, i == 1); ok && namespaces[ns] {
				return true
			}
		}
	}
	return false
}

// Migrated keeps in obj's users and groups only the service-account
// subjects of the namespaces in nsMap (source to destination), renamed to
// the destination namespaces.
func Migrated(obj *unstructured.Unstructured, nsMap map[string]string) error {
	users, groups := Names(obj)
	for i, list := range [][]string{users, groups} {
		field := []string{"users", "groups"}[i]
		var kept []interface{}
		for _, s := range list {
			ns, ok := subjectNamespace(s, i == 1)
			to, migrated := nsMap[ns]
			if !ok || !migrated {
				continue
			}
			if to == "" {
				to = ns
			}
			kept = append(kept, renameSubject(s, ns, to, i == 1))
		}
		if err := unstructured.SetNestedSlice(obj.Object, orEmpty(kept), field); err != nil {
			return fmt.Errorf("set %s: %w", field, err)
		}
	}
	return nil
}

func orEmpty(s []interface{}) []interface{} {
	if s == nil {
		return []interface{}{}
	}
	return s
}

// record is what a plan added to an SCC it did not create.
type record struct {
	// Labels are the labels of the migration that added the subjects
	// (ferry.dev/plan, ferry.dev/migration): a removal by one of them
	// matches the record.
	Labels map[string]string `json:"labels"`
	Users  []string          `json:"users,omitempty"`
	Groups []string          `json:"groups,omitempty"`
}

// records decodes ferryv1.AnnotationAddedSubjects, by plan.
func records(obj *unstructured.Unstructured) (map[string]record, error) {
	out := map[string]record{}
	v, ok := obj.GetAnnotations()[ferryv1.AnnotationAddedSubjects]
	if !ok {
		return out, nil
	}
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return nil, fmt.Errorf("annotation %s of SecurityContextConstraints %s: %w", ferryv1.AnnotationAddedSubjects, obj.GetName(), err)
	}
	return out, nil
}

// Merged is what Merge decided.
type Merged struct {
	// Patch is the JSON merge patch to send (with the current object's
	// resourceVersion); nil when nothing is to change.
	Patch []byte
	// Added is the number of subjects added.
	Added int
	// Differences are the fields whose values differ between the two
	// definitions; the destination's are kept.
	Differences []string
}

// ignoredFields are not part of an SCC's definition.
var ignoredFields = map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "users": true, "groups": true}

// Differences lists the definition fields (all but metadata and the
// subjects) in which cur and want differ, sorted.
func Differences(cur, want *unstructured.Unstructured) []string {
	keys := map[string]bool{}
	for _, o := range []*unstructured.Unstructured{cur, want} {
		for k := range o.Object {
			if !ignoredFields[k] {
				keys[k] = true
			}
		}
	}
	var out []string
	for k := range keys {
		a, b := cur.Object[k], want.Object[k]
		if empty(a) && empty(b) {
			continue
		}
		if !equality.Semantic.DeepEqual(a, b) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// empty is true for a missing, null, empty list or false value: the API
// server does not keep them apart.
func empty(v interface{}) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []interface{}:
		return len(x) == 0
	case bool:
		return !x
	}
	return false
}

// Merge adds want's subjects that cur lacks to cur, records them under
// plan with the migration's labels, and compares the definitions. The
// subjects a plan added earlier stay recorded for it.
func Merge(cur, want *unstructured.Unstructured, plan string, migrationLabels map[string]string) (Merged, error) {
	recs, err := records(cur)
	if err != nil {
		return Merged{}, err
	}
	m := Merged{Differences: Differences(cur, want)}
	curUsers, curGroups := Names(cur)
	wantUsers, wantGroups := Names(want)
	rec := recs[plan]
	newUsers, addedUsers := union(curUsers, wantUsers)
	newGroups, addedGroups := union(curGroups, wantGroups)
	m.Added = len(addedUsers) + len(addedGroups)
	if m.Added == 0 {
		return m, nil
	}
	rec.Users, _ = union(rec.Users, addedUsers)
	rec.Groups, _ = union(rec.Groups, addedGroups)
	rec.Labels = migrationLabels
	recs[plan] = rec
	m.Patch, err = patch(newUsers, newGroups, recs)
	return m, err
}

// union returns a followed by the elements of b it lacks, and those.
func union(a, b []string) (all, added []string) {
	all = slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(all, s) {
			all = append(all, s)
			added = append(added, s)
		}
	}
	return all, added
}

// Unmerge removes from cur the subjects recorded for the records whose
// labels sel matches, except those another remaining record also added,
// and drops the records. The patch is nil when no record matches.
func Unmerge(cur *unstructured.Unstructured, sel labels.Selector) (patch_ []byte, removed int, err error) {
	recs, err := records(cur)
	if err != nil {
		return nil, 0, err
	}
	var gone []record
	for plan, r := range recs {
		if sel.Matches(labels.Set(r.Labels)) {
			gone = append(gone, r)
			delete(recs, plan)
		}
	}
	if len(gone) == 0 {
		return nil, 0, nil
	}
	keep := map[string]bool{}
	for _, r := range recs {
		for _, s := range append(slices.Clone(r.Users), r.Groups...) {
			keep[s] = true
		}
	}
	drop := map[string]bool{}
	for _, r := range gone {
		for _, s := range append(slices.Clone(r.Users), r.Groups...) {
			if !keep[s] {
				drop[s] = true
			}
		}
	}
	users, groups := Names(cur)
	users, nu := without(users, drop)
	groups, ng := without(groups, drop)
	p, err := patch(users, groups, recs)
	return p, nu + ng, err
}

// without returns list without the elements in drop, and how many went.
func without(list []string, drop map[string]bool) ([]string, int) {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if !drop[s] {
			out = append(out, s)
		}
	}
	return out, len(list) - len(out)
}

// patch is the JSON merge patch setting the subjects and the records (the
// annotation removed when none is left).
func patch(users, groups []string, recs map[string]record) ([]byte, error) {
	var ann interface{}
	if len(recs) > 0 {
		b, err := json.Marshal(recs)
		if err != nil {
			return nil, err
		}
		ann = string(b)
	}
	return json.Marshal(map[string]interface{}{
		"metadata": map[string]interface{}{"annotations": map[string]interface{}{ferryv1.AnnotationAddedSubjects: ann}},
		"users":    orEmptyStrings(users),
		"groups":   orEmptyStrings(groups),
	})
}

func orEmptyStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
