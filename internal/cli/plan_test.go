package cli

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestPlanOptions(t *testing.T) {
	tests := []struct {
		name    string
		o       planCreateOptions
		wantErr string
		check   func(t *testing.T, p *ferryv1.Plan)
	}{
		{name: "minimal", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}},
			check: func(t *testing.T, p *ferryv1.Plan) {
				if p.Spec.SourceCluster != "a" || p.Spec.DestinationCluster != "b" || p.Spec.Namespaces[0] != "shop" {
					t.Errorf("spec %+v", p.Spec)
				}
			}},
		{name: "rename, selector, rewrite", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop:shop2"},
			selector: "app=web", rewrites: []string{"r1:5000/=r2/"}, scMap: map[string]string{"standard": "fast"}},
			check: func(t *testing.T, p *ferryv1.Plan) {
				if p.Spec.LabelSelector.MatchLabels["app"] != "web" || p.Spec.RegistryRewrites[0].To != "r2/" || p.Spec.StorageClassMapping["standard"] != "fast" {
					t.Errorf("spec %+v", p.Spec)
				}
			}},
		{name: "route domain map", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"},
			routeDomains: map[string]string{"apps.old.example": "apps.new.example"}},
			check: func(t *testing.T, p *ferryv1.Plan) {
				if p.Spec.RouteDomainMapping["apps.old.example"] != "apps.new.example" {
					t.Errorf("route domains %v", p.Spec.RouteDomainMapping)
				}
			}},
		{name: "bad route domain", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"},
			routeDomains: map[string]string{"apps.old.example": "Apps_New"}}, wantErr: "is not a DNS domain"},
		{name: "no clusters", o: planCreateOptions{name: "shop", namespaces: []string{"shop"}}, wantErr: "--from and --to"},
		{name: "no namespace", o: planCreateOptions{name: "shop", from: "a", to: "b"}, wantErr: "no namespaces"},
		{name: "bad namespace", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"Shop"}}, wantErr: "not a valid name"},
		{name: "bad rewrite", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, rewrites: []string{"x"}}, wantErr: "FROM=TO"},
		{name: "bad selector", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, selector: "a=b=c"}, wantErr: "--selector"},
		{name: "bad name", o: planCreateOptions{name: "Shop!", from: "a", to: "b", namespaces: []string{"shop"}}, wantErr: "not a valid name"},
		{name: "claim overrides", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"},
			pvcs: []string{"shop/data:name=data-v2,class=fast,capacity=20Gi,access=ReadWriteOnce+ReadOnlyMany", "shop/cache:action=skip"}},
			check: func(t *testing.T, p *ferryv1.Plan) {
				c := p.Spec.PersistentVolumeClaims
				if len(c) != 2 || c[0].Namespace != "shop" || c[0].Name != "data" || c[0].TargetName != "data-v2" ||
					c[0].TargetStorageClass != "fast" || c[0].TargetCapacity.String() != "20Gi" ||
					strings.Join(c[0].TargetAccessModes, ",") != "ReadWriteOnce,ReadOnlyMany" || c[1].Action != ferryv1.PVCActionSkip {
					t.Errorf("claim overrides %+v", c)
				}
			}},
		{name: "auto-resize with headroom", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"},
			autoResize: true, headroom: ptr.To[int32](25)},
			check: func(t *testing.T, p *ferryv1.Plan) {
				if !p.Spec.AutoResize || p.Spec.Headroom() != 25 {
					t.Errorf("spec %+v, want auto-resize with 25%% headroom", p.Spec)
				}
			}},
		{name: "headroom out of range", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"},
			headroom: ptr.To[int32](-1)}, wantErr: "0 to 1000"},
		{name: "claim without namespace", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, pvcs: []string{"data:action=skip"}}, wantErr: "NAMESPACE/NAME"},
		{name: "claim without change", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, pvcs: []string{"shop/data"}}, wantErr: "no change"},
		{name: "claim with unknown key", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, pvcs: []string{"shop/data:size=1Gi"}}, wantErr: `unknown key "size"`},
		{name: "claim with bad capacity", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, pvcs: []string{"shop/data:capacity=lots"}}, wantErr: "capacity"},
		{name: "claim with negative capacity", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, pvcs: []string{"shop/data:capacity=-5Gi"}}, wantErr: "above zero"},
		{name: "through a repository, one claim direct", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"},
			repository: "s3", dataPath: "repository", pvcs: []string{"shop/cache:path=direct"}},
			check: func(t *testing.T, p *ferryv1.Plan) {
				if p.Spec.Repository != "s3" || p.Spec.DataPath != ferryv1.DataPathRepository || p.Spec.PathOf("shop", "cache") != ferryv1.DataPathDirect ||
					p.Spec.PathOf("shop", "data") != ferryv1.DataPathRepository {
					t.Errorf("spec %+v", p.Spec)
				}
				var out strings.Builder
				describePlan(&out, p)
				if !strings.Contains(out.String(), "Data path: repository, repository s3 (claims: shop/cache direct)") {
					t.Errorf("describe:\n%s", out.String())
				}
			}},
		{name: "unknown data path", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, dataPath: "pigeon"}, wantErr: "use direct or repository"},
		{name: "claim with unknown data path", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, pvcs: []string{"shop/data:path=pigeon"}}, wantErr: "use direct or repository"},
		{name: "claim with zero capacity", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, pvcs: []string{"shop/data:capacity=0"}}, wantErr: "above zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.o.plan()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
		})
	}
}

