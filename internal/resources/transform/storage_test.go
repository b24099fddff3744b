package transform

import "testing"

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
			ctx:  classes,
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
			ctx:  classes,
			in:   forPVC("shop", "data").set("gold", "spec", "storageClassName").obj(),
			want: forPVC("shop", "data").set("gold", "spec", "storageClassName").obj(),
		},
		{
			name: "claim without class keeps using the default class",
			ctx:  classes,
			in:   forPVC("shop", "data").set("pvc-1", "spec", "volumeName").obj(),
			want: forPVC("shop", "data").set(map[string]interface{}{}, "spec").obj(),
		},
		{
			name: "StatefulSet claim templates are mapped",
			ctx:  classes,
			in: forStatefulSet("shop", "db").
				set([]interface{}{claimTemplate("data", "standard"), claimTemplate("logs", ""), claimTemplate("wal", "gold")}, "spec", "volumeClaimTemplates").obj(),
			want: forStatefulSet("shop", "db").
				set([]interface{}{claimTemplate("data", "fast-ssd"), claimTemplate("logs", ""), claimTemplate("wal", "gold")}, "spec", "volumeClaimTemplates").obj(),
		},
	}
	runCases(t, &storageTransform{}, cases)
}

func TestStorageTransformClaimOverrides(t *testing.T) {
	ctx := &Context{
		StorageClassMap: map[string]string{"standard": "fast-ssd"},
		Claims: map[string]Claim{
			"shop/data":  {Name: "data-v2", StorageClass: "gold", Capacity: "20Gi", AccessModes: []string{"ReadWriteOncePod"}},
			"shop/cache": {Skip: true},
			"shop/logs":  {Capacity: "5Gi"},
		},
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
			ctx:  ctx,
			in:   source("data").obj(),
			want: forPVC("shop", "data-v2").
				set("gold", "spec", "storageClassName").
				set("20Gi", "spec", "resources", "requests", "storage").
				set([]interface{}{"ReadWriteOncePod"}, "spec", "accessModes").obj(),
		},
		{
			name: "override without class still maps the class",
			ctx:  ctx,
			in:   source("logs").obj(),
			want: forPVC("shop", "logs").
				set("fast-ssd", "spec", "storageClassName").
				set("5Gi", "spec", "resources", "requests", "storage").
				set([]interface{}{"ReadWriteOnce"}, "spec", "accessModes").obj(),
		},
		{name: "skipped claim", ctx: ctx, in: source("cache").obj(), wantSkip: true},
		{
			name: "same name in another namespace is untouched",
			ctx:  ctx,
			in:   forPVC("other", "data").set("standard", "spec", "storageClassName").obj(),
			want: forPVC("other", "data").set("fast-ssd", "spec", "storageClassName").obj(),
		},
	}
	runCases(t, &storageTransform{}, cases)
}
