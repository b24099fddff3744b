package mover_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"ferry.dev/ferry/internal/mover"
)

// recordingHandler keeps the level and message of every log record.
type recordingHandler struct {
	mu      sync.Mutex
	records []string
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Level.String()+" "+r.Message)
	return nil
}

// wait returns the records once one contains want.
func (h *recordingHandler) wait(t *testing.T, want string) []string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		h.mu.Lock()
		records := append([]string(nil), h.records...)
		h.mu.Unlock()
		for _, r := range records {
			if strings.Contains(r, want) {
				return records
			}
		}
	}
	t.Fatalf("no log record %q", want)
	return nil
}

// TestProbeIsNotAWarning connects as the kubelet's TCP readiness probe
// does (connect, close) and as a broken client (bytes that are no TLS):
// only the broken client is logged as a warning.
func TestProbeIsNotAWarning(t *testing.T) {
	tests := []struct {
		name     string
		send     string
		wantLog  string
		wantWarn bool
	}{
		{"tcp probe", "", "DEBUG connection closed before the TLS handshake", false},
		{"not TLS", "GET / HTTP/1.0\r\n\r\n", "WARN connection rejected", true},
		{"torn client hello", "\x16\x03\x01\x00\xff\x01", "WARN connection rejected", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &recordingHandler{}
			srv, err := mover.NewServer(t.TempDir(), slog.New(h))
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			ln, err := mover.TLSListener("127.0.0.1:0", serverTLS(t, newPKI(t)))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ctx, ln) }()
			defer func() {
				cancel()
				<-served
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			if tt.send != "" {
				if _, err := c.Write([]byte(tt.send)); err != nil {
					t.Fatal(err)
				}
			}
			c.Close()
			records := h.wait(t, tt.wantLog)
			warned := false
			for _, r := range records {
				warned = warned || strings.HasPrefix(r, "WARN") || strings.HasPrefix(r, "ERROR")
			}
			if warned != tt.wantWarn {
				t.Errorf("records %q: warning %v, want %v", records, warned, tt.wantWarn)
			}
		})
	}
}
