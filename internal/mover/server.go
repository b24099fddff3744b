package mover

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// helloTimeout bounds the TLS handshake and the Hello exchange.
const helloTimeout = 30 * time.Second

// Server is the receiving side: it writes what senders send into Root.
// It serves one session at a time; a session is one control connection
// plus any number of data connections that name it.
type Server struct {
	root  *safefs.Root
	log   *slog.Logger
	chown bool

	mu      sync.Mutex
	active  *session
	results chan error
}

// NewServer opens (creating if needed) the destination root dir. A
// server that is not root must be able to write there.
func NewServer(dir string, log *slog.Logger) (*Server, error) {
	root, err := safefs.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	if err := checkWritable(dir); err != nil {
		root.Close()
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{root: root, log: log, chown: os.Geteuid() == 0, results: make(chan error, 1)}, nil
}

// Close releases the root. Call it after Serve returns.
func (s *Server) Close() error { return s.root.Close() }

// Serve accepts connections until ctx is done, then closes ln and returns
// nil. It returns an error only when accepting fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, false)
}

// ServeOnce serves until one session ends and returns its result: nil only
// when the sender completed the session successfully. Stopped by ctx
// before that, it returns an error wrapping ErrIncomplete.
func (s *Server) ServeOnce(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, true)
}

func (s *Server) serve(ctx context.Context, ln net.Listener, once bool) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		ln.Close()
		wg.Wait()
	}()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	acceptErr := make(chan error, 1)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			wg.Go(func() { s.ServeConn(ctx, c) })
		}
	})
	for {
		select {
		case err := <-s.results:
			if once {
				return err
			}
		case err := <-acceptErr:
			if ctx.Err() == nil {
				return fmt.Errorf("accept connection: %w", err)
			}
			if once {
				return s.stopped(ctx)
			}
			return nil
		}
	}
}

// stopped returns what ServeOnce reports when ctx ends it: the result of
// a session that ended meanwhile, or ErrIncomplete.
func (s *Server) stopped(ctx context.Context) error {
	incomplete := fmt.Errorf("%w: stopped before a session completed: %w", ErrIncomplete, context.Cause(ctx))
	select {
	case err := <-s.results:
		return interrupted(err)
	default:
	}
	s.mu.Lock()
	active := s.active != nil
	s.mu.Unlock()
	if !active {
		return incomplete
	}
	t := time.NewTimer(stopWait) // its connections are closing; let it report
	defer t.Stop()
	select {
	case err := <-s.results:
		return interrupted(err)
	case <-t.C:
		return incomplete
	}
}

func interrupted(sessionErr error) error {
	if sessionErr != nil {
		return fmt.Errorf("serve interrupted: %w", sessionErr)
	}
	return nil
}

// stopWait bounds how long a stopped ServeOnce waits for the session that
// was running to report.
const stopWait = 5 * time.Second

// ServeConn serves one connection until it closes. It is exported so any
// transport, such as net.Pipe in tests, can feed the server.
func (s *Server) ServeConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	hello, err := s.handshake(ctx, c)
	if errors.Is(err, errClosedSilently) {
		// A TCP readiness probe: it connects and closes again.
		s.log.Debug("connection closed before the TLS handshake", "remote", c.RemoteAddr().String())
		return
	}
	if err != nil {
		s.log.Warn("connection rejected", "remote", c.RemoteAddr().String(), "error", err)
		return
	}
	switch hello.Role {
	case wire.RoleControl:
		s.serveControl(ctx, c, hello)
	case wire.RoleData:
		s.serveData(c, hello)
	default:
		refuse(c, &wire.Error{Code: wire.CodeProtocol, Message: "unknown connection role"})
	}
}

// errClosedSilently is returned by handshake for a TLS connection closed
// by its peer before it sent a single byte: what a TCP readiness probe
// does, not a failed client.
var errClosedSilently = errors.New("connection closed before the TLS handshake")

