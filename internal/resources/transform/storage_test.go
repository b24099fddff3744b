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
