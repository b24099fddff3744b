package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// renderer draws a migration's itinerary: redrawn in place on a terminal,
// as one plain line per change otherwise (logs, CI).
type renderer struct {
	out   io.Writer
	tty   bool
	lines int
	seen  map[string]string
}

func newRenderer(out io.Writer) *renderer {
	return &renderer{out: out, tty: isTerminal(out), seen: map[string]string{}}
}

func (r *renderer) render(m *ferryv1.Migration) {
	if r.tty {
		r.redraw(m)
		return
	}
	for _, s := range m.Status.Itinerary {
		line := fmt.Sprintf("%s %s %s", s.Name, s.Phase, s.Message)
		if s.Progress != nil && s.Phase == ferryv1.StepRunning {
			continue // progress lines would flood logs; the final message says it all
		}
		if r.seen[s.Name] == line || s.Phase == ferryv1.StepPending {
			continue
		}
		r.seen[s.Name] = line
		fmt.Fprintf(r.out, "%s  %-*s %-9s %s%s%s\n", clock(stepTime(s)), nameWidth(m), s.Name, s.Phase, stepDuration(s), attempts(s), s.Message)
		for _, l := range stepLog(s) {
			fmt.Fprintf(r.out, "          | %s\n", l)
		}
	}
	for _, im := range m.Status.Images {
		if im.Phase != "Succeeded" && im.Phase != "Failed" {
			continue
		}
		line := imageLine(im)
		if r.seen["image "+im.Source] == line {
			continue
		}
		r.seen["image "+im.Source] = line
		fmt.Fprintf(r.out, "%s    image %s\n", clock(time.Now()), line)
	}
	if p := string(m.Status.Phase); r.seen[""] != p {
		r.seen[""] = p
		fmt.Fprintf(r.out, "%s  migration %s: %s%s\n", clock(migrationTime(m)), m.Name, p, downtime(m))
	}
}

// downtime is ", downtime: D" once a cutover knows how long the
// application was down, else "".
func downtime(m *ferryv1.Migration) string {
	d, ok := m.Downtime()
	if !ok {
		return ""
	}
	return fmt.Sprintf(", downtime: %s", d.Round(10*time.Millisecond))
}

// clock formats a time of day as the plain lines show it.
func clock(t time.Time) string { return t.Local().Format("15:04:05") }

// stepTime is when a step reached the phase shown: its completion, else
// its start, else now (a step the controller has not timed).
func stepTime(s ferryv1.Step) time.Time {
	switch {
	case s.Completed != nil:
		return s.Completed.Time
	case s.Started != nil:
		return s.Started.Time
	}
	return time.Now()
}

// migrationTime is when a migration reached the phase shown: its
// completion when it has ended, else now.
func migrationTime(m *ferryv1.Migration) time.Time {
	if m.Status.CompletionTime != nil && m.Stopped() {
		return m.Status.CompletionTime.Time
	}
	return time.Now()
}

func (r *renderer) redraw(m *ferryv1.Migration) {
	if r.lines > 0 {
		fmt.Fprintf(r.out, "\033[%dA\033[J", r.lines)
	}
	var b strings.Builder
	elapsed := ""
	if m.Status.StartTime != nil {
		end := time.Now()
		if m.Status.CompletionTime != nil {
			end = m.Status.CompletionTime.Time
		}
		elapsed = end.Sub(m.Status.StartTime.Time).Round(100 * time.Millisecond).String()
	}
	fmt.Fprintf(&b, "Migration %s (%s of plan %s): %s %s%s\n", m.Name, m.Spec.Type, m.Spec.Plan, m.Status.Phase, elapsed, downtime(m))
	for _, s := range m.Status.Itinerary {
		fmt.Fprintf(&b, "  %s %-*s %8s  %s%s\n", symbol(s.Phase), nameWidth(m), s.Name, strings.TrimSpace(stepDuration(s)), attempts(s), s.Message)
		for _, l := range stepLog(s) {
			fmt.Fprintf(&b, "      | %s\n", l)
		}
		if s.Name == "CopyVolumes" && s.Phase == ferryv1.StepRunning {
			for _, v := range m.Status.Volumes {
				fmt.Fprintf(&b, "    %s %s/%s %s %d/%d bytes, %d/%d files %s\n", bar(v.BytesDone, v.BytesTotal, 20),
					v.Namespace, v.Claim, v.Phase, v.BytesDone, v.BytesTotal, v.FilesDone, v.FilesTotal, v.Message)
			}
		} else if s.Name == "CopyImages" && (s.Phase == ferryv1.StepRunning || s.Phase == ferryv1.StepFailed) {
			for _, im := range m.Status.Images {
				fmt.Fprintf(&b, "    %s %s\n", bar(im.BytesDone, im.BytesTotal, 20), imageLine(im))
			}
		} else if p := s.Progress; p != nil && s.Phase == ferryv1.StepRunning && p.Total > 0 {
			fmt.Fprintf(&b, "    %s %d/%d %s\n", bar(p.Done, p.Total, 30), p.Done, p.Total, p.Unit)
		}
	}
	for _, e := range m.Status.Errors {
		fmt.Fprintf(&b, "  error: %s\n", e)
	}
	fmt.Fprint(r.out, b.String())
	r.lines = strings.Count(b.String(), "\n")
}

// nameWidth is the width of the step-name column: the longest name of
// the itinerary (hook steps are named after their hooks), at least 20.
func nameWidth(m *ferryv1.Migration) int {
	w := 20
	for _, s := range m.Status.Itinerary {
		w = max(w, len(s.Name))
	}
	return w
}

// logLinesShown is how many of a finished step's log lines are shown
// when it succeeded; a failed step shows all it kept.
const logLinesShown = 5

// stepLog returns the log lines to show under a finished step: the end
// of a hook's output.
func stepLog(s ferryv1.Step) []string {
	switch s.Phase {
	case ferryv1.StepFailed:
		return s.Log
	case ferryv1.StepSucceeded:
		if len(s.Log) > logLinesShown {
			return s.Log[len(s.Log)-logLinesShown:]
		}
		return s.Log
	}
	return nil
}

// attempts is "(attempt N) " for a step started more than once, else "".
func attempts(s ferryv1.Step) string {
	if s.Attempts > 1 {
		return fmt.Sprintf("(attempt %d) ", s.Attempts)
	}
	return ""
}

func symbol(p ferryv1.StepPhase) string {
	return map[ferryv1.StepPhase]string{ferryv1.StepSucceeded: "✓", ferryv1.StepRunning: "●", ferryv1.StepFailed: "✗",
		ferryv1.StepSkipped: "-", ferryv1.StepPending: "○"}[p]
}

func stepDuration(s ferryv1.Step) string {
	if s.Started == nil {
		return ""
	}
	end := time.Now()
	if s.Completed != nil {
		end = s.Completed.Time
	}
	return end.Sub(s.Started.Time).Round(10*time.Millisecond).String() + " "
}

func bar(done, total int64, width int) string {
	n := 0
	if total > 0 {
		n = int(done * int64(width) / total)
	}
	if n > width {
		n = width
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

// imageLine is one image copy: source, destination, phase, layers and
// bytes, and why it failed.
func imageLine(im ferryv1.ImageStatus) string {
	line := fmt.Sprintf("%s → %s %s, %d/%d layers, %d/%d bytes (%d sent)", im.Source, im.Destination, im.Phase,
		im.LayersDone, im.LayersTotal, im.BytesDone, im.BytesTotal, im.BytesSent)
	if im.Digest != "" {
		line += " " + im.Digest
	}
	if im.Message != "" {
		line += ": " + im.Message
	}
	return line
}
