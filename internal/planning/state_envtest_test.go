//go:build envtest

package planning

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// TestValidateStatePlanEnvtest validates State plans whose destination,
// as a GitOps tool made it, holds the namespace, objects Ferry did not
// create and claims of other names and classes: pre-created claims are
// used as they are once they pass their checks, missing ones are
// created, and nothing else counts.
func TestValidateStatePlanEnvtest(t *testing.T) {
	src, dst := clients(t)
	ctx := context.Background()
	wffc := "wait-" + strings.ToLower(t.Name()[:4])
	mode := storagev1.VolumeBindingWaitForFirstConsumer
	create(t, dstEnv, &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: wffc}, Provisioner: "example.com/none", VolumeBindingMode: &mode})

	shop := namespace(t, srcEnv, "shop")
	create(t, srcEnv, claim(shop, "data", ptr.To("gold")), claim(shop, "logs", ptr.To("local-path")))
	tests := []struct {
		name        string
		existing    func(ns string) *corev1.PersistentVolumeClaim // the pre-created target of data
		bound       bool
		writer      bool // a running pod on the destination writes it
		wantReason  string
		wantMessage []string
		wantWarning string
		used        int64 // measured used bytes of the source claim data, when set
	}{
		{name: "bound claim of another class", existing: gitopsClaim(classFast, "1Gi", corev1.ReadWriteOnce), bound: true},
		{name: "pending claim that binds on first use", existing: gitopsClaim(wffc, "1Gi", corev1.ReadWriteOnce)},
		{name: "pending claim that does not bind", existing: gitopsClaim(classFast, "1Gi", corev1.ReadWriteOnce),
			wantReason: ferryv1.ReasonClaimNotUsable, wantMessage: []string{"shop-data (for " + shop + "/data) is not bound to a volume"}},
		{name: "read-only claim", existing: gitopsClaim(classFast, "1Gi", corev1.ReadOnlyMany), bound: true,
			wantReason: ferryv1.ReasonClaimNotUsable, wantMessage: []string{"allows only read-only access"}},
		{name: "block claim", existing: func(ns string) *corev1.PersistentVolumeClaim {
			c := gitopsClaim(classFast, "1Gi", corev1.ReadWriteOnce)(ns)
			c.Spec.VolumeMode = ptr.To(corev1.PersistentVolumeBlock)
			return c
		}, bound: true, wantReason: ferryv1.ReasonClaimNotUsable, wantMessage: []string{"raw block volume"}},
		{name: "claim in use", existing: gitopsClaim(classFast, "1Gi", corev1.ReadWriteOnce), bound: true, writer: true,
			wantReason: ferryv1.ReasonClaimNotUsable, wantMessage: []string{"mounted for writing by running pods app-0", "scale their workload to zero"}},
		{name: "smaller claim", existing: gitopsClaim(classFast, "512Mi", corev1.ReadWriteOnce), bound: true,
			wantWarning: "has 512Mi, less than the source's request of 1Gi"},
		{name: "smaller claim whose data fits", existing: gitopsClaim(classFast, "512Mi", corev1.ReadWriteOnce), bound: true,
			used: 300 << 20},
		{name: "claim smaller than the used bytes", existing: gitopsClaim(classFast, "512Mi", corev1.ReadWriteOnce), bound: true,
			used: 700 << 20, wantReason: ferryv1.ReasonInsufficientCapacity,
			wantMessage: []string{"data holds 700.0 MiB, destination claim", "has capacity 512.0 MiB", "enlarge that claim to at least 1Gi"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := "gitops-" + strings.ToLower(string(rune('a'+i))) + "-" + shop
			createNamespace(t, dstEnv, ns, nil)
			create(t, dstEnv, configMap(ns, "app-config", nil)) // not Ferry's: a Full plan would call it a conflict
			c := tt.existing(ns)
			create(t, dstEnv, c)
			if tt.bound {
				c.Status.Phase = corev1.ClaimBound
				c.Status.Capacity = c.Spec.Resources.Requests
				if err := dstEnv.Client.Status().Update(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			if tt.writer {
				runningPod(t, ns, "app-0", c.Name)
			}
			p := plan(shop + ":" + ns)
			p.Spec.Type = ferryv1.PlanState
			p.Spec.StorageClassMapping = map[string]string{"local-path": classStandard}
			p.Spec.PersistentVolumeClaims = []ferryv1.PVCOverride{{Namespace: shop, Name: "data", TargetName: "shop-data"}}
			if tt.used > 0 {
				p.Status.Usage = []ferryv1.ClaimUsage{{Namespace: shop, Name: "data", VolumeUsage: ferryv1.VolumeUsage{
					UsedBytes: ptr.To(tt.used), MeasuredAt: metav1.Now(), Method: ferryv1.UsagePod}}}
			}
			res, err := Validate(ctx, p, src, dst)
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
			if tt.wantWarning != "" && !strings.Contains(strings.Join(res.Warnings, "\n"), tt.wantWarning) {
				t.Errorf("warnings %q do not contain %q", res.Warnings, tt.wantWarning)
			}
			if tt.used > 0 && len(res.Warnings) > 0 {
				t.Errorf("warnings %q, want none once the used bytes decide", res.Warnings)
			}
			if res.Problem != nil {
				return
			}
			// data goes into the existing claim (its class not checked:
			// gold exists nowhere), logs into a new one of the mapped class.
			byName := map[string]ferryv1.PlanPVC{}
			for _, pvc := range res.PVCs {
				byName[pvc.Name] = pvc
			}
			if d := byName["data"]; !d.TargetExists || d.TargetName != "shop-data" || d.TargetStorageClass != *c.Spec.StorageClassName {
				t.Errorf("data = %+v, want the existing claim shop-data", d)
			}
			if l := byName["logs"]; l.TargetExists || l.TargetStorageClass != classStandard {
				t.Errorf("logs = %+v, want a new claim of class %s", l, classStandard)
			}
			if res.Total != 1 || len(res.Counts) != 1 || res.Counts[0].Kind != "PersistentVolumeClaim" {
				t.Errorf("counts = %+v (total %d), want one claim to create", res.Counts, res.Total)
			}
			if s := res.Summary(); !strings.Contains(s, "state only: 2 volumes to copy, 1 of them into claims that exist") {
				t.Errorf("summary %q", s)
			}
		})
	}
}

// gitopsClaim returns a maker of the claim shop-data as a GitOps tool
// would create it.
func gitopsClaim(class, size string, mode corev1.PersistentVolumeAccessMode) func(ns string) *corev1.PersistentVolumeClaim {
	return func(ns string) *corev1.PersistentVolumeClaim {
		c := claim(ns, "shop-data", ptr.To(class))
		c.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{mode}
		c.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse(size)
		return c
	}
}

// runningPod creates a pod that mounts claim and marks it Running.
func runningPod(t *testing.T, ns, name, claim string) {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "app", Image: "app:1"}},
		Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}}}}
	create(t, dstEnv, pod)
	pod.Status.Phase = corev1.PodRunning
	if err := dstEnv.Client.Status().Update(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
}
