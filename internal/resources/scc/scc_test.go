package scc

import (
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	jsonpatch "k8s.io/apimachinery/pkg/util/json"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func newSCC(privileged bool, users, groups []string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]interface{}{
		"allowPrivilegedContainer": privileged,
		"volumes":                  []interface{}{"configMap", "persistentVolumeClaim"},
	}}
	u.SetGroupVersionKind(GVK)
	u.SetName("shop-scc")
	if users != nil {
		_ = unstructured.SetNestedStringSlice(u.Object, users, "users")
	}
	if groups != nil {
		_ = unstructured.SetNestedStringSlice(u.Object, groups, "groups")
	}
	return u
}

func TestMigrated(t *testing.T) {
	obj := newSCC(false, []string{"system:serviceaccount:shop:web", "system:serviceaccount:other:x", "alice", "system:serviceaccount:tools:ci"},
		[]string{"system:serviceaccounts:shop", "system:authenticated", "system:serviceaccounts:other"})
	if err := Migrated(obj, map[string]string{"shop": "shop-new", "tools": "tools"}); err != nil {
		t.Fatal(err)
	}
	users, groups := Names(obj)
	if want := []string{"system:serviceaccount:shop-new:web", "system:serviceaccount:tools:ci"}; !reflect.DeepEqual(users, want) {
		t.Errorf("users = %v, want %v", users, want)
	}
	if want := []string{"system:serviceaccounts:shop-new"}; !reflect.DeepEqual(groups, want) {
		t.Errorf("groups = %v, want %v", groups, want)
	}
}

func TestNamesNamespace(t *testing.T) {
	tests := []struct {
		users, groups []string
		want          bool
	}{
		{[]string{"system:serviceaccount:shop:web"}, nil, true},
		{nil, []string{"system:serviceaccounts:shop"}, true},
		{[]string{"system:serviceaccount:shopping:web", "shop"}, []string{"system:serviceaccounts", "system:serviceaccounts:shopx"}, false},
		{[]string{"system:serviceaccount:shop"}, nil, false},
	}
	for _, tt := range tests {
		if got := NamesNamespace(newSCC(false, tt.users, tt.groups), map[string]bool{"shop": true}); got != tt.want {
			t.Errorf("NamesNamespace(%v, %v) = %v, want %v", tt.users, tt.groups, got, tt.want)
		}
	}
}

// applyPatch applies a JSON merge patch the way the API server does for
// the fields Merge and Unmerge set (top-level replace, annotations merged,
// null deletes).
func applyPatch(t *testing.T, obj *unstructured.Unstructured, p []byte) {
	t.Helper()
	var m map[string]interface{}
	if err := jsonpatch.Unmarshal(p, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range m {
		if k != "metadata" {
			obj.Object[k] = v
		}
	}
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	for k, v := range m["metadata"].(map[string]interface{})["annotations"].(map[string]interface{}) {
		if v == nil {
			delete(ann, k)
		} else {
			ann[k] = v.(string)
		}
	}
	obj.SetAnnotations(ann)
}

func TestMergeUnmerge(t *testing.T) {
	cur := newSCC(false, []string{"system:serviceaccount:ops:agent"}, nil)
	want := newSCC(true, []string{"system:serviceaccount:shop-new:web", "system:serviceaccount:ops:agent"}, []string{"system:serviceaccounts:shop-new"})
	planA := map[string]string{ferryv1.LabelPlan: "a", ferryv1.LabelMigration: "a-1"}
	m, err := Merge(cur, want, "a", planA)
	if err != nil {
		t.Fatal(err)
	}
	if m.Added != 2 || !reflect.DeepEqual(m.Differences, []string{"allowPrivilegedContainer"}) {
		t.Fatalf("merge = %+v", m)
	}
	applyPatch(t, cur, m.Patch)
	if p, _ := cur.Object["allowPrivilegedContainer"].(bool); p {
		t.Error("merge loosened allowPrivilegedContainer")
	}
	users, groups := Names(cur)
	if !reflect.DeepEqual(users, []string{"system:serviceaccount:ops:agent", "system:serviceaccount:shop-new:web"}) ||
		!reflect.DeepEqual(groups, []string{"system:serviceaccounts:shop-new"}) {
		t.Fatalf("after merge users %v groups %v", users, groups)
	}
	again, err := Merge(cur, want, "a", planA)
	if err != nil || again.Patch != nil || again.Added != 0 {
		t.Fatalf("second merge = %+v, %v; want nothing to do", again, err)
	}
	// Plan b adds one subject that a already added, and one of its own.
	wantB := newSCC(false, []string{"system:serviceaccount:shop-new:web", "system:serviceaccount:b:job"}, nil)
	mb, err := Merge(cur, wantB, "b", map[string]string{ferryv1.LabelPlan: "b"})
	if err != nil || mb.Added != 1 || len(mb.Differences) != 0 {
		t.Fatalf("merge b = %+v, %v", mb, err)
	}
	applyPatch(t, cur, mb.Patch)

	p, removed, err := Unmerge(cur, labels.SelectorFromSet(labels.Set{ferryv1.LabelMigration: "a-1"}))
	if err != nil || removed != 2 {
		t.Fatalf("unmerge a = %d, %v", removed, err)
	}
	applyPatch(t, cur, p)
	users, groups = Names(cur)
	if !reflect.DeepEqual(users, []string{"system:serviceaccount:ops:agent", "system:serviceaccount:b:job"}) || len(groups) != 0 {
		t.Fatalf("after unmerge a: users %v groups %v", users, groups)
	}
	var recs map[string]record
	if err := json.Unmarshal([]byte(cur.GetAnnotations()[ferryv1.AnnotationAddedSubjects]), &recs); err != nil || len(recs) != 1 {
		t.Fatalf("records after unmerge a: %v %v", recs, err)
	}
	p, removed, err = Unmerge(cur, labels.SelectorFromSet(labels.Set{ferryv1.LabelPlan: "b"}))
	if err != nil || removed != 1 {
		t.Fatalf("unmerge b = %d, %v", removed, err)
	}
	applyPatch(t, cur, p)
	if users, _ = Names(cur); !reflect.DeepEqual(users, []string{"system:serviceaccount:ops:agent"}) {
		t.Errorf("after unmerge b: users %v", users)
	}
	if _, ok := cur.GetAnnotations()[ferryv1.AnnotationAddedSubjects]; ok {
		t.Error("records annotation left")
	}
	if p, _, _ := Unmerge(cur, labels.SelectorFromSet(labels.Set{ferryv1.LabelPlan: "b"})); p != nil {
		t.Error("unmerge without a record patches")
	}
}
