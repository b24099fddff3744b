package transform

import "testing"

func TestDeploymentConfigTransform(t *testing.T) {
	tc := &Context{
		NamespaceMap:     map[string]string{"shop": "shop-new"},
		RegistryRewrites: []RegistryRewrite{{From: "src.reg:5000/", To: "dst.reg:5000/"}},
	}
	trigger := func(ns, last string) []interface{} {
		from := map[string]interface{}{"kind": "ImageStreamTag", "name": "web:latest"}
		if ns != "" {
			from["namespace"] = ns
		}
		return []interface{}{
			map[string]interface{}{"type": "ConfigChange"},
			map[string]interface{}{"type": "ImageChange", "imageChangeParams": map[string]interface{}{
				"automatic": true, "containerNames": []interface{}{"web"}, "from": from, "lastTriggeredImage": last}},
		}
	}
	dc := func(triggers []interface{}) *builder {
		return newObject("apps.openshift.io/v1", "DeploymentConfig", "shop", "web").set(triggers, "spec", "triggers")
	}
	cases := []transformCase{
		{
			name: "trigger in a renamed namespace is moved, last image rewritten",
			tc:   tc,
			in:   dc(trigger("shop", "src.reg:5000/shop/web@sha256:abc")).obj(),
			want: dc(trigger("shop-new", "dst.reg:5000/shop/web@sha256:abc")).obj(),
		},
		{
			name: "trigger of another namespace is kept",
			tc:   tc,
			in:   dc(trigger("base", "")).obj(),
			want: dc(trigger("base", "")).obj(),
		},
		{
			name: "trigger of the own namespace stays without one",
			tc:   tc,
			in:   dc(trigger("", "")).obj(),
			want: dc(trigger("", "")).obj(),
		},
	}
	runCases(t, &deploymentConfigTransform{}, cases)
}

func TestDeploymentConfigWorkload(t *testing.T) {
	tc := &Context{Claims: ClaimsByName(nil)}
	in := newObject("apps.openshift.io/v1", "DeploymentConfig", "shop", "web").
		annotations("ferry.dev/quiesced-by", "m1", "ferry.dev/original-replicas", "3").
		set(int64(0), "spec", "replicas").
		set(map[string]interface{}{"containers": containers("web", "nginx")}, "spec", "template", "spec").obj()
	want := newObject("apps.openshift.io/v1", "DeploymentConfig", "shop", "web").
		set(int64(3), "spec", "replicas").
		set(map[string]interface{}{"containers": containers("web", "nginx")}, "spec", "template", "spec").obj()
	runCases(t, &workloadTransform{}, []transformCase{{name: "replicas restored", tc: tc, in: in, want: want}})
}

func TestSkipOpenShiftKinds(t *testing.T) {
	tests := []struct {
		name string
		obj  *builder
		skip bool
	}{
		{"ReplicationController of a DeploymentConfig", newObject("v1", "ReplicationController", "shop", "web-1").
			ownedBy("apps.openshift.io/v1", "DeploymentConfig", "web", true), true},
		{"bare ReplicationController", newObject("v1", "ReplicationController", "shop", "old"), false},
		{"Build", newObject("build.openshift.io/v1", "Build", "shop", "web-1"), true},
		{"ImageStreamTag", newObject("image.openshift.io/v1", "ImageStreamTag", "shop", "web:latest"), true},
		{"ImageStream", newObject("image.openshift.io/v1", "ImageStream", "shop", "web"), false},
	}
	for _, tt := range tests {
		reason, err := (&skipTransform{}).Transform(&Context{}, tt.obj.obj())
		if err != nil || (reason != "") != tt.skip {
			t.Errorf("%s: skip reason %q, err %v; want skipped %v", tt.name, reason, err, tt.skip)
		}
	}
}
