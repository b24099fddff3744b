package mover

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRetryDialer(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	rejected := errors.New("remote error: tls: bad certificate")
	tests := []struct {
		name      string
		failFirst int   // dials that fail before one succeeds
		err       error // what they fail with
		want      string
		wantDials int
	}{
		{"receiver comes up", 3, refused, "", 4},
		{"receiver never comes up", 1000, refused, "receiver not reachable after", -1},
		{"certificate rejected", 1000, rejected, "bad certificate", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dials := 0
			d := func(context.Context) (net.Conn, error) {
				dials++
				if dials <= tt.failFirst {
					return nil, tt.err
				}
				c, _ := net.Pipe()
				return c, nil
			}
			c, err := RetryDialer(d, 1500*time.Millisecond, slog.New(slog.DiscardHandler))(context.Background())
			if c != nil {
				c.Close()
			}
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if tt.wantDials >= 0 && dials != tt.wantDials {
				t.Errorf("dialed %d times, want %d", dials, tt.wantDials)
			}
		})
	}
}
