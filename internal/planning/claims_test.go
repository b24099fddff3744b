package planning

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/resources/transform"
)

// sourceClaim is a claim of namespace shop on the source.
func sourceClaim(name string, class *string, capacity string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: class, AccessModes: modes}}
	if capacity != "" {
		c.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(capacity)}
	}
	return c
}

func TestDecideClaim(t *testing.T) {
	classes := transform.StorageClassMap{"standard": "fast", "old": ""}
	tests := []struct {
		name     string
		claim    *corev1.PersistentVolumeClaim
		override ferryv1.PVCOverride
		want     ferryv1.PlanPVC
	}{
		{
			name:  "copied under its name, class mapped",
			claim: sourceClaim("data", ptr.To("standard"), "10Gi", corev1.ReadWriteOnce),
			want: ferryv1.PlanPVC{Namespace: "shop", Name: "data", StorageClass: "standard", Capacity: "10Gi",
				AccessModes: []string{"ReadWriteOnce"}, Action: ferryv1.PVCActionCopy,
				TargetNamespace: "shop-new", TargetName: "data", TargetStorageClass: "fast"},
		},
		{
			name:  "class without mapping kept",
			claim: sourceClaim("data", ptr.To("gold"), "1Gi"),
			want: ferryv1.PlanPVC{Namespace: "shop", Name: "data", StorageClass: "gold", Capacity: "1Gi",
				Action: ferryv1.PVCActionCopy, TargetNamespace: "shop-new", TargetName: "data", TargetStorageClass: "gold"},
		},
		{
			name:  "no class: the destination's default",
			claim: sourceClaim("data", nil, ""),
			want:  ferryv1.PlanPVC{Namespace: "shop", Name: "data", Action: ferryv1.PVCActionCopy, TargetNamespace: "shop-new", TargetName: "data"},
		},
		{
			name:  "mapped to empty: the destination's default",
			claim: sourceClaim("data", ptr.To("old"), ""),
			want: ferryv1.PlanPVC{Namespace: "shop", Name: "data", StorageClass: "old", Action: ferryv1.PVCActionCopy,
				TargetNamespace: "shop-new", TargetName: "data"},
		},
		{
			name:  "override wins over the mapping",
			claim: sourceClaim("data", ptr.To("standard"), "10Gi", corev1.ReadWriteOnce),
			override: ferryv1.PVCOverride{Namespace: "shop", Name: "data", TargetName: "data-v2", TargetStorageClass: "gold",
				TargetCapacity: ptr.To(resource.MustParse("20Gi")), TargetAccessModes: []string{"ReadWriteOncePod"}},
			want: ferryv1.PlanPVC{Namespace: "shop", Name: "data", StorageClass: "standard", Capacity: "10Gi",
				AccessModes: []string{"ReadWriteOnce"}, Action: ferryv1.PVCActionCopy, TargetNamespace: "shop-new",
				TargetName: "data-v2", TargetStorageClass: "gold", TargetCapacity: "20Gi", TargetAccessModes: []string{"ReadWriteOncePod"}},
		},
		{
			name:     "skipped",
			claim:    sourceClaim("cache", ptr.To("standard"), "1Gi"),
			override: ferryv1.PVCOverride{Namespace: "shop", Name: "cache", Action: ferryv1.PVCActionSkip},
			want: ferryv1.PlanPVC{Namespace: "shop", Name: "cache", StorageClass: "standard", Capacity: "1Gi",
				Action: ferryv1.PVCActionSkip, TargetNamespace: "shop-new", TargetName: "cache", TargetStorageClass: "fast"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decideClaim(tt.claim, "shop-new", classes, tt.override)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decideClaim =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestApplyOverride(t *testing.T) {
	base := ferryv1.PlanPVC{Namespace: "shop", Name: "data", Action: ferryv1.PVCActionCopy, TargetNamespace: "shop",
		TargetName: "data", TargetStorageClass: "fast"}
	tests := []struct {
		name string
		o    ferryv1.PVCOverride
		want func(*ferryv1.PlanPVC)
	}{
		{name: "empty override changes nothing", want: func(*ferryv1.PlanPVC) {}},
		{name: "action", o: ferryv1.PVCOverride{Action: ferryv1.PVCActionSkip},
			want: func(p *ferryv1.PlanPVC) { p.Action = ferryv1.PVCActionSkip }},
		{name: "name", o: ferryv1.PVCOverride{TargetName: "data-v2"}, want: func(p *ferryv1.PlanPVC) { p.TargetName = "data-v2" }},
		{name: "class", o: ferryv1.PVCOverride{TargetStorageClass: "gold"}, want: func(p *ferryv1.PlanPVC) { p.TargetStorageClass = "gold" }},
		{name: "capacity in canonical form", o: ferryv1.PVCOverride{TargetCapacity: ptr.To(resource.MustParse("1024Mi"))},
			want: func(p *ferryv1.PlanPVC) { p.TargetCapacity = "1Gi" }},
		{name: "access modes", o: ferryv1.PVCOverride{TargetAccessModes: []string{"ReadWriteMany"}},
			want: func(p *ferryv1.PlanPVC) { p.TargetAccessModes = []string{"ReadWriteMany"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := base, base
			applyOverride(&got, tt.o)
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("applyOverride = %+v, want %+v", got, want)
			}
		})
	}
}

func TestMissingClasses(t *testing.T) {
	have := map[string]bool{"standard": true, "fast": true}
	claim := func(name, target string, action ferryv1.PVCAction) ferryv1.PlanPVC {
		return ferryv1.PlanPVC{Namespace: "shop", Name: name, Action: action, TargetStorageClass: target}
	}
	tests := []struct {
		name    string
		pvcs    []ferryv1.PlanPVC
		mapping map[string]string
		def     string
		want    []string
	}{
		{name: "classes exist", pvcs: []ferryv1.PlanPVC{claim("a", "fast", ferryv1.PVCActionCopy)}, mapping: map[string]string{"x": "fast"}},
		{name: "missing class", pvcs: []ferryv1.PlanPVC{claim("a", "gold", ferryv1.PVCActionCopy)},
			want: []string{`"gold" (for claim shop/a)`}},
		{name: "skipped claim needs no class", pvcs: []ferryv1.PlanPVC{claim("a", "gold", ferryv1.PVCActionSkip)}},
		{name: "no class takes the default", pvcs: []ferryv1.PlanPVC{claim("a", "", ferryv1.PVCActionCopy)}, def: "standard"},
		{name: "no class and no default", pvcs: []ferryv1.PlanPVC{claim("a", "", ferryv1.PVCActionCopy)},
			want: []string{`"" (for claim shop/a)`}},
		{name: "mapping onto a missing class, named once", mapping: map[string]string{"a": "gold", "b": "gold"},
			want: []string{`"gold" (in the storage-class mapping)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := missingClasses(tt.pvcs, tt.mapping, have, tt.def)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("missingClasses = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	res := &Result{Total: 9, PVCs: []ferryv1.PlanPVC{
		{Name: "a", Action: ferryv1.PVCActionCopy}, {Name: "b", Action: ferryv1.PVCActionSkip}, {Name: "c", Action: ferryv1.PVCActionCopy},
	}}
	if got, want := res.Summary(), "9 objects and 2 volumes to migrate"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	res.PVCs = append(res.PVCs, ferryv1.PlanPVC{Name: "d", Action: ferryv1.PVCActionMove})
	if got, want := res.Summary(), "9 objects and 2 volumes to migrate, 1 to move (no data copied)"; got != want {
		t.Errorf("Summary with a moved claim = %q, want %q", got, want)
	}
}
