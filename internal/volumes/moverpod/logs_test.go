package moverpod

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

const (
	progressLine1 = `{"phase":"transferring","bytesDone":100,"bytesTotal":1000,"bytesSent":100,"filesDone":1,"filesTotal":10,"bytesPerSecond":0,"etaSeconds":-1,"skipped":0,"deleted":0,"warnings":0,"elapsedSeconds":0.5,"totalsFinal":false}`
	progressLine2 = `{"phase":"done","bytesDone":1000,"bytesTotal":1000,"bytesSent":900,"filesDone":10,"filesTotal":10,"bytesPerSecond":0,"etaSeconds":0,"skipped":3,"deleted":2,"warnings":1,"partial":1,"reused":4,"elapsedSeconds":1,"totalsFinal":true}`
	progressFail  = `{"phase":"failed","bytesDone":500,"bytesTotal":1000,"bytesSent":500,"filesDone":3,"filesTotal":10,"bytesPerSecond":0,"etaSeconds":-1,"skipped":0,"deleted":0,"warnings":0,"elapsedSeconds":1,"totalsFinal":true,"error":"receiver: destination volume is full (path \"big\")"}`
)

func TestLastProgress(t *testing.T) {
	tests := []struct {
		name      string
		log       string
		ok        bool
		phase     string
		bytesDone int64
	}{
		{"empty", "", false, "", 0},
		{"only stderr", "time=2026-01-01T00:00:00Z level=INFO msg=hello\n", false, "", 0},
		{"last wins", progressLine1 + "\n" + progressLine2 + "\n", true, "done", 1000},
		{"stderr after", progressLine1 + "\ntime=x level=WARN msg=\"file changed\"\n", true, "transferring", 100},
		{"torn line", progressLine1 + "\n" + progressLine2[:40], true, "transferring", 100},
		{"json without phase", `{"other":1}`, false, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := LastProgress(tt.log)
			if ok != tt.ok || p.Phase != tt.phase || p.BytesDone != tt.bytesDone {
				t.Errorf("lastProgress = %+v, %v; want phase %q bytes %d, %v", p, ok, tt.phase, tt.bytesDone, tt.ok)
			}
		})
	}
}

func TestLogError(t *testing.T) {
	tests := []struct {
		name string
		log  string
		want string
	}{
		{"empty", "", ""},
		{"error line", progressLine1 + "\n" + progressFail + "\nError: receiver: destination volume is full (path \"big\")\n",
			`receiver: destination volume is full (path "big")`},
		{"connection refused", "Error: dial 10.0.0.5:31000: dial tcp 10.0.0.5:31000: connect: connection refused\n",
			"dial 10.0.0.5:31000: dial tcp 10.0.0.5:31000: connect: connection refused"},
		{"progress error only", progressLine1 + "\n" + progressFail + "\n", `receiver: destination volume is full (path "big")`},
		{"slog error", "time=2026-01-01T00:00:00.000Z level=ERROR msg=\"session failed\" error=\"tls: bad certificate\"\ntime=2026-01-01T00:00:00.000Z level=INFO msg=bye\n",
			`level=ERROR msg="session failed" error="tls: bad certificate"`},
		{"other line", "panic: boom\n\ngoroutine 1 [running]:\n", "goroutine 1 [running]:"},
		{"long", "Error: " + strings.Repeat("x", 2000), strings.Repeat("x", maxMessage) + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LogError(tt.log); got != tt.want {
				t.Errorf("logError = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPodFailure(t *testing.T) {
	term := func(code int32, reason, msg string) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, Message: msg}},
		}}}}
	}
	tests := []struct {
		name string
		log  string
		pod  *corev1.Pod
		want string
	}{
		{"from log", "Error: tls: failed to verify certificate\n", term(1, "Error", ""), "tls: failed to verify certificate"},
		{"no log, termination message", "", term(1, "Error", "Error: listen tcp :8443: bind: address already in use\n"),
			"exit code 1, Error: listen tcp :8443: bind: address already in use"},
		{"oom", progressLine1 + "\n", term(137, "OOMKilled", ""), "exit code 137, OOMKilled"},
		{"evicted", "", &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted", Message: "low on disk"}}, "Evicted: low on disk"},
		{"killed, only routine log lines", "time=2026-01-01T00:00:00.000Z level=INFO msg=listening address=[::]:8443\n", term(137, "Error", ""),
			"killed (exit code 137), Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PodFailure(tt.log, tt.pod); got != tt.want {
				t.Errorf("podFailure = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProgressOf(t *testing.T) {
	vp := ProgressOf(progressLine1 + "\n" + progressLine2 + "\n")
	if vp.Phase != "done" || vp.BytesDone != 1000 || vp.BytesTotal != 1000 || vp.FilesDone != 10 || vp.FilesTotal != 10 {
		t.Errorf("progressOf = %+v", vp)
	}
	if vp.BytesSent != 900 || vp.Skipped != 3 || vp.Deleted != 2 || vp.Warnings != 1 || vp.Partial != 1 || vp.Reused != 4 {
		t.Errorf("progressOf traffic = %+v", vp)
	}
}
