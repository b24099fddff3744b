package transform

import "testing"

func TestSkipTransform(t *testing.T) {
	cases := []transformCase{
		{
			name:     "pod owned by a ReplicaSet",
			in:       forPod("shop", "web-7d4b9-abcde").ownedBy("apps/v1", "ReplicaSet", "web-7d4b9", true).obj(),
			wantSkip: true,
		},
		{
			name: "pod with a non-controller owner is kept",
			in:   forPod("shop", "debug").ownedBy("v1", "ConfigMap", "cfg", false).obj(),
			want: forPod("shop", "debug").ownedBy("v1", "ConfigMap", "cfg", false).obj(),
		},
		{
			name: "standalone pod is kept",
			in:   forPod("shop", "debug").obj(),
			want: forPod("shop", "debug").obj(),
		},
		{
			name:     "ReplicaSet owned by a Deployment",
			in:       newObject("apps/v1", "ReplicaSet", "shop", "web-7d4b9").ownedBy("apps/v1", "Deployment", "web", true).obj(),
			wantSkip: true,
		},
		{
			name: "bare ReplicaSet is kept",
			in:   newObject("apps/v1", "ReplicaSet", "shop", "rs").obj(),
			want: newObject("apps/v1", "ReplicaSet", "shop", "rs").obj(),
		},
		{
			name:     "Job owned by a CronJob",
			in:       forJob("shop", "report-29012345").ownedBy("batch/v1", "CronJob", "report", true).obj(),
			wantSkip: true,
		},
		{
			name: "Job owned by something else is kept",
			in:   forJob("shop", "migrate").ownedBy("example.com/v1", "Release", "r", false).obj(),
			want: forJob("shop", "migrate").ownedBy("example.com/v1", "Release", "r", false).obj(),
		},
		{name: "Endpoints", in: newObject("v1", "Endpoints", "shop", "web").obj(), wantSkip: true},
		{name: "EndpointSlice", in: newObject("discovery.k8s.io/v1", "EndpointSlice", "shop", "web-x1").obj(), wantSkip: true},
		{name: "core Event", in: newObject("v1", "Event", "shop", "web.1").obj(), wantSkip: true},
		{name: "events.k8s.io Event", in: newObject("events.k8s.io/v1", "Event", "shop", "web.1").obj(), wantSkip: true},
		{
			name:     "service account token Secret",
			in:       newObject("v1", "Secret", "shop", "web-token-x").set("kubernetes.io/service-account-token", "type").obj(),
			wantSkip: true,
		},
		{
			name: "opaque Secret is kept",
			in:   newObject("v1", "Secret", "shop", "db").set("Opaque", "type").obj(),
			want: newObject("v1", "Secret", "shop", "db").set("Opaque", "type").obj(),
		},
		{name: "kube-root-ca.crt", in: newObject("v1", "ConfigMap", "shop", "kube-root-ca.crt").obj(), wantSkip: true},
		{
			name: "other ConfigMap is kept",
			in:   newObject("v1", "ConfigMap", "shop", "settings").obj(),
			want: newObject("v1", "ConfigMap", "shop", "settings").obj(),
		},
		{name: "terminating object", in: newObject("v1", "ConfigMap", "shop", "old").deleting().obj(), wantSkip: true},
		{
			name: "custom resource is kept",
			in:   newObject("example.com/v1", "Widget", "shop", "w").ownedBy("apps/v1", "Deployment", "web", true).obj(),
			want: newObject("example.com/v1", "Widget", "shop", "w").ownedBy("apps/v1", "Deployment", "web", true).obj(),
		},
	}
	runCases(t, &skipTransform{}, cases)
}
