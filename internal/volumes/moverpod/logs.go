package moverpod

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/volumes"
)

// logTailLines is how many log lines are read from a mover pod: enough for
// a few progress lines (about one per second) and the final error.
const logTailLines = 60

// maxMessage bounds an error message taken from a log.
const maxMessage = 600

// ReadLog returns the last lines of a pod's log (stdout and stderr
// interleaved, as the kubelet stores them).
func ReadLog(ctx context.Context, kube kubernetes.Interface, pod *corev1.Pod) (string, error) {
	tail := int64(logTailLines)
	limit := int64(256 << 10)
	req := kube.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{TailLines: &tail, LimitBytes: &limit})
	rc, err := req.Stream(ctx)
	if err != nil {
		return "", fmt.Errorf("read log of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return "", fmt.Errorf("read log of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return string(b), nil
}

// LastProgress returns the last JSON progress line of a mover's log.
func LastProgress(log string) (mover.Progress, bool) {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if p, ok := parseProgress(lines[i]); ok {
			return p, true
		}
	}
	return mover.Progress{}, false
}

func parseProgress(line string) (mover.Progress, bool) {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "{") {
		return mover.Progress{}, false
	}
	var p mover.Progress
	dec := json.NewDecoder(bytes.NewReader([]byte(line)))
	if err := dec.Decode(&p); err != nil || p.Phase == "" {
		return mover.Progress{}, false
	}
	return p, true
}

// LogError finds the mover's error in the last lines of its log, best
// first: the "Error: ..." line the ferry command prints before exiting
// non-zero, the error of the last progress report, the last slog line at
// level ERROR, the last line that is not a progress report. It returns ""
// for an empty log.
func LogError(log string) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	var progressErr, slogErr, other string
	for i := len(lines) - 1; i >= 0; i-- {
		line := strings.TrimSpace(lines[i])
		if line == "" {
			continue
		}
		if msg, ok := strings.CutPrefix(line, "Error: "); ok {
			return Clip(msg)
		}
		if p, ok := parseProgress(line); ok {
			if progressErr == "" && p.Error != "" {
				progressErr = p.Error
			}
			continue
		}
		if slogErr == "" && strings.Contains(line, " level=ERROR ") {
			slogErr = dropSlogTime(line)
		}
		if other == "" && !routineSlog(line) {
			other = dropSlogTime(line)
		}
	}
	for _, m := range []string{progressErr, slogErr, other} {
		if m != "" {
			return Clip(m)
		}
	}
	return ""
}

// routineSlog tells whether line is a slog line below WARN, which says
// nothing about why a mover stopped.
func routineSlog(line string) bool {
	return strings.HasPrefix(line, "time=") &&
		(strings.Contains(line, " level=INFO ") || strings.Contains(line, " level=DEBUG "))
}

// dropSlogTime removes the leading time=... of a slog text line.
func dropSlogTime(line string) string {
	if rest, ok := strings.CutPrefix(line, "time="); ok {
		if _, after, ok := strings.Cut(rest, " "); ok {
			return after
		}
	}
	return line
}

// Clip bounds a message taken from a log or a pod to maxMessage bytes.
func Clip(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return s[:maxMessage] + "..."
}

// terminationMessage describes how a failed pod's container ended, for
// when its log says nothing.
func terminationMessage(pod *corev1.Pod) string {
	if term := terminated(pod); term != nil {
		msg := fmt.Sprintf("exit code %d", term.ExitCode)
		if term.ExitCode == 137 && term.Reason != "OOMKilled" {
			msg = "killed (exit code 137)"
		}
		if term.Reason != "" {
			msg += ", " + term.Reason
		}
		if m := strings.TrimSpace(term.Message); m != "" {
			if e := LogError(m); e != "" {
				m = e
			}
			msg += ": " + Clip(m)
		}
		return msg
	}
	if pod.Status.Message != "" {
		return Clip(pod.Status.Reason + ": " + pod.Status.Message)
	}
	return "pod failed"
}

// PodFailure is the message of a failed mover pod: the error from its log,
// or how its container ended.
func PodFailure(log string, pod *corev1.Pod) string {
	term := terminationMessage(pod)
	if msg := LogError(log); msg != "" {
		if strings.Contains(term, "OOMKilled") {
			return msg + " (" + term + ")"
		}
		return msg
	}
	return term
}

// WaitingMessage says why a pod is not running yet.
func WaitingMessage(pod *corev1.Pod) string {
	if pod.DeletionTimestamp != nil {
		return "pod " + pod.Name + " is terminating"
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			if w.Message != "" {
				return Clip(fmt.Sprintf("pod %s: %s: %s", pod.Name, w.Reason, w.Message))
			}
			return fmt.Sprintf("pod %s: %s", pod.Name, w.Reason)
		}
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return Clip(fmt.Sprintf("pod %s: %s: %s", pod.Name, c.Reason, c.Message))
		}
	}
	return fmt.Sprintf("pod %s is %s", pod.Name, pod.Status.Phase)
}

// ProgressOf is the copier's last progress report in its log, as the
// orchestration reads it; zero when the log has none.
func ProgressOf(log string) volumes.Progress {
	p, ok := LastProgress(log)
	if !ok {
		return volumes.Progress{}
	}
	out := volumes.Progress{Phase: p.Phase, BytesDone: p.BytesDone, BytesTotal: p.BytesTotal,
		FilesDone: p.FilesDone, FilesTotal: p.FilesTotal, Warnings: p.Warnings, FirstWarning: p.FirstWarning,
		Partial: p.Partial, BytesSent: p.BytesSent, Skipped: p.Skipped, Deleted: p.Deleted, Reused: p.Reused,
		BytesMatched: p.BytesMatched, BytesNew: p.BytesNew, BytesUploaded: p.BytesUploaded, BytesDownloaded: p.BytesDownloaded}
	if p.Phase == mover.PhaseDone {
		// The scan is complete: the totals are what was copied.
		out.BytesTotal, out.FilesTotal = max(p.BytesTotal, p.BytesDone), max(p.FilesTotal, p.FilesDone)
	}
	return out
}
