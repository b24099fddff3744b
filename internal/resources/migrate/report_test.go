package migrate

import (
	"errors"
	"fmt"
	"testing"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestReport(t *testing.T) {
	r := NewReport()
	for i := 0; i < 3*ferryv1.MaxObjectResults; i++ {
		r.Add(ferryv1.ObjectResult{Kind: "ConfigMap", Name: fmt.Sprint(i), Action: ferryv1.ObjectSkipped, Reason: "x"})
	}
	r.Add(ferryv1.ObjectResult{Kind: "Secret", Name: "a", Action: ferryv1.ObjectFailed, Reason: "denied"})
	r.Add(ferryv1.ObjectResult{Kind: "Secret", Name: "b", Action: ferryv1.ObjectCreated})
	r.Add(ferryv1.ObjectResult{Kind: "Secret", Name: "c", Action: ferryv1.ObjectUnchanged})
	if r.Done() != int64(3*ferryv1.MaxObjectResults+3) {
		t.Errorf("done %d", r.Done())
	}
	if r.Failed() != 1 {
		t.Errorf("failed %d", r.Failed())
	}
	res := r.Results()
	if len(res) != 2 || res[0].Kind != "ConfigMap" || res[0].Skipped != 3*ferryv1.MaxObjectResults ||
		res[1].Failed != 1 || res[1].Created != 1 || res[1].Unchanged != 1 {
		t.Errorf("results %+v", res)
	}
	objs := r.Objects()
	if len(objs) > ferryv1.MaxObjectResults || objs[0].Action != ferryv1.ObjectFailed {
		t.Errorf("objects: %d listed, first %+v; want failures first and at most %d", len(objs), objs[0], ferryv1.MaxObjectResults)
	}
}

func TestReportAppliedAndDeleted(t *testing.T) {
	tests := []struct {
		name        string
		actions     map[string][]ferryv1.ObjectAction
		wantApplied int
		wantDeleted int
		wantKinds   string
	}{
		{name: "empty"},
		{name: "apply", actions: map[string][]ferryv1.ObjectAction{
			"ConfigMap": {ferryv1.ObjectCreated, ferryv1.ObjectUpdated, ferryv1.ObjectUnchanged, ferryv1.ObjectSkipped, ferryv1.ObjectFailed}},
			wantApplied: 3},
		{name: "remove", actions: map[string][]ferryv1.ObjectAction{
			"Namespace":             {ferryv1.ObjectDeleted},
			"StatefulSet.apps":      {ferryv1.ObjectDeleted},
			"PersistentVolumeClaim": {ferryv1.ObjectDeleted, ferryv1.ObjectDeleted, ferryv1.ObjectFailed}},
			wantDeleted: 4, wantKinds: "1 Namespace, 2 PersistentVolumeClaim, 1 StatefulSet.apps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReport()
			for kind, actions := range tt.actions {
				for i, a := range actions {
					r.Add(ferryv1.ObjectResult{Kind: kind, Name: fmt.Sprint(i), Action: a})
				}
			}
			if got := r.Applied(); got != tt.wantApplied {
				t.Errorf("Applied = %d, want %d", got, tt.wantApplied)
			}
			if n, kinds := r.Deleted(); n != tt.wantDeleted || kinds != tt.wantKinds {
				t.Errorf("Deleted = %d, %q; want %d, %q", n, kinds, tt.wantDeleted, tt.wantKinds)
			}
		})
	}
}

// TestReportCauses: failures recorded with Fail keep their errors (as many
// as are listed) and say so; one recorded by Add without an error makes
// the causes incomplete.
func TestReportCauses(t *testing.T) {
	r := NewReport()
	refused := errors.New("connect: connection refused")
	for i := 0; i < ferryv1.MaxObjectResults+5; i++ {
		r.Fail(ferryv1.ObjectResult{Kind: "ConfigMap", Name: fmt.Sprint(i)}, refused)
	}
	causes, complete := r.Causes()
	if !complete || len(causes) != ferryv1.MaxObjectResults || !errors.Is(causes[0], refused) {
		t.Errorf("causes: %d, complete %v; want %d, complete", len(causes), complete, ferryv1.MaxObjectResults)
	}
	if o := r.Objects()[0]; o.Action != ferryv1.ObjectFailed || o.Reason != refused.Error() || r.Failed() != ferryv1.MaxObjectResults+5 {
		t.Errorf("failed object %+v, %d failed", o, r.Failed())
	}
	r.Add(ferryv1.ObjectResult{Kind: "Secret", Name: "a", Action: ferryv1.ObjectFailed, Reason: "denied"})
	if _, complete := r.Causes(); complete {
		t.Error("a failure without its error left the causes complete")
	}
}