func TestRenderPlainLines(t *testing.T) {
	start := metav1.NewMicroTime(time.Now().Add(-2 * time.Second))
	end := metav1.NewMicroTime(time.Now())
	m := &ferryv1.Migration{ObjectMeta: metav1.ObjectMeta{Name: "m1"}, Status: ferryv1.MigrationStatus{
		Phase: ferryv1.MigrationRunning,
		Itinerary: []ferryv1.Step{
			{Name: "Validate", Phase: ferryv1.StepSucceeded, Started: &start, Completed: &end, Message: "ok"},
			{Name: "Quiesce", Phase: ferryv1.StepPending},
		}}}
	var out bytes.Buffer
	r := newRenderer(&out)
	r.render(m)
	r.render(m) // unchanged: prints nothing more
	got := out.String()
	if strings.Count(got, "\n") != 2 || !strings.Contains(got, "Validate") || !strings.Contains(got, "Succeeded") ||
		strings.Contains(got, "Quiesce") || !strings.Contains(got, "migration m1: Running") {
		t.Errorf("plain output:\n%s", got)
	}
}

func TestRedrawVolumes(t *testing.T) {
	start := metav1.NewMicroTime(time.Now())
	m := &ferryv1.Migration{ObjectMeta: metav1.ObjectMeta{Name: "m1"}, Status: ferryv1.MigrationStatus{
		Phase:     ferryv1.MigrationRunning,
		Itinerary: []ferryv1.Step{{Name: "CopyVolumes", Phase: ferryv1.StepRunning, Started: &start}},
		Volumes: []ferryv1.VolumeStatus{{Namespace: "shop", Claim: "data", Phase: "Running", BytesDone: 50, BytesTotal: 100, FilesDone: 1, FilesTotal: 2},
			{Namespace: "shop", Claim: "empty", Phase: "Pending"}},
	}}
	var out bytes.Buffer
	r := &renderer{out: &out, tty: true, seen: map[string]string{}}
	r.render(m)
	got := out.String()
	if !strings.Contains(got, "[##########..........] shop/data Running 50/100 bytes, 1/2 files") ||
		!strings.Contains(got, "shop/empty Pending 0/0 bytes") {
		t.Errorf("terminal output:\n%s", got)
	}
	r.render(m)
	if !strings.Contains(out.String(), "\033[") {
		t.Error("a second render does not move the cursor back to redraw in place")
	}
}

func TestMappingFlag(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    map[string]string
		wantErr string
	}{
		{"one", []string{"standard=fast"}, map[string]string{"standard": "fast"}, ""},
		{"comma and repeat", []string{"a=b,c=d", "e=f"}, map[string]string{"a": "b", "c": "d", "e": "f"}, ""},
		{"same pair twice", []string{"a=b", "a=b"}, map[string]string{"a": "b"}, ""},
		{"empty key", []string{"=fast"}, nil, "both names set"},
		{"empty value", []string{"standard="}, nil, "both names set"},
		{"no equals", []string{"standard"}, nil, "give OLD=NEW"},
		{"key twice", []string{"a=b", "a=c"}, nil, "a is mapped twice (to b and to c)"},
		{"key twice in one", []string{"a=b,a=c"}, nil, "mapped twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]string
			f := mappingFlag{&m}
			var err error
			for _, a := range tt.args {
				if err = f.Set(a); err != nil {
					break
				}
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(m, tt.want) {
				t.Fatalf("map %v, err %v; want %v", m, err, tt.want)
			}
		})
	}
}

func TestDescribeVolumes(t *testing.T) {
	p := &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Name: "shop"}, Spec: ferryv1.PlanSpec{AutoResize: true},
		Status: ferryv1.PlanStatus{PersistentVolumeClaims: []ferryv1.PlanPVC{
			{Namespace: "shop", Name: "data", StorageClass: "standard", Capacity: "16Mi", Action: ferryv1.PVCActionCopy,
				TargetNamespace: "shop", TargetName: "data", TargetStorageClass: "standard", TargetCapacity: "1Gi", ProposedCapacity: "1Gi",
				Usage: &ferryv1.VolumeUsage{UsedBytes: ptr.To[int64](40 << 20), UsedInodes: ptr.To[int64](3), Method: ferryv1.UsagePod,
					Owners: []ferryv1.VolumeOwner{{UID: 999, GID: 999, Files: 2, Bytes: 40 << 20}}, OtherOwners: 1, OtherOwnerFiles: 1,
					NonRoot: "999:999", UnreadableFiles: 1, UnreadableExample: "root.key"}},
			{Namespace: "shop", Name: "logs", StorageClass: "standard", Capacity: "1Gi", Action: ferryv1.PVCActionCopy,
				TargetNamespace: "shop", TargetName: "logs", TargetStorageClass: "standard",
				Usage: &ferryv1.VolumeUsage{Unknown: "the measurement pod failed: boom"}},
		}}}
	var out strings.Builder
	describePlan(&out, p)
	for _, want := range []string{
		"Volumes (auto-resize on, headroom 10%):",
		"CLAIM      CLASS     ACTION  USED                      REQUEST  PROPOSED  TARGET",
		"shop/data  standard  copy    40.0 MiB, 3 inodes (pod)  16Mi     1Gi       shop/data (standard, 1Gi)",
		"shop/logs  standard  copy    ?                         1Gi      -         shop/logs (standard, 1Gi)",
		"shop/logs: used space unknown: the measurement pod failed: boom",
		"shop/data: owners 999:999 (2 files, 40.0 MiB), 1 other owners (1 files); a non-root mover runs as 999:999 and cannot read 1 files (root.key, for one)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("describe does not show %q:\n%s", want, out.String())
		}
	}
}