// handshake completes the TLS handshake and reads the Hello straight from
// c: until a session accepts the connection it holds no buffers, and a
// Hello longer than wire.MaxSmallPayload fails before it is read.
func (s *Server) handshake(ctx context.Context, c net.Conn) (*wire.Hello, error) {
	_ = c.SetDeadline(time.Now().Add(helloTimeout))
	defer c.SetDeadline(time.Time{})
	if tc, ok := c.(*tls.Conn); ok {
		if err := tc.HandshakeContext(ctx); err != nil {
			if errors.Is(err, io.EOF) {
				// crypto/tls reports io.EOF only when no byte of a record
				// arrived; a torn ClientHello is io.ErrUnexpectedEOF.
				return nil, errClosedSilently
			}
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
	}
	m, err := wire.ReadFirst(c)
	if errors.Is(err, wire.ErrMalformed) {
		refuse(c, &wire.Error{Code: wire.CodeProtocol, Message: err.Error()})
	}
	if err != nil {
		return nil, fmt.Errorf("read hello: %w", err)
	}
	hello, ok := m.(*wire.Hello)
	if !ok {
		refuse(c, &wire.Error{Code: wire.CodeProtocol, Message: "expected hello"})
		return nil, errors.New("first message is not hello")
	}
	if hello.Version != wire.Version || len(hello.Session) != 16 {
		msg := fmt.Sprintf("unsupported protocol version %d (want %d)", hello.Version, wire.Version)
		refuse(c, &wire.Error{Code: wire.CodeProtocol, Message: msg})
		return nil, errors.New(msg)
	}
	return hello, nil
}

func (s *Server) serveControl(ctx context.Context, c net.Conn, hello *wire.Hello) {
	sess, err := s.startSession(ctx, string(hello.Session))
	if err != nil {
		code := wire.CodeInternal
		if errors.Is(err, ErrBusy) {
			code = wire.CodeBusy
		} else {
			s.log.Error("session not started", "error", err)
		}
		refuse(c, &wire.Error{Code: code, Message: err.Error()})
		return
	}
	conn := wire.NewConn(c)
	err = conn.Send(&wire.HelloOK{Version: wire.Version, Chown: s.chown, Last: s.lastSync()})
	if err == nil {
		err = sess.control(conn)
	}
	sess.close()
	s.endSession(sess, err)
}

func (s *Server) serveData(c net.Conn, hello *wire.Hello) {
	s.mu.Lock()
	sess := s.active
	s.mu.Unlock()
	if sess == nil || sess.id != string(hello.Session) {
		refuse(c, &wire.Error{Code: wire.CodeProtocol, Message: "unknown session"})
		return
	}
	if err := sess.attach(c); err != nil {
		s.log.Warn("data connection refused", "session", sess.name(), "error", err)
		refuse(c, &wire.Error{Code: wire.CodeProtocol, Message: err.Error()})
		return
	}
	defer sess.detach(c)
	conn := wire.NewConn(c)
	if err := conn.Send(&wire.HelloOK{Version: wire.Version, Chown: s.chown}); err != nil {
		return
	}
	if err := sess.data(conn); err != nil && sess.ctx.Err() == nil {
		s.log.Warn("data connection failed", "session", sess.name(), "error", err)
	}
}

func (s *Server) startSession(ctx context.Context, id string) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active != nil {
		return nil, ErrBusy
	}
	sess := newSession(ctx, s, id)
	// Ready before any data connection can find it.
	if err := sess.prepare(); err != nil {
		sess.cancel()
		return nil, err
	}
	s.active = sess
	s.log.Info("session started", "session", sess.name())
	return sess, nil
}

func (s *Server) endSession(sess *session, err error) {
	s.mu.Lock()
	s.active = nil
	s.mu.Unlock()
	if err == nil && !sess.completed {
		err = ErrIncomplete
	}
	if err != nil {
		s.log.Error("session failed", "session", sess.name(), "error", err)
	} else {
		s.log.Info("session completed", "session", sess.name(), "files", sess.stats.files.Load(),
			"bytes", sess.stats.bytes.Load(), "deleted", sess.stats.deleted.Load())
	}
	select {
	case s.results <- err:
	default:
	}
}

func replyErr(conn *wire.Conn, e *wire.Error) {
	_ = conn.Send(e)
}

// refuse answers a connection that has no wire.Conn, before closing it.
func refuse(c net.Conn, e *wire.Error) {
	_ = wire.WriteOne(c, e)
}

// checkWritable fails, for a process that is not root, when it may not
// write into the destination root dir, saying why: a volume's root made
// by its provisioner is root's, and a non-root mover writes there only
// through the pod's fsGroup, which some storage does not apply.
func checkWritable(dir string) error {
	if os.Geteuid() == 0 || unix.Access(dir, unix.R_OK|unix.W_OK|unix.X_OK) == nil {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("destination root %s: %w", dir, err)
	}
	return fmt.Errorf("%w: destination root %s (owner %d:%d, mode %04o) is not writable by the receiver, uid %d gid %d, which does not run as root "+
		"(the namespace enforces the restricted Pod Security Standard): it writes through the pod's fsGroup, which this volume's storage does not apply "+
		"(hostPath volumes and some CSI drivers do not); give the volume's root to group %d (chgrp and chmod g+rwx), or copy without the restricted standard",
		ErrRootNotWritable, dir, st.Uid, st.Gid, st.Mode&0o7777, os.Geteuid(), os.Getegid(), os.Getegid())
}
