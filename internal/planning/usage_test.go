package planning

import (
	"context"
	"math"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/resources/migrate"
)

const mib = 1 << 20

func TestProposeCapacity(t *testing.T) {
	tests := []struct {
		name     string
		used     int64
		headroom int32
		request  string
		want     string
	}{
		{"data above a small request: used plus headroom, a whole GiB", 40 * mib, 10, "16Mi", "1Gi"},
		{"headroom crosses a GiB", 950 * mib, 10, "16Mi", "2Gi"},
		{"no headroom, exactly a GiB", gib, 0, "", "1Gi"},
		{"no headroom, a byte above a GiB", gib + 1, 0, "", "2Gi"},
		{"headroom of 100 percent", 3 * gib, 100, "1Gi", "6Gi"},
		{"7.3 GiB with the default headroom", 7*gib + 300*mib, 10, "5Gi", "9Gi"},
		{"never below the request", 1 * mib, 10, "20Gi", "20Gi"},
		{"a request that is not a whole GiB stays as it is", 1 * mib, 10, "1500Mi", "1500Mi"},
		{"empty volume: the smallest whole GiB", 0, 10, "", "1Gi"},
		{"beyond a quantity: the largest whole GiB", math.MaxInt64 - 1, 1000, "", "8589934591Gi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req resource.Quantity
			if tt.request != "" {
				req = resource.MustParse(tt.request)
			}
			got := ProposeCapacity(tt.used, tt.headroom, req)
			if want := resource.MustParse(tt.want); got.Cmp(want) != 0 {
				t.Errorf("ProposeCapacity(%d, %d, %s) = %s, want %s", tt.used, tt.headroom, tt.request, got.String(), tt.want)
			}
		})
	}
}

// measured is the usage of a claim measured with used bytes.
func measured(name string, used int64) ferryv1.ClaimUsage {
	return ferryv1.ClaimUsage{Namespace: "shop", Name: name, VolumeUsage: ferryv1.VolumeUsage{
		UsedBytes: ptr.To(used), UsedInodes: ptr.To[int64](3), MeasuredAt: metav1.Now(), Method: ferryv1.UsagePod}}
}

// copied is a claim of the list that the migration copies into a new claim.
func copied(name, capacity string) ferryv1.PlanPVC {
	return ferryv1.PlanPVC{Namespace: "shop", Name: name, Capacity: capacity, Action: ferryv1.PVCActionCopy,
		TargetNamespace: "shop", TargetName: name}
}

