package mover_test

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/mover/certs"
)

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("MOVER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// newPKI writes fresh certificates into a temporary directory.
func newPKI(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := certs.Generate(dir, nil); err != nil {
		t.Fatalf("generate certificates: %v", err)
	}
	return dir
}

// receiver is an in-process server on a loopback TLS listener.
type receiver struct {
	addr string
	done chan struct{}
	err  error // valid once done is closed
}

// wait returns the result of Serve or ServeOnce.
func (r *receiver) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(20 * time.Second):
		t.Fatal("server did not return")
		return nil
	}
}

func startReceiver(t *testing.T, dst string, cfg *tls.Config, once bool, tweaks ...func(*mover.Server)) *receiver {
	t.Helper()
	srv, err := mover.NewServer(dst, testLogger(t))
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	for _, f := range tweaks {
		f(srv)
	}
	ln, err := mover.TLSListener("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &receiver{addr: ln.Addr().String(), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		if once {
			r.err = srv.ServeOnce(ctx, ln)
		} else {
			r.err = srv.Serve(ctx, ln)
		}
		srv.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	})
	return r
}

func serverTLS(t *testing.T, pki string) *tls.Config {
	t.Helper()
	cfg, err := certs.ServerConfig(pki)
	if err != nil {
		t.Fatalf("server TLS: %v", err)
	}
	return cfg
}

func clientTLS(t *testing.T, pki string) *tls.Config {
	t.Helper()
	cfg, err := certs.ClientConfig(pki, "127.0.0.1")
	if err != nil {
		t.Fatalf("client TLS: %v", err)
	}
	return cfg
}

type syncOpt func(*mover.Options)

func withDelete(o *mover.Options) { o.Delete = true }
func withVerify(o *mover.Options) { o.Verify = true }

func runSync(ctx context.Context, t *testing.T, src, addr string, cfg *tls.Config, opts ...syncOpt) (mover.Progress, error) {
	t.Helper()
	o := mover.Options{Root: src, Dial: mover.TLSDialer(addr, cfg), Log: testLogger(t)}
	for _, f := range opts {
		f(&o)
	}
	return syncRetryBusy(ctx, o)
}

// syncRetryBusy runs mover.Sync with o. A receiver that served the
// previous sync of a test may still be closing that session: it answers
// busy for a moment, and the sync is tried again.
func syncRetryBusy(ctx context.Context, o mover.Options) (mover.Progress, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, err := mover.Sync(ctx, o)
		if !errors.Is(err, mover.ErrBusy) || time.Now().After(deadline) {
			return p, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countingConn calls hook with the running total of bytes written.
type countingConn struct {
	net.Conn
	n    *atomic.Int64
	hook func(int64)
}

func (c countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.hook(c.n.Add(int64(n)))
	return n, err
}
