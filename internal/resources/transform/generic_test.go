package transform

import (
	"testing"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestGenericTransform(t *testing.T) {
	moved := &Context{NamespaceMap: map[string]string{"shop": "shop-new"}}
	cases := []transformCase{
		{
			name: "server fields, status and generated annotations are stripped",
			tc:   moved,
			in: forDeployment("shop", "web").serverFields().
				set("/apis/apps/v1/namespaces/shop/deployments/web", "metadata", "selfLink").
				ownedBy("example.com/v1", "App", "shop", true).
				annotations(
					"deployment.kubernetes.io/revision", "4",
					lastAppliedAnnotation, `{"kind":"Deployment"}`,
					ferryv1.AnnotationQuiescedBy, "m1",
					ferryv1.AnnotationOriginalReplicas, "3",
					"team", "a",
				).
				set(int64(3), "spec", "replicas").
				set(int64(3), "status", "replicas").obj(),
			want: forDeployment("shop-new", "web").
				annotations(lastAppliedAnnotation, `{"kind":"Deployment"}`, "team", "a").
				set(int64(3), "spec", "replicas").obj(),
		},
		{
			name: "annotations map removed when only generated ones were set",
			in:   forDeployment("shop", "web").annotations("deployment.kubernetes.io/revision", "1").obj(),
			want: forDeployment("shop", "web").obj(),
		},
		{
			name: "unmapped namespace is kept",
			tc:   moved,
			in:   newObject("v1", "ConfigMap", "other", "c").obj(),
			want: newObject("v1", "ConfigMap", "other", "c").obj(),
		},
		{
			name: "cluster-scoped object gets no namespace",
			tc:   moved,
			in:   newObject("rbac.authorization.k8s.io/v1", "ClusterRole", "", "reader").serverFields().obj(),
			want: newObject("rbac.authorization.k8s.io/v1", "ClusterRole", "", "reader").obj(),
		},
		{
			name: "deletionGracePeriodSeconds is stripped",
			in:   forPod("shop", "p").set(int64(30), "metadata", "deletionGracePeriodSeconds").obj(),
			want: forPod("shop", "p").obj(),
		},
		{
			name:     "terminating object is skipped",
			in:       newObject("v1", "ConfigMap", "shop", "c").deleting().obj(),
			wantSkip: true,
		},
	}
	runCases(t, &genericTransform{}, cases)
}
