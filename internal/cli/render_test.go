package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// TestRenderFinishedMigrationTimes: the plain lines of a migration that
// ended an hour ago show when each step ended, not the time of printing.
func TestRenderFinishedMigrationTimes(t *testing.T) {
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	at := func(s int) *metav1.MicroTime {
		mt := metav1.NewMicroTime(base.Add(time.Duration(s) * time.Second))
		return &mt
	}
	done := metav1.NewTime(base.Add(9 * time.Second))
	m := &ferryv1.Migration{ObjectMeta: metav1.ObjectMeta{Name: "m1"}, Status: ferryv1.MigrationStatus{
		Phase: ferryv1.MigrationSucceeded, CompletionTime: &done,
		Itinerary: []ferryv1.Step{
			{Name: "Validate", Phase: ferryv1.StepSucceeded, Started: at(0), Completed: at(2)},
			{Name: "Quiesce", Phase: ferryv1.StepSkipped, Message: "not asked for"},
			{Name: "MigrateResources", Phase: ferryv1.StepSucceeded, Started: at(2), Completed: at(7)},
			{Name: "Unquiesce", Phase: ferryv1.StepFailed, Started: at(8)},
		}}}
	var out bytes.Buffer
	newRenderer(&out).render(m)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	tests := []struct {
		line      int
		wantStart string
	}{
		{0, clock(base.Add(2*time.Second)) + "  Validate"},
		{1, ""}, // never timed: the time of printing
		{2, clock(base.Add(7*time.Second)) + "  MigrateResources"},
		{3, clock(base.Add(8*time.Second)) + "  Unquiesce"}, // started, not completed
		{4, clock(done.Time) + "  migration m1: Succeeded"},
	}
	if len(lines) != len(tests) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(tests), out.String())
	}
	for _, tt := range tests {
		if tt.wantStart != "" && !strings.HasPrefix(lines[tt.line], tt.wantStart) {
			t.Errorf("line %d = %q, want it to start with %q", tt.line, lines[tt.line], tt.wantStart)
		}
	}
}

// TestRenderDowntime: a cutover that knows when the source stopped and
// the destination was available says how long the application was down.
func TestRenderDowntime(t *testing.T) {
	stopped := metav1.NewMicroTime(time.Now().Add(-time.Minute))
	available := metav1.NewMicroTime(stopped.Add(3210 * time.Millisecond))
	tests := []struct {
		name      string
		available *metav1.MicroTime
		want      string
	}{
		{"both known", &available, "migration m1: Succeeded, downtime: 3.21s"},
		{"not available yet", nil, "migration m1: Succeeded\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &ferryv1.Migration{ObjectMeta: metav1.ObjectMeta{Name: "m1"}, Status: ferryv1.MigrationStatus{
				Phase: ferryv1.MigrationSucceeded, SourceStopped: &stopped, DestinationAvailable: tt.available}}
			var out bytes.Buffer
			newRenderer(&out).render(m)
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("output %q lacks %q", out.String(), tt.want)
			}
		})
	}
}

// TestRenderImages: each finished image copy is one plain line, printed
// once, a failed one with its message.
func TestRenderImages(t *testing.T) {
	m := &ferryv1.Migration{ObjectMeta: metav1.ObjectMeta{Name: "m1"}, Status: ferryv1.MigrationStatus{
		Phase:     ferryv1.MigrationRunning,
		Itinerary: []ferryv1.Step{{Name: "CopyImages", Phase: ferryv1.StepRunning}},
		Images: []ferryv1.ImageStatus{
			{Source: "src:5000/shop/web:v1", Destination: "dst:5000/shop/web:v1", Phase: "Succeeded", Digest: "sha256:abc",
				LayersDone: 4, LayersTotal: 4, BytesDone: 100, BytesTotal: 100, BytesSent: 60},
			{Source: "src:5000/shop/gone:v1", Destination: "dst:5000/shop/gone:v1", Phase: "Failed", Message: "not found on the source registry"},
			{Source: "src:5000/shop/big:v1", Destination: "dst:5000/shop/big:v1", Phase: "Running", BytesDone: 1, BytesTotal: 9},
		}}}
	var out bytes.Buffer
	r := newRenderer(&out)
	r.render(m)
	r.render(m)
	got := out.String()
	for _, want := range []string{
		"image src:5000/shop/web:v1 → dst:5000/shop/web:v1 Succeeded, 4/4 layers, 100/100 bytes (60 sent) sha256:abc",
		"image src:5000/shop/gone:v1 → dst:5000/shop/gone:v1 Failed, 0/0 layers, 0/0 bytes (0 sent): not found on the source registry",
	} {
		if strings.Count(got, want) != 1 {
			t.Errorf("want once %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "shop/big") {
		t.Errorf("a running copy printed as a plain line:\n%s", got)
	}
}
