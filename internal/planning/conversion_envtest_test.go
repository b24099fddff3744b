//go:build envtest

package planning

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// TestValidateConversionEnvtest validates StorageConversion plans in one
// cluster: the new claims' names (a StatefulSet's follow its template),
// and the bad inputs: two clusters, a claim onto its own class, nothing
// to convert, a bare pod on a converted claim, a StatefulSet converted in
// part, a new claim's name taken.
func TestValidateConversionEnvtest(t *testing.T) {
	_, c := clients(t)
	tests := []struct {
		name        string
		setup       func(ns string)
		plan        func(p *ferryv1.Plan, ns string)
		wantReason  string
		wantMessage []string
		wantTargets map[string]string
	}{
		{name: "class mapping", plan: mapStandard, wantTargets: map[string]string{
			"data": "data-fast", "data-db-0": "data-fast-db-0", "data-db-1": "data-fast-db-1"}},
		{name: "named claim", plan: func(p *ferryv1.Plan, ns string) {
			p.Spec.PersistentVolumeClaims = []ferryv1.PVCOverride{{Namespace: ns, Name: "data", TargetStorageClass: classFast, TargetName: "web-data"}}
		}, wantTargets: map[string]string{"data": "web-data"}},
		{name: "two clusters", plan: func(p *ferryv1.Plan, ns string) { mapStandard(p, ns); p.Spec.SourceCluster = "src" },
			wantReason: ferryv1.ReasonInvalidSpec, wantMessage: []string{"within one cluster"}},
		{name: "renamed namespace", plan: func(p *ferryv1.Plan, ns string) { mapStandard(p, ns); p.Spec.Namespaces = []string{ns + ":other"} },
			wantReason: ferryv1.ReasonInvalidSpec, wantMessage: []string{"keeps the claims in their namespace"}},
		{name: "own class", plan: func(p *ferryv1.Plan, ns string) {
			p.Spec.PersistentVolumeClaims = []ferryv1.PVCOverride{{Namespace: ns, Name: "data", TargetStorageClass: classStandard}}
		}, wantReason: ferryv1.ReasonInvalidSpec, wantMessage: []string{"onto its own class"}},
		{name: "nothing to convert", plan: func(*ferryv1.Plan, string) {},
			wantReason: ferryv1.ReasonInvalidSpec, wantMessage: []string{"no claim to convert"}},
		{name: "bare pod", setup: func(ns string) {
			create(t, dstEnv, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "solo"}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "a", Image: "a:1"}},
				Volumes: []corev1.Volume{{Name: "d", VolumeSource: corev1.VolumeSource{
					PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}}})
		}, plan: mapStandard, wantReason: ferryv1.ReasonUnsupportedWorkload, wantMessage: []string{"Pod/solo uses claim data and no workload controls it"}},
		{name: "part of a StatefulSet", plan: func(p *ferryv1.Plan, ns string) {
			p.Spec.PersistentVolumeClaims = []ferryv1.PVCOverride{{Namespace: ns, Name: "data-db-0", TargetStorageClass: classFast}}
		}, wantReason: ferryv1.ReasonUnsupportedWorkload, wantMessage: []string{"claims [data-db-1] of template data are not converted"}},
		{name: "new name taken", setup: func(ns string) { create(t, dstEnv, claim(ns, "data-fast", ptr.To(classFast))) },
			plan: mapStandard, wantReason: ferryv1.ReasonClaimNotUsable, wantMessage: []string{"/data-fast, the new claim of", "exists already"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := namespace(t, dstEnv, "convert")
			conversionApp(t, ns)
			if tt.setup != nil {
				tt.setup(ns)
			}
			p := plan(ns)
			p.Spec.Type = ferryv1.PlanStorageConversion
			p.Spec.SourceCluster = "dst"
			tt.plan(p, ns)
			res, err := Validate(context.Background(), p, c, c)
			if err != nil {
				t.Fatal(err)
			}
			if got := reason(res); got != tt.wantReason {
				t.Fatalf("reason = %q, want %q (%+v)", got, tt.wantReason, res.Problem)
			}
			for _, w := range tt.wantMessage {
				if !strings.Contains(res.Problem.Message, w) {
					t.Errorf("message %q does not contain %q", res.Problem.Message, w)
				}
			}
			if tt.wantTargets == nil {
				return
			}
			got := map[string]string{}
			for _, pvc := range res.Copied() {
				got[pvc.Name] = pvc.TargetName
				if pvc.TargetStorageClass != classFast || pvc.TargetNamespace != ns {
					t.Errorf("claim %s: target %s/%s class %s", pvc.Name, pvc.TargetNamespace, pvc.TargetName, pvc.TargetStorageClass)
				}
			}
			if len(got) != len(tt.wantTargets) {
				t.Errorf("converted %v, want %v", got, tt.wantTargets)
			}
			for k, v := range tt.wantTargets {
				if got[k] != v {
					t.Errorf("claim %s becomes %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func mapStandard(p *ferryv1.Plan, _ string) {
	p.Spec.StorageClassMapping = map[string]string{classStandard: classFast}
}

// conversionApp creates, in namespace ns of the destination, a
// Deployment on claim data and a StatefulSet db with two claims of its
// template data, all of class standard.
func conversionApp(t *testing.T, ns string) {
	t.Helper()
	sel, tpl := pods("web")
	tpl.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
	dbSel, dbTpl := pods("db")
	create(t, dstEnv,
		claim(ns, "data", ptr.To(classStandard)), claim(ns, "data-db-0", ptr.To(classStandard)), claim(ns, "data-db-1", ptr.To(classStandard)),
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}, Spec: appsv1.DeploymentSpec{Selector: sel, Template: tpl}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"}, Spec: appsv1.StatefulSetSpec{Selector: dbSel, Template: dbTpl,
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}}}})
}
