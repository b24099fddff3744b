package transform

import (
	"testing"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestWorkloadTransform(t *testing.T) {
	registry := &Context{RegistryRewrites: []RegistryRewrite{
		{From: "10.200.1.1:5000/shop/", To: "registry.example/shop-moved/"},
		{From: "10.200.1.1:5000/", To: "10.200.2.1:5000/"},
	}}
	podSpec := func(image string) map[string]interface{} {
		return map[string]interface{}{"containers": containers("app", image)}
	}
	cases := []transformCase{
		{
			name: "Deployment images and replicas",
			tc:   registry,
			in: forDeployment("shop", "web").
				annotations(ferryv1.AnnotationQuiescedBy, "m1", ferryv1.AnnotationOriginalReplicas, "3", "team", "a").
				set(int64(0), "spec", "replicas").
				set(map[string]interface{}{
					"initContainers":      containers("init", "10.200.1.1:5000/tools/wait:1"),
					"containers":          containers("app", "10.200.1.1:5000/shop/web:2", "proxy", "docker.io/envoyproxy/envoy:v1"),
					"ephemeralContainers": containers("debug", "10.200.1.1:5000/busybox"),
				}, "spec", "template", "spec").obj(),
			want: forDeployment("shop", "web").
				annotations("team", "a").
				set(int64(3), "spec", "replicas").
				set(map[string]interface{}{
					"initContainers":      containers("init", "10.200.2.1:5000/tools/wait:1"),
					"containers":          containers("app", "registry.example/shop-moved/web:2", "proxy", "docker.io/envoyproxy/envoy:v1"),
					"ephemeralContainers": containers("debug", "10.200.2.1:5000/busybox"),
				}, "spec", "template", "spec").obj(),
		},
		{
			name: "StatefulSet whose replicas were unset",
			in: forStatefulSet("shop", "db").
				annotations(ferryv1.AnnotationOriginalReplicas, "").
				set(int64(0), "spec", "replicas").obj(),
			want: forStatefulSet("shop", "db").set(map[string]interface{}{}, "spec").obj(),
		},
		{
			name: "StatefulSet whose claims were kept from deletion by quiesce",
			in: forStatefulSet("shop", "db").
				annotations(ferryv1.AnnotationOriginalReplicas, "2", ferryv1.AnnotationOriginalWhenScaled, "Delete").
				set(int64(0), "spec", "replicas").
				set("Retain", "spec", "persistentVolumeClaimRetentionPolicy", "whenScaled").obj(),
			want: forStatefulSet("shop", "db").
				set(int64(2), "spec", "replicas").
				set("Delete", "spec", "persistentVolumeClaimRetentionPolicy", "whenScaled").obj(),
		},
		{
			name: "Deployment that was not quiesced",
			in:   forDeployment("shop", "web").set(int64(2), "spec", "replicas").obj(),
			want: forDeployment("shop", "web").set(int64(2), "spec", "replicas").obj(),
		},
		{
			name:    "bad replica annotation fails",
			in:      forDeployment("shop", "web").annotations(ferryv1.AnnotationOriginalReplicas, "three").obj(),
			wantErr: true,
		},
		{
			name:    "negative replica annotation fails",
			in:      forDeployment("shop", "web").annotations(ferryv1.AnnotationOriginalReplicas, "-1").obj(),
			wantErr: true,
		},
		{
			name: "CronJob suspend restored and job template images rewritten",
			tc:   registry,
			in: forCronJob("shop", "report").
				annotations(ferryv1.AnnotationQuiescedBy, "m1", ferryv1.AnnotationOriginalSuspend, "false").
				set(true, "spec", "suspend").
				set(podSpec("10.200.1.1:5000/shop/report:1"), "spec", "jobTemplate", "spec", "template", "spec").obj(),
			want: forCronJob("shop", "report").
				set(false, "spec", "suspend").
				set(podSpec("registry.example/shop-moved/report:1"), "spec", "jobTemplate", "spec", "template", "spec").obj(),
		},
		{
			name: "CronJob whose suspend was unset",
			in: forCronJob("shop", "report").
				annotations(ferryv1.AnnotationOriginalSuspend, "").
				set(true, "spec", "suspend").set("*/5 * * * *", "spec", "schedule").obj(),
			want: forCronJob("shop", "report").set("*/5 * * * *", "spec", "schedule").obj(),
		},
		{
			name:    "bad suspend annotation fails",
			in:      forCronJob("shop", "report").annotations(ferryv1.AnnotationOriginalSuspend, "maybe").obj(),
			wantErr: true,
		},
		{
			name: "DaemonSet node selector restored",
			in: forDaemonSet("shop", "agent").
				annotations(ferryv1.AnnotationOriginalNodeSelector, `{"disk":"ssd"}`).
				set(map[string]interface{}{ferryv1.QuiesceNodeSelectorKey: "true"}, "spec", "template", "spec", "nodeSelector").obj(),
			want: forDaemonSet("shop", "agent").
				set(map[string]interface{}{"disk": "ssd"}, "spec", "template", "spec", "nodeSelector").obj(),
		},
		{
			name: "DaemonSet node selector that was unset",
			in: forDaemonSet("shop", "agent").
				annotations(ferryv1.AnnotationOriginalNodeSelector, "").
				set(map[string]interface{}{ferryv1.QuiesceNodeSelectorKey: "true"}, "spec", "template", "spec", "nodeSelector").obj(),
			want: forDaemonSet("shop", "agent").set(map[string]interface{}{}, "spec", "template", "spec").obj(),
		},
		{
			name: "quiesce key removed even without the annotation",
			in: forDaemonSet("shop", "agent").
				set(map[string]interface{}{ferryv1.QuiesceNodeSelectorKey: "true", "disk": "ssd"}, "spec", "template", "spec", "nodeSelector").obj(),
			want: forDaemonSet("shop", "agent").
				set(map[string]interface{}{"disk": "ssd"}, "spec", "template", "spec", "nodeSelector").obj(),
		},
		{
			name:    "bad node selector annotation fails",
			in:      forDaemonSet("shop", "agent").annotations(ferryv1.AnnotationOriginalNodeSelector, `["disk"]`).obj(),
			wantErr: true,
		},
		{
			name: "Job loses its generated selector and labels",
			in: forJob("shop", "migrate").
				set(map[string]interface{}{"matchLabels": map[string]interface{}{"batch.kubernetes.io/controller-uid": "abc"}}, "spec", "selector").
				set(false, "spec", "manualSelector").
				set(map[string]interface{}{
					"controller-uid": "abc", "batch.kubernetes.io/controller-uid": "abc",
					"job-name": "migrate", "batch.kubernetes.io/job-name": "migrate", "app": "shop",
				}, "spec", "template", "metadata", "labels").
				set(podSpec("migrate:1"), "spec", "template", "spec").obj(),
			want: forJob("shop", "migrate").
				set(map[string]interface{}{"app": "shop"}, "spec", "template", "metadata", "labels").
				set(podSpec("migrate:1"), "spec", "template", "spec").obj(),
		},
		{
			name: "standalone Pod loses its node",
			tc:   registry,
			in: forPod("shop", "debug").
				set("node-1", "spec", "nodeName").
				set(containers("sh", "10.200.1.1:5000/busybox:1"), "spec", "containers").obj(),
			want: forPod("shop", "debug").
				set(containers("sh", "10.200.2.1:5000/busybox:1"), "spec", "containers").obj(),
		},
	}
	runCases(t, &workloadTransform{}, cases)
}

func TestWorkloadTransformRenamesClaims(t *testing.T) {
	tc := &Context{Claims: ClaimsByName([]ferryv1.PlanPVC{
		planned("data", ferryv1.PVCActionCopy, "data-v2", "standard", ""),
		planned("logs", ferryv1.PVCActionCopy, "logs", "standard", "1Gi"),
	})}
	volumes := func(claims ...string) []interface{} {
		var out []interface{}
		for i, c := range claims {
			out = append(out, map[string]interface{}{"name": "v" + string(rune('0'+i)),
				"persistentVolumeClaim": map[string]interface{}{"claimName": c}})
		}
		return append(out, map[string]interface{}{"name": "tmp", "emptyDir": map[string]interface{}{}})
	}
	cases := []transformCase{
		{
			name: "deployment mounting a renamed claim",
			tc:   tc,
			in:   forDeployment("shop", "web").set(volumes("data", "logs", "other"), "spec", "template", "spec", "volumes").obj(),
			want: forDeployment("shop", "web").set(volumes("data-v2", "logs", "other"), "spec", "template", "spec", "volumes").obj(),
		},
		{
			name: "claim of the same name in another namespace",
			tc:   tc,
			in:   forPod("other", "p").set(volumes("data"), "spec", "volumes").obj(),
			want: forPod("other", "p").set(volumes("data"), "spec", "volumes").obj(),
		},
	}
	runCases(t, &workloadTransform{}, cases)
}
