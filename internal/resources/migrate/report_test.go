package migrate

import (
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
