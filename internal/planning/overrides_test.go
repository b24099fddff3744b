package planning

import (
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestOverrideProblems(t *testing.T) {
	override := func(change func(*ferryv1.PVCOverride)) ferryv1.PVCOverride {
		o := ferryv1.PVCOverride{Namespace: "shop", Name: "data"}
		change(&o)
		return o
	}
	tests := []struct {
		name  string
		o     ferryv1.PVCOverride
		found bool
		want  []string // substrings, one per problem
	}{
		{name: "plain copy", o: override(func(o *ferryv1.PVCOverride) { o.Action = ferryv1.PVCActionCopy }), found: true},
		{name: "skip", o: override(func(o *ferryv1.PVCOverride) { o.Action = ferryv1.PVCActionSkip }), found: true},
		{name: "no action", o: override(func(*ferryv1.PVCOverride) {}), found: true},
		{name: "claim not in the plan", o: override(func(*ferryv1.PVCOverride) {}), want: []string{"claim shop/data is not in the plan's namespaces"}},
		{name: "move", o: override(func(o *ferryv1.PVCOverride) { o.Action = ferryv1.PVCActionMove }), found: true},
		{name: "unknown action", o: override(func(o *ferryv1.PVCOverride) { o.Action = "teleport" }), found: true,
			want: []string{`unknown action "teleport"`}},
		{name: "valid target name", o: override(func(o *ferryv1.PVCOverride) { o.TargetName = "data-v2.x" }), found: true},
		{name: "invalid target name", o: override(func(o *ferryv1.PVCOverride) { o.TargetName = "Data_V2" }), found: true,
			want: []string{`target name "Data_V2"`}},
		{name: "access modes", o: override(func(o *ferryv1.PVCOverride) {
			o.TargetAccessModes = []string{"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"}
		}), found: true},
		{name: "unknown access mode", o: override(func(o *ferryv1.PVCOverride) { o.TargetAccessModes = []string{"RWO"} }), found: true,
			want: []string{`unknown access mode "RWO"`}},
		{name: "capacity", o: override(func(o *ferryv1.PVCOverride) { o.TargetCapacity = ptr.To(resource.MustParse("20Gi")) }), found: true},
		{name: "negative capacity", o: override(func(o *ferryv1.PVCOverride) { o.TargetCapacity = ptr.To(resource.MustParse("-5Gi")) }), found: true,
			want: []string{"capacity -5Gi: give a size above zero"}},
		{name: "zero capacity", o: override(func(o *ferryv1.PVCOverride) { o.TargetCapacity = ptr.To(resource.MustParse("0")) }), found: true,
			want: []string{"capacity 0: give a size above zero"}},
		{name: "every problem at once", found: true, o: override(func(o *ferryv1.PVCOverride) {
			o.Action, o.TargetName, o.TargetAccessModes = "x", "-bad", []string{"y"}
		}), want: []string{`unknown action "x"`, `target name "-bad"`, `unknown access mode "y"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := overrideProblems(tt.o, tt.found)
			if len(got) != len(tt.want) {
				t.Fatalf("overrideProblems = %q, want %d problems like %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSharedTargets(t *testing.T) {
	claim := func(ns, name, targetNS, target string, action ferryv1.PVCAction) ferryv1.PlanPVC {
		return ferryv1.PlanPVC{Namespace: ns, Name: name, TargetNamespace: targetNS, TargetName: target, Action: action}
	}
	tests := []struct {
		name string
		pvcs []ferryv1.PlanPVC
		want []string
	}{
		{name: "distinct targets", pvcs: []ferryv1.PlanPVC{
			claim("a", "data", "a", "data", ferryv1.PVCActionCopy), claim("b", "data", "b", "data", ferryv1.PVCActionCopy)}},
		{name: "rename onto another claim", pvcs: []ferryv1.PlanPVC{
			claim("a", "data", "a", "data", ferryv1.PVCActionCopy), claim("a", "old", "a", "data", ferryv1.PVCActionCopy)},
			want: []string{"claims a/data and a/old would both become a/data"}},
		{name: "skipped claims take no name", pvcs: []ferryv1.PlanPVC{
			claim("a", "data", "a", "data", ferryv1.PVCActionSkip), claim("a", "old", "a", "data", ferryv1.PVCActionCopy)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sharedTargets(tt.pvcs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("sharedTargets = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTemplateOf(t *testing.T) {
	sets := []appsv1.StatefulSet{{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{VolumeClaimTemplates: []corev1.PersistentVolumeClaim{
			{ObjectMeta: metav1.ObjectMeta{Name: "data"}}, {ObjectMeta: metav1.ObjectMeta{Name: "wal"}}}},
	}}
	tests := []struct {
		claim, wantSet, wantTemplate string
	}{
		{claim: "data-db-0", wantSet: "db", wantTemplate: "data"},
		{claim: "wal-db-12", wantSet: "db", wantTemplate: "wal"},
		{claim: "data-db-x"},
		{claim: "data-db-"},
		{claim: "data-other-0"},
		{claim: "data"},
	}
	for _, tt := range tests {
		t.Run(tt.claim, func(t *testing.T) {
			s, tmpl, ok := templateOf(tt.claim, sets)
			if ok != (tt.wantSet != "") || s != tt.wantSet || tmpl != tt.wantTemplate {
				t.Errorf("templateOf(%q) = %q, %q, %v; want %q, %q", tt.claim, s, tmpl, ok, tt.wantSet, tt.wantTemplate)
			}
		})
	}
}
