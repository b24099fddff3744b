package mover

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// LocalDefaultParallel is the number of data connections of a local copy
// by default: a connection's cost is a socket pair and two goroutines, and
// more files in flight keep both the reading and the writing side busy
// while the other waits for the disk.
const LocalDefaultParallel = 8

// Local copies opts.Root into dst within this process: the sender
// ([Sync]) and the receiver ([Server]) run in one process and talk over
// Unix socket pairs, without TLS or a network. Everything else is the
// mover's: the same protocol, fidelity, sync state, delta, partial files,
// warnings, progress and Final semantics, so a later local copy or sync
// into dst is incremental either way. opts.Dial must be nil; opts.Parallel
// of 0 means LocalDefaultParallel. It returns the sender's final progress
// and its error, or the receiver's when the sender saw none.
func Local(ctx context.Context, dst string, opts Options) (Progress, error) {
	return local(ctx, dst, opts, nil)
}

// local is Local; wrap, when set, wraps the sender's end of every
// connection (tests count the bytes written with it).
func local(ctx context.Context, dst string, opts Options, wrap func(net.Conn) net.Conn) (Progress, error) {
	if opts.Dial != nil {
		return Progress{}, errors.New("local copy: Dial must be empty, the copy connects to itself")
	}
	if opts.Parallel == 0 {
		opts.Parallel = LocalDefaultParallel
	}
	srv, err := NewServer(dst, opts.Log)
	if err != nil {
		return Progress{}, err
	}
	defer srv.Close()
	serveCtx, stop := context.WithCancel(ctx)
	var served sync.WaitGroup
	opts.Dial = func(context.Context) (net.Conn, error) {
		mine, theirs, err := socketPair()
		if err != nil {
			return nil, err
		}
		served.Go(func() { srv.ServeConn(serveCtx, theirs) })
		if wrap != nil {
			return wrap(mine), nil
		}
		return mine, nil
	}
	p, err := Sync(ctx, opts)
	// Sync closed its ends; the receiver's handlers return and the session
	// reports.
	if err != nil {
		stop()
	}
	served.Wait()
	stop()
	if err != nil {
		return p, err
	}
	select {
	case serr := <-srv.results:
		if serr != nil {
			return p, fmt.Errorf("local copy: receiver: %w", serr)
		}
	default:
	}
	return p, nil
}

// localSocketBuffer is the send and receive buffer of each end of a local
// socket pair: room for a few 1 MiB data frames, so that the sender reads
// the next chunk while the receiver writes the last one.
const localSocketBuffer = 4 << 20

// socketPair returns the two ends of a connected Unix stream socket pair
// as net.Conns (deadlines work on both, as the receiver's handshake
// needs).
func socketPair() (net.Conn, net.Conn, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("local copy: socket pair: %w", err)
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, localSocketBuffer)
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, localSocketBuffer)
		f := os.NewFile(uintptr(fd), "mover-local")
		c, err := net.FileConn(f) // dups the descriptor
		f.Close()
		if err != nil {
			for _, other := range conns[:i] {
				other.Close()
			}
			if i == 0 {
				unix.Close(fds[1])
			}
			return nil, nil, fmt.Errorf("local copy: socket pair: %w", err)
		}
		conns[i] = c
	}
	return conns[0], conns[1], nil
}
