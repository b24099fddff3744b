package transform

import (
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// removeAnnotations deletes keys from metadata.annotations, and the map
// itself when it ends up empty.
func removeAnnotations(obj *unstructured.Unstructured, keys ...string) {
	removeMapKeys(obj.Object, []string{"metadata", "annotations"}, keys...)
}

// removeMapKeys deletes keys from the string map at path, and the map itself
// when it ends up empty. A missing map is left alone.
func removeMapKeys(obj map[string]interface{}, path []string, keys ...string) {
	v, found, err := unstructured.NestedFieldNoCopy(obj, path...)
	if !found || err != nil {
		return
	}
	m, ok := v.(map[string]interface{})
	if !ok {
		return
	}
	for _, k := range keys {
		delete(m, k)
	}
	if len(m) == 0 {
		unstructured.RemoveNestedField(obj, path...)
	}
}

// nestedSlice returns the list at path without copying it; nil when it is
// missing or not a list.
func nestedSlice(obj map[string]interface{}, path ...string) []interface{} {
	v, found, err := unstructured.NestedFieldNoCopy(obj, path...)
	if !found || err != nil {
		return nil
	}
	s, _ := v.([]interface{})
	return s
}

// nestedMap returns the object at path without copying it; nil when it is
// missing or not an object.
func nestedMap(obj map[string]interface{}, path ...string) map[string]interface{} {
	v, found, err := unstructured.NestedFieldNoCopy(obj, path...)
	if !found || err != nil {
		return nil
	}
	m, _ := v.(map[string]interface{})
	return m
}

// toInt64 converts a JSON number as decoded by the API machinery (int64) or
// by encoding/json (float64) to an int64.
func toInt64(v interface{}) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case int:
		return int64(n), true
	case float64:
		return int64(n), true
	default:
		return 0, false
	}
}

// fieldPath returns base followed by more, without sharing base's array.
func fieldPath(base []string, more ...string) []string {
	return append(slices.Clone(base), more...)
}
