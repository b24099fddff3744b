package mover

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// Dialer opens one connection to the receiver. The protocol runs over any
// net.Conn: TLS in production, loopback or net.Pipe in tests.
type Dialer func(ctx context.Context) (net.Conn, error)

// TLSDialer dials addr over TCP and completes a TLS handshake with cfg.
func TLSDialer(addr string, cfg *tls.Config) Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		d := tls.Dialer{Config: cfg}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		return c, nil
	}
}

// TLSListener listens on addr and wraps accepted connections in TLS; the
// Server completes each handshake in its own goroutine.
func TLSListener(addr string, cfg *tls.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return tls.NewListener(ln, cfg), nil
}

// StartSignalMessage is what a sender held back by a start file logs once
// the file appeared (ferry mover sync --start-file); the direct path reads
// it in the sender's log to know it was released.
const StartSignalMessage = "start signal received"

// RetryDialer retries d while the receiver is not reachable yet (refused,
// reset, unreachable, timed out, name not found), with growing pauses,
// for up to within from its first use; a receiver pod and its Service may
// still be starting when the sender starts. Other errors, such as a
// rejected certificate, return at once.
func RetryDialer(d Dialer, within time.Duration, log *slog.Logger) Dialer {
	var once sync.Once
	var deadline time.Time
	return func(ctx context.Context) (net.Conn, error) {
		once.Do(func() { deadline = time.Now().Add(within) })
		pause := 100 * time.Millisecond
		for attempt := 1; ; attempt++ {
			c, err := d(ctx)
			if err == nil || !transientDialError(err) {
				return c, err
			}
			if time.Now().Add(pause).After(deadline) {
				return nil, fmt.Errorf("receiver not reachable after %d attempts in %s: %w", attempt, within, err)
			}
			if attempt == 1 || attempt%10 == 0 {
				log.Info("receiver not reachable yet; retrying", "attempt", attempt, "error", err)
			}
			select {
			case <-ctx.Done():
				return nil, errors.Join(ctx.Err(), err)
			case <-time.After(pause):
			}
			pause = min(2*pause, time.Second)
		}
	}
}

// transientDialError tells whether a dial failure may go away by itself.
func transientDialError(err error) bool {
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ECONNABORTED} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var dnsErr *net.DNSError
	var netErr net.Error
	return errors.Is(err, io.EOF) || errors.As(err, &dnsErr) || (errors.As(err, &netErr) && netErr.Timeout())
}
