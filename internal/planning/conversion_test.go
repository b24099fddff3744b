package planning

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestConversionTarget(t *testing.T) {
	sets := []appsv1.StatefulSet{{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: appsv1.StatefulSetSpec{
		VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}}}}
	tests := []struct{ name, from, to, want string }{
		{"data", "standard", "fast", "data-fast"},
		{"data-fast", "fast", "standard", "data-standard"},
		{"data-standard", "standard", "fast", "data-fast"},
		{"standard", "standard", "fast", "standard-fast"},
		{"data", "", "fast", "data-fast"},
		{"data-db-0", "standard", "fast", "data-fast-db-0"},
		{"data-db-1", "standard", "gp3.csi", "data-gp3-csi-db-1"},
		{"logs", "standard", "gp3.csi", "logs-gp3.csi"},
	}
	for _, tt := range tests {
		if got := conversionTarget(tt.name, tt.from, tt.to, sets); got != tt.want {
			t.Errorf("conversionTarget(%q, %q, %q) = %q, want %q", tt.name, tt.from, tt.to, got, tt.want)
		}
	}
}
