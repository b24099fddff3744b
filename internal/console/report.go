package console

import (
	"fmt"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// migrationReport is the answer of GET /api/migrations/{name}/report.
type migrationReport struct {
	Migration string                 `json:"migration"`
	Plan      string                 `json:"plan"`
	Type      ferryv1.MigrationType  `json:"type"`
	Phase     ferryv1.MigrationPhase `json:"phase"`
	Started   *metav1.Time           `json:"started,omitempty"`
	Completed *metav1.Time           `json:"completed,omitempty"`
	// DowntimeSeconds is the application's downtime in a cutover, when
	// known.
	DowntimeSeconds *float64               `json:"downtimeSeconds,omitempty"`
	Steps           []reportStep           `json:"steps"`
	Results         []ferryv1.KindResults  `json:"results"`
	Objects         []ferryv1.ObjectResult `json:"objects"`
	Volumes         []ferryv1.VolumeStatus `json:"volumes"`
	Images          []ferryv1.ImageStatus  `json:"images"`
	Errors          []string               `json:"errors"`
}

// reportStep is one step and where its time went.
type reportStep struct {
	Name      string            `json:"name"`
	Phase     ferryv1.StepPhase `json:"phase"`
	Started   *metav1.MicroTime `json:"started,omitempty"`
	Completed *metav1.MicroTime `json:"completed,omitempty"`
	// Seconds from start to completion (to now for a running step).
	Seconds  float64 `json:"seconds"`
	Attempts int     `json:"attempts"`
	Message  string  `json:"message,omitempty"`
}

// reportOf builds the report of m at now.
func reportOf(m *ferryv1.Migration, now time.Time) migrationReport {
	st := &m.Status
	r := migrationReport{Migration: m.Name, Plan: m.Spec.Plan, Type: m.Spec.Type, Phase: st.Phase,
		Started: st.StartTime, Completed: st.CompletionTime, Steps: []reportStep{},
		Results: nonNil(st.Results), Objects: nonNil(st.Objects), Volumes: nonNil(st.Volumes), Images: nonNil(st.Images), Errors: nonNil(st.Errors)}
	if r.Phase == "" {
		r.Phase = ferryv1.MigrationPending
	}
	if d, ok := m.Downtime(); ok {
		sec := d.Seconds()
		r.DowntimeSeconds = &sec
	}
	for _, s := range st.Itinerary {
		rs := reportStep{Name: s.Name, Phase: s.Phase, Started: s.Started, Completed: s.Completed, Attempts: s.Attempts, Message: s.Message}
		switch {
		case s.Started != nil && s.Completed != nil:
			rs.Seconds = s.Completed.Sub(s.Started.Time).Seconds()
		case s.Started != nil:
			rs.Seconds = now.Sub(s.Started.Time).Seconds()
		}
		r.Steps = append(r.Steps, rs)
	}
	return r
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// migrationReport is GET /api/migrations/{name}/report; ?download=1
// makes it a file.
func (s *Server) migrationReport(c *call) error {
	m, err := s.ops.GetMigration(c.ctx(), c.r.PathValue("name"))
	if err != nil {
		return err
	}
	if c.r.URL.Query().Get("download") == "1" {
		c.w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", m.Name+"-report.json"))
	}
	writeJSON(c.w, http.StatusOK, reportOf(m, s.opts.Now()))
	return nil
}
