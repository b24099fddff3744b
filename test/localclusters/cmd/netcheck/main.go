// Command netcheck checks network paths from inside test pods, where
// busybox's name-resolving applets do not work (static glibc without NSS).
//
//	netcheck tcp HOST:PORT     open a TCP connection
//	netcheck dns NAME          resolve a name
//	netcheck http URL          GET a URL and print the body
//
// It exits non-zero with a message when the check fails.
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := check(ctx, os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
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
