package s3server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Gate is an HTTP proxy in front of a Server that can hold requests, so
// that a test takes the service away at a known point of an upload
// rather than racing it: of the requests match picks, the first pass go
// through, and the next ones wait at the gate until Release ([Gate.Passed]
// counts those answered with success). Everything else goes through at
// once.
type Gate struct {
	// Addr is HOST:PORT, URL http://HOST:PORT, what Ferry is pointed at.
	Addr, URL string

	match   func(*http.Request) bool
	pass    int
	mu      sync.Mutex
	started int // matching requests let through
	passed  int // of them, answered with a 2xx
	held    int // matching requests waiting at the gate
	open    chan struct{}
	srv     *http.Server
}

// StartGate serves a Gate for s on a free port of s's host until the
// test ends. The proxy keeps each request's Host header, which the
// signature of S3 requests covers.
func (s *Server) StartGate(t testing.TB, match func(*http.Request) bool, pass int) *Gate {
	t.Helper()
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("gate for %s: %v", s.Addr, err)
	}
	target := &url.URL{Scheme: "http", Host: s.Addr}
	g := &Gate{Addr: l.Addr().String(), match: match, pass: pass, open: make(chan struct{})}
	g.URL = "http://" + g.Addr
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		// A stopped server is what the tests want: answer 502 quietly.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) },
	}
	g.srv = &http.Server{Handler: g.handler(proxy), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = g.srv.Serve(l) }()
	t.Cleanup(func() {
		g.Release()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := g.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("stop gate: %v", err)
		}
	})
	return g
}

func (g *Gate) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.match(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !g.admit(r.Context()) {
			return
		}
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		if rec.code/100 == 2 {
			g.mu.Lock()
			g.passed++
			g.mu.Unlock()
		}
	})
}

// admit lets a matching request through while fewer than Pass have
// been, else holds it until Release; false when the client went away.
func (g *Gate) admit(ctx context.Context) bool {
	g.mu.Lock()
	if g.started < g.pass {
		g.started++
		g.mu.Unlock()
		return true
	}
	g.held++
	g.mu.Unlock()
	select {
	case <-g.open:
		return true
	case <-ctx.Done():
		return false
	}
}

// Passed is how many matching requests were answered with success.
func (g *Gate) Passed() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.passed
}

// Held is how many matching requests reached the closed gate.
func (g *Gate) Held() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

// Release opens the gate for good: held and later requests go through.
// Releasing an open gate does nothing.
func (g *Gate) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}
