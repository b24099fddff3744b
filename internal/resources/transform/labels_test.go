package transform

import (
	"testing"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestLabelsTransform(t *testing.T) {
	ferry := &Context{Labels: Marks("shop-move", "shop-move-1")}
	selector := map[string]interface{}{"matchLabels": map[string]interface{}{"app": "web"}}
	template := map[string]interface{}{"metadata": map[string]interface{}{"labels": map[string]interface{}{"app": "web"}}}
	cases := []transformCase{
		{
			name: "labels added to metadata only",
			tc:   ferry,
			in: forDeployment("shop", "web").labels("app", "web").
				set(selector, "spec", "selector").set(template, "spec", "template").obj(),
			want: forDeployment("shop", "web").
				labels("app", "web", ferryv1.LabelPlan, "shop-move", ferryv1.LabelMigration, "shop-move-1").
				set(selector, "spec", "selector").set(template, "spec", "template").obj(),
		},
		{
			name: "object without labels",
			tc:   ferry,
			in:   newObject("v1", "ConfigMap", "shop", "c").obj(),
			want: newObject("v1", "ConfigMap", "shop", "c").
				labels(ferryv1.LabelPlan, "shop-move", ferryv1.LabelMigration, "shop-move-1").obj(),
		},
		{
			name: "Ferry's labels replace stale ones",
			tc:   ferry,
			in:   newObject("v1", "ConfigMap", "shop", "c").labels(ferryv1.LabelMigration, "old").obj(),
			want: newObject("v1", "ConfigMap", "shop", "c").
				labels(ferryv1.LabelPlan, "shop-move", ferryv1.LabelMigration, "shop-move-1").obj(),
		},
		{
			name: "the owner's managed-by stays",
			tc:   ferry,
			in:   newObject("v1", "ConfigMap", "shop", "c").labels(ferryv1.LabelManagedBy, "Helm").obj(),
			want: newObject("v1", "ConfigMap", "shop", "c").
				labels(ferryv1.LabelManagedBy, "Helm", ferryv1.LabelPlan, "shop-move", ferryv1.LabelMigration, "shop-move-1").obj(),
		},
		{
			name: "no labels to add",
			in:   newObject("v1", "ConfigMap", "shop", "c").obj(),
			want: newObject("v1", "ConfigMap", "shop", "c").obj(),
		},
	}
	runCases(t, &labelsTransform{}, cases)
}
