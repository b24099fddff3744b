package mover

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
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
