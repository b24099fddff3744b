package transform

import (
	"testing"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestStorageTransform(t *testing.T) {
	classes := &Context{StorageClassMap: map[string]string{"standard": "fast-ssd"}}
	claimTemplate := func(name, class string) map[string]interface{} {
		spec := map[string]interface{}{"accessModes": []interface{}{"ReadWriteOnce"}}
		if class != "" {
			spec["storageClassName"] = class
		}
		return map[string]interface{}{"metadata": map[string]interface{}{"name": name}, "spec": spec}
	}
	cases := []transformCase{
		{
			name: "bound claim is unbound and its class mapped",
			tc:   classes,
			in: forPVC("shop", "data").
				annotations(
					"pv.kubernetes.io/bind-completed", "yes",
					"pv.kubernetes.io/bound-by-controller", "yes",
					"volume.beta.kubernetes.io/storage-provisioner", "rancher.io/local-path",
					"volume.kubernetes.io/storage-provisioner", "rancher.io/local-path",
					"volume.kubernetes.io/selected-node", "node-1",
					"backup", "daily",
				).
				set("standard", "spec", "storageClassName").
				set("pvc-0a1b2c3d", "spec", "volumeName").
				set("Filesystem", "spec", "volumeMode").obj(),
			want: forPVC("shop", "data").
				annotations("backup", "daily").
				set("fast-ssd", "spec", "storageClassName").
				set("Filesystem", "spec", "volumeMode").obj(),
		},
		{
			name: "unmapped class is kept",
			tc:   classes,
			in:   forPVC("shop", "data").set("gold", "spec", "storageClassName").obj(),
			want: forPVC("shop", "data").set("gold", "spec", "storageClassName").obj(),
		},
		{
			name: "claim without class keeps using the default class",
			tc:   classes,
			in:   forPVC("shop", "data").set("pvc-1", "spec", "volumeName").obj(),
			want: forPVC("shop", "data").set(map[string]interface{}{}, "spec").obj(),
		},
		{
			name: "StatefulSet claim templates are mapped",
			tc:   classes,
			in: forStatefulSet("shop", "db").
				set([]interface{}{claimTemplate("data", "standard"), claimTemplate("logs", ""), claimTemplate("wal", "gold")}, "spec", "volumeClaimTemplates").obj(),
			want: forStatefulSet("shop", "db").
				set([]interface{}{claimTemplate("data", "fast-ssd"), claimTemplate("logs", ""), claimTemplate("wal", "gold")}, "spec", "volumeClaimTemplates").obj(),
		},
	}
	runCases(t, &storageTransform{}, cases)
}

func TestStorageTransformClaimOverrides(t *testing.T) {
	tc := &Context{
		StorageClassMap: map[string]string{"standard": "fast-ssd"},
		// The claim list as planning decides it for overrides of data
		// (name, class, capacity, access modes), cache (skip) and logs
		// (capacity only: the class comes from the mapping).
		Claims: ClaimsByName([]ferryv1.PlanPVC{
			planned("data", ferryv1.PVCActionCopy, "data-v2", "gold", "20Gi", "ReadWriteOncePod"),
			planned("cache", ferryv1.PVCActionSkip, "cache", "fast-ssd", ""),
			planned("logs", ferryv1.PVCActionCopy, "logs", "fast-ssd", "5Gi"),
			{Namespace: "shop", Name: "scratch", Action: ferryv1.PVCActionCopy, TargetNamespace: "shop", TargetName: "scratch"},
			{Namespace: "shop", Name: "shared", Action: ferryv1.PVCActionMove, TargetNamespace: "shop", TargetName: "shared-2", SourceVolume: "pvc-77"},
		}),
	}
	source := func(name string) *builder {
		return forPVC("shop", name).
			set("standard", "spec", "storageClassName").
			set("10Gi", "spec", "resources", "requests", "storage").
			set([]interface{}{"ReadWriteOnce"}, "spec", "accessModes")
	}
	cases := []transformCase{
		{
			name: "renamed, reclassed, resized, new access modes",
			tc:   tc,
			in:   source("data").obj(),
			want: forPVC("shop", "data-v2").
				set("gold", "spec", "storageClassName").
				set("20Gi", "spec", "resources", "requests", "storage").
				set([]interface{}{"ReadWriteOncePod"}, "spec", "accessModes").obj(),
		},
		{
			name: "override without class still maps the class",
			tc:   tc,
			in:   source("logs").obj(),
			want: forPVC("shop", "logs").
				set("fast-ssd", "spec", "storageClassName").
				set("5Gi", "spec", "resources", "requests", "storage").
				set([]interface{}{"ReadWriteOnce"}, "spec", "accessModes").obj(),
		},
		{name: "skipped claim", tc: tc, in: source("cache").obj(), wantSkip: true},
		{
			name: "moved claim binds by name to its volume, class empty",
			tc:   tc,
			in:   source("shared").set("pvc-77", "spec", "volumeName").annotations("pv.kubernetes.io/bind-completed", "yes").obj(),
			want: forPVC("shop", "shared-2").
				set("", "spec", "storageClassName").
				set("pvc-77", "spec", "volumeName").
				set("10Gi", "spec", "resources", "requests", "storage").
				set([]interface{}{"ReadWriteOnce"}, "spec", "accessModes").obj(),
		},
		{
			name: "claim without class stays without",
			tc:   tc,
			in:   forPVC("shop", "scratch").set("1Gi", "spec", "resources", "requests", "storage").obj(),
			want: forPVC("shop", "scratch").set("1Gi", "spec", "resources", "requests", "storage").obj(),
		},
		{
			name: "same name in another namespace is untouched",
			tc:   tc,
			in:   forPVC("other", "data").set("standard", "spec", "storageClassName").obj(),
			want: forPVC("other", "data").set("fast-ssd", "spec", "storageClassName").obj(),
		},
	}
	runCases(t, &storageTransform{}, cases)
}

// planned is a claim of namespace shop, of class standard, 10Gi and
// ReadWriteOnce on the source, as the plan's claim list holds it.
func planned(name string, action ferryv1.PVCAction, target, class, capacity string, accessModes ...string) ferryv1.PlanPVC {
	return ferryv1.PlanPVC{Namespace: "shop", Name: name, StorageClass: "standard", Capacity: "10Gi",
		AccessModes: []string{"ReadWriteOnce"}, Action: action, TargetNamespace: "shop", TargetName: target,
		TargetStorageClass: class, TargetCapacity: capacity, TargetAccessModes: accessModes}
}

func TestStorageClassMapTarget(t *testing.T) {
	m := StorageClassMap{"standard": "fast", "old": ""}
	tests := []struct{ in, want string }{{"standard", "fast"}, {"gold", "gold"}, {"old", ""}, {"", ""}}
	for _, tt := range tests {
		if got := m.Target(tt.in); got != tt.want {
			t.Errorf("Target(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := StorageClassMap(nil).Target("standard"); got != "standard" {
		t.Errorf("nil map Target = %q", got)
	}
}
