package transform

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// builder builds unstructured fixtures the way a dynamic-client LIST
// returns them. Numbers must be int64 and lists []interface{}, as the API
// machinery decodes them.
type builder struct{ u *unstructured.Unstructured }

// newObject starts an object of apiVersion and kind; ns is "" for
// cluster-scoped kinds.
func newObject(apiVersion, kind, ns, name string) *builder {
	u := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": apiVersion,
		"kind":       kind,
		"metadata":   map[string]interface{}{"name": name},
	}}
	if ns != "" {
		u.SetNamespace(ns)
	}
	return &builder{u: u}
}

func forPod(ns, name string) *builder { return newObject("v1", "Pod", ns, name) }
func forService(ns, name string) *builder {
	return newObject("v1", "Service", ns, name)
}
func forServiceAccount(ns, name string) *builder {
	return newObject("v1", "ServiceAccount", ns, name)
}
func forPVC(ns, name string) *builder {
	return newObject("v1", "PersistentVolumeClaim", ns, name)
}
func forDeployment(ns, name string) *builder {
	return newObject("apps/v1", "Deployment", ns, name)
}
func forStatefulSet(ns, name string) *builder {
	return newObject("apps/v1", "StatefulSet", ns, name)
}
func forDaemonSet(ns, name string) *builder {
	return newObject("apps/v1", "DaemonSet", ns, name)
}
func forJob(ns, name string) *builder { return newObject("batch/v1", "Job", ns, name) }
func forCronJob(ns, name string) *builder {
	return newObject("batch/v1", "CronJob", ns, name)
}

// set sets the field at path; value is deep-copied.
func (b *builder) set(value interface{}, path ...string) *builder {
	if err := unstructured.SetNestedField(b.u.Object, value, path...); err != nil {
		panic(err)
	}
	return b
}

// labels sets metadata.labels from key, value pairs.
func (b *builder) labels(kv ...string) *builder {
	b.u.SetLabels(pairs(kv))
	return b
}

// annotations sets metadata.annotations from key, value pairs.
func (b *builder) annotations(kv ...string) *builder {
	b.u.SetAnnotations(pairs(kv))
	return b
}

// ownedBy adds an owner reference.
func (b *builder) ownedBy(apiVersion, kind, name string, controller bool) *builder {
	refs := nestedSlice(b.u.Object, "metadata", "ownerReferences")
	refs = append(refs, map[string]interface{}{
		"apiVersion": apiVersion, "kind": kind, "name": name,
		"uid": "11111111-2222-3333-4444-555555555555", "controller": controller,
	})
	return b.set(refs, "metadata", "ownerReferences")
}

// deleting sets a deletionTimestamp.
func (b *builder) deleting() *builder {
	return b.set("2026-01-02T03:04:05Z", "metadata", "deletionTimestamp")
}

// serverFields adds what the API server populates on every object.
func (b *builder) serverFields() *builder {
	return b.set("0a1b2c3d-0000-4000-8000-000000000001", "metadata", "uid").
		set("48213", "metadata", "resourceVersion").
		set("2026-01-01T00:00:00Z", "metadata", "creationTimestamp").
		set(int64(3), "metadata", "generation").
		set([]interface{}{map[string]interface{}{
			"manager": "kube-controller-manager", "operation": "Update",
			"apiVersion": "apps/v1", "fieldsType": "FieldsV1",
			"fieldsV1": map[string]interface{}{"f:status": map[string]interface{}{}},
		}}, "metadata", "managedFields")
}

// obj returns the object built so far.
func (b *builder) obj() *unstructured.Unstructured { return b.u }

// pairs turns key, value pairs into a map.
func pairs(kv []string) map[string]string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// containers builds a container list of name, image pairs.
func containers(nameImage ...string) []interface{} {
	var out []interface{}
	for i := 0; i+1 < len(nameImage); i += 2 {
		out = append(out, map[string]interface{}{"name": nameImage[i], "image": nameImage[i+1]})
	}
	return out
}

// transformCase is one case of a single-transformer table test.
type transformCase struct {
	name     string
	tc       *Context
	in       *unstructured.Unstructured
	want     *unstructured.Unstructured // ignored when wantSkip or wantErr
	wantSkip bool
	wantErr  bool
}

// runCases runs t's Transform on every case and checks the result.
func runCases(t *testing.T, tr Transformer, cases []transformCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			if !tr.AppliesTo(tt.in.GroupVersionKind().GroupKind()) {
				t.Fatalf("%s does not apply to %s", tr.Name(), tt.in.GroupVersionKind().GroupKind())
			}
			tc := tt.tc
			if tc == nil {
				tc = &Context{}
			}
			skip, err := tr.Transform(tc, tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if (skip != "") != tt.wantSkip {
				t.Fatalf("skip = %q, want skip %v", skip, tt.wantSkip)
			}
			if tt.wantSkip {
				return
			}
			assertObject(t, tt.in, tt.want)
		})
	}
}

// assertObject fails when got and want differ.
func assertObject(t *testing.T, got, want *unstructured.Unstructured) {
	t.Helper()
	if !equality.Semantic.DeepEqual(got.Object, want.Object) {
		t.Errorf("got\n%s\nwant\n%s", toJSON(got), toJSON(want))
	}
}

func toJSON(u *unstructured.Unstructured) string {
	b, err := json.MarshalIndent(u.Object, "", "  ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}
