package quiesce

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func deploymentConfig(replicas *int64, annotations map[string]string) *unstructured.Unstructured {
	u := newUnstructured(deploymentConfigGVK)
	u.SetName("legacy")
	u.SetNamespace("app")
	u.SetResourceVersion("7")
	u.SetAnnotations(annotations)
	if replicas != nil {
		_ = unstructured.SetNestedField(u.Object, *replicas, "spec", "replicas")
	}
	_ = unstructured.SetNestedField(u.Object, true, "spec", "paused")
	return u
}

func TestDeploymentConfigQuiesceRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		replicas *int64
		want     string
	}{
		{"three replicas", ptr.To[int64](3), "3"},
		{"zero replicas", ptr.To[int64](0), "0"},
		{"replicas unset", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dc := deploymentConfig(tt.replicas, nil)
			out, _, err := quiesceObject(dc, deploymentConfigKind, "m1")
			if err != nil || out != changed {
				t.Fatalf("quiesce: %v %v", out, err)
			}
			if r := unstructuredReplicas(dc); r == nil || *r != 0 {
				t.Errorf("replicas after quiesce = %v, want 0", r)
			}
			if got := dc.GetAnnotations()[ferryv1.AnnotationOriginalReplicas]; got != tt.want {
				t.Errorf("original replicas = %q, want %q", got, tt.want)
			}
			if again, _, _ := quiesceObject(dc, deploymentConfigKind, "m2"); again != unchanged {
				t.Errorf("second quiesce = %v, want unchanged", again)
			}
			out, err = unquiesceObject(dc, deploymentConfigKind)
			if err != nil || out != changed {
				t.Fatalf("unquiesce: %v %v", out, err)
			}
			r, found, _ := unstructured.NestedInt64(dc.Object, "spec", "replicas")
			if (tt.replicas == nil) == found || (found && r != *tt.replicas) {
				t.Errorf("replicas after unquiesce = %v (set %v), want %v", r, found, tt.replicas)
			}
			if paused, _, _ := unstructured.NestedBool(dc.Object, "spec", "paused"); !paused {
				t.Error("spec.paused changed")
			}
			if len(dc.GetAnnotations()) != 0 {
				t.Errorf("annotations left: %v", dc.GetAnnotations())
			}
		})
	}
}

func TestControlledByDC(t *testing.T) {
	rc := newUnstructured(replicationControllerGVK)
	if controlledByDC(rc) {
		t.Error("bare ReplicationController controlled by a DeploymentConfig")
	}
	rc.Object["metadata"] = map[string]any{"ownerReferences": []any{map[string]any{
		"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig", "name": "legacy", "uid": "u1", "controller": true}}}
	if !controlledByDC(rc) {
		t.Error("ReplicationController of a DeploymentConfig not recognised")
	}
}
