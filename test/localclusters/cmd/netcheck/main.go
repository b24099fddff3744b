// Command netcheck checks network paths from inside test pods, where
// busybox's name-resolving applets do not work (static glibc without NSS).
//
//	netcheck tcp HOST:PORT     open a TCP connection
//	netcheck dns NAME          resolve a name
//	netcheck http URL          GET a URL and print the body
//
// A failed check is tried again every half second for up to 30 seconds:
// a Service's endpoint is ready before every node's kube-proxy has
// programmed it, so the first connections may be refused. It exits
// non-zero with the last error when no try succeeded.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: netcheck tcp|dns|http TARGET")
		os.Exit(2)
	}
	if err := retry(os.Args[1], os.Args[2], 30*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
}

// retry runs check until it succeeds or the time is up, each try with
// its own 10-second limit, and returns the last error.
func retry(kind, target string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := check(ctx, kind, target)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		fmt.Fprintf(os.Stderr, "try %d: %v\n", try, err)
		time.Sleep(500 * time.Millisecond)
	}
}

func check(ctx context.Context, kind, target string) error {
	switch kind {
	case "tcp":
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", target)
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Printf("OK tcp %s from %s\n", target, c.LocalAddr())
		return nil
	case "dns":
		addrs, err := net.DefaultResolver.LookupHost(ctx, target)
		if err != nil {
			return err
		}
		fmt.Printf("OK dns %s %v\n", target, addrs)
		return nil
	case "http":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s: %s", target, resp.Status, body)
		}
		fmt.Printf("%s", body)
		return nil
	}
	return fmt.Errorf("unknown check %q", kind)
}
