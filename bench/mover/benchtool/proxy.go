package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// cmdProxy relays every connection accepted on LISTEN to CONNECT and
// counts the bytes each way. On SIGTERM or SIGINT it writes
// "UP DOWN CONNECTIONS" to OUTFILE (up is client to server) and exits.
func cmdProxy(args []string) error {
	if len(args) != 3 {
		return errors.New("want LISTEN CONNECT OUTFILE")
	}
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		return err
	}
	var up, down, conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go relay(c, args[1], &up, &down)
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	ln.Close()
	return os.WriteFile(args[2], fmt.Appendf(nil, "%d %d %d\n", up.Load(), down.Load(), conns.Load()), 0o644)
}

func relay(c net.Conn, to string, up, down *atomic.Int64) {
	defer c.Close()
	s, err := net.Dial("tcp", to)
	if err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		return
	}
	defer s.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(counter{s, up}, c)
		_ = s.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	_, _ = io.Copy(counter{c, down}, s)
	_ = c.(*net.TCPConn).CloseWrite()
	<-done
}

// counter counts the bytes written through it as they pass.
type counter struct {
	w io.Writer
	n *atomic.Int64
}

func (c counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}