func TestUsageChecks(t *testing.T) {
	unknown := ferryv1.ClaimUsage{Namespace: "shop", Name: "data", VolumeUsage: ferryv1.VolumeUsage{
		MeasuredAt: metav1.Now(), Unknown: "pod cannot mount the claim"}}
	existing := copied("data", "16Mi")
	existing.TargetExists, existing.TargetCapacity = true, "32Mi"
	tests := []struct {
		name       string
		spec       ferryv1.PlanSpec
		usage      []ferryv1.ClaimUsage
		claim      ferryv1.PlanPVC
		wantTarget string
		wantReason string
		wantInMsg  []string
	}{
		{name: "fits: nothing changes", usage: []ferryv1.ClaimUsage{measured("data", 10*mib)}, claim: copied("data", "16Mi")},
		{name: "does not fit: refused with both figures and what to do", usage: []ferryv1.ClaimUsage{measured("data", 40*mib)},
			claim: copied("data", "16Mi"), wantReason: ferryv1.ReasonInsufficientCapacity,
			wantInMsg: []string{"claim shop/data data holds 40.0 MiB, destination capacity 16.0 MiB", "--auto-resize, proposed 1Gi", "--pvc shop/data:capacity=1Gi"}},
		{name: "auto-resize applies the proposal", spec: ferryv1.PlanSpec{AutoResize: true},
			usage: []ferryv1.ClaimUsage{measured("data", 40*mib)}, claim: copied("data", "16Mi"), wantTarget: "1Gi"},
		{name: "headroom of the plan", spec: ferryv1.PlanSpec{AutoResize: true, ResizeHeadroomPercent: ptr.To[int32](200)},
			usage: []ferryv1.ClaimUsage{measured("data", 400*mib)}, claim: copied("data", "16Mi"), wantTarget: "2Gi"},
		{name: "an explicit capacity wins over auto-resize, and is checked", spec: ferryv1.PlanSpec{AutoResize: true,
			PersistentVolumeClaims: []ferryv1.PVCOverride{{Namespace: "shop", Name: "data", TargetCapacity: ptr.To(resource.MustParse("20Mi"))}}},
			usage: []ferryv1.ClaimUsage{measured("data", 40*mib)}, claim: func() ferryv1.PlanPVC { c := copied("data", "16Mi"); c.TargetCapacity = "20Mi"; return c }(),
			wantTarget: "20Mi", wantReason: ferryv1.ReasonInsufficientCapacity, wantInMsg: []string{"destination capacity 20.0 MiB"}},
		{name: "unknown usage does not block without auto-resize", usage: []ferryv1.ClaimUsage{unknown}, claim: copied("data", "16Mi")},
		{name: "unknown usage blocks auto-resize, with the reason", spec: ferryv1.PlanSpec{AutoResize: true},
			usage: []ferryv1.ClaimUsage{unknown}, claim: copied("data", "16Mi"), wantReason: ferryv1.ReasonUsageUnknown,
			wantInMsg: []string{"pod cannot mount the claim", "--pvc shop/data:capacity=SIZE"}},
		{name: "not measured blocks auto-resize", spec: ferryv1.PlanSpec{AutoResize: true}, claim: copied("data", "16Mi"),
			wantReason: ferryv1.ReasonUsageUnknown, wantInMsg: []string{"it has not been measured"}},
		{name: "existing destination claim smaller than the data", spec: ferryv1.PlanSpec{AutoResize: true},
			usage: []ferryv1.ClaimUsage{measured("data", 40*mib)}, claim: existing, wantTarget: "32Mi",
			wantReason: ferryv1.ReasonInsufficientCapacity, wantInMsg: []string{"data holds 40.0 MiB, destination claim shop/data has capacity 32.0 MiB", "enlarge that claim to at least 1Gi"}},
		{name: "skipped claims are not checked", usage: []ferryv1.ClaimUsage{measured("data", 40*mib)},
			claim: func() ferryv1.PlanPVC { c := copied("data", "16Mi"); c.Action = ferryv1.PVCActionSkip; return c }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &ferryv1.Plan{Spec: tt.spec, Status: ferryv1.PlanStatus{Usage: tt.usage}}
			res := &Result{PVCs: []ferryv1.PlanPVC{tt.claim}}
			for _, c := range []check{applyUsage, checkCapacity} {
				if err := c(context.Background(), p, migrate.Scope{}, nil, nil, res); err != nil {
					t.Fatal(err)
				}
			}
			if got := res.PVCs[0].TargetCapacity; got != tt.wantTarget {
				t.Errorf("target capacity = %q, want %q", got, tt.wantTarget)
			}
			if len(tt.usage) > 0 && res.PVCs[0].Usage == nil {
				t.Error("the measured usage is not in the claim list")
			}
			if tt.wantReason == "" {
				if res.Problem != nil {
					t.Fatalf("problem %v, want none", res.Problem)
				}
				return
			}
			if res.Problem == nil || res.Problem.Reason != tt.wantReason {
				t.Fatalf("problem %v, want reason %s", res.Problem, tt.wantReason)
			}
			for _, s := range tt.wantInMsg {
				if !strings.Contains(res.Problem.Message, s) {
					t.Errorf("message %q does not say %q", res.Problem.Message, s)
				}
			}
		})
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 40 * mib: "40.0 MiB", 7*gib + 300*mib: "7.3 GiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
