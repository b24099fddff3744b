package mover_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"ferry.dev/ferry/internal/mover"
)

// TestServeOnceStoppedFails stops ServeOnce (what SIGTERM does to `ferry
// mover serve --once`) before a session and in the middle of one: both
// must report an error, so the receiver pod does not exit 0.
func TestServeOnceStoppedFails(t *testing.T) {
	tests := []struct {
		name string
		// stopAtDial stops the server when the sender makes its nth
		// connection; 0 stops it before any.
		stopAtDial int32
	}{
		{name: "before a session", stopAtDial: 0},
		{name: "mid-session", stopAtDial: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := t.TempDir(), t.TempDir()
			newTree(t, src).file("f", []byte("x"))
			pki := newPKI(t)
			srv, err := mover.NewServer(dst, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			ln, err := mover.TLSListener("127.0.0.1:0", serverTLS(t, pki))
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			served := make(chan error, 1)
			go func() { served <- srv.ServeOnce(ctx, ln) }()
			if tt.stopAtDial == 0 {
				stop()
			} else {
				dial := mover.TLSDialer(ln.Addr().String(), clientTLS(t, pki))
				var dials atomic.Int32
				opts := mover.Options{Root: src, Log: testLogger(t), Dial: func(dctx context.Context) (net.Conn, error) {
					c, err := dial(dctx)
					if dials.Add(1) == tt.stopAtDial {
						stop()
						<-ctx.Done()
					}
					return c, err
				}}
				if _, err := mover.Sync(context.Background(), opts); err == nil {
					t.Error("sync succeeded against a stopped receiver")
				}
			}
			select {
			case err := <-served:
				if err == nil {
					t.Fatal("ServeOnce returned nil, want an error")
				}
				if tt.stopAtDial == 0 && !errors.Is(err, mover.ErrIncomplete) {
					t.Errorf("ServeOnce returned %v, want ErrIncomplete", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("ServeOnce did not return")
			}
		})
	}
}
