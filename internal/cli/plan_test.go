package cli

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
		{name: "claim without namespace", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, pvcs: []string{"data:action=skip"}}, wantErr: "NAMESPACE/NAME"},
		{name: "claim without change", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, pvcs: []string{"shop/data"}}, wantErr: "no change"},
		{name: "claim with unknown key", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, pvcs: []string{"shop/data:size=1Gi"}}, wantErr: `unknown key "size"`},
		{name: "claim with bad capacity", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, pvcs: []string{"shop/data:capacity=lots"}}, wantErr: "capacity"},
		{name: "claim with negative capacity", o: planCreateOptions{name: "shop", from: "a", to: "b", namespaces: []string{"shop"}, pvcs: []string{"shop/data:capacity=-5Gi"}}, wantErr: "above zero"},
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
