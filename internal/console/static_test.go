package console

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"
	"k8s.io/client-go/rest"
)

// testAssets is a built application: index.html, a hashed script large
// enough to compress and a small hashed stylesheet.
func testAssets() (fstest.MapFS, string) {
	js := strings.Repeat("console.log('ferry console');\n", 200)
	return fstest.MapFS{
		"index.html":                {Data: []byte(`<!doctype html><html><head><script type="module" src="/assets/index-AbCd12_x.js"></script></head><body><div id="root"></div></body></html>` + strings.Repeat(" ", 600))},
		"assets/index-AbCd12_x.js":  {Data: []byte(js)},
		"assets/small-Zy987654.css": {Data: []byte("body{margin:0}")},
		".gitkeep":                  {Data: nil},
	}, js
}

// newTestServer is a server whose host is never reached.
func newTestServer(t *testing.T, assets fstest.MapFS) *Server {
	t.Helper()
	s, err := New(Options{Mode: ModeLocal, LocalKey: "k", Namespace: "ferry-system", Host: &rest.Config{Host: "https://127.0.0.1:1"}, Assets: assets})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func decode(t *testing.T, enc string, body []byte) string {
	t.Helper()
	var r io.Reader
	switch enc {
	case "":
		return string(body)
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	default:
		t.Fatalf("unknown encoding %q", enc)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStaticHeaders(t *testing.T) {
	assets, js := testAssets()
	built := newTestServer(t, assets)
	bare := newTestServer(t, fstest.MapFS{".gitkeep": {}})
	index := string(assets["index.html"].Data)
	tests := []struct {
		name       string
		srv        *Server
		path       string
		accept     string
		wantCode   int
		wantType   string
		wantCache  string
		wantEnc    string
		wantBody   string // decoded; "" to skip
		wantInBody string
	}{
		{name: "index", srv: built, path: "/", accept: "gzip, br", wantCode: 200, wantType: "text/html; charset=utf-8", wantCache: cacheNoCache, wantEnc: "br", wantBody: index},
		{name: "index gzip only", srv: built, path: "/index.html", accept: "gzip", wantCode: 200, wantType: "text/html; charset=utf-8", wantCache: cacheNoCache, wantEnc: "gzip", wantBody: index},
		{name: "SPA route", srv: built, path: "/plans/shop/review", accept: "", wantCode: 200, wantType: "text/html; charset=utf-8", wantCache: cacheNoCache, wantBody: index},
		{name: "hashed script brotli", srv: built, path: "/assets/index-AbCd12_x.js", accept: "gzip;q=0.5, br;q=1", wantCode: 200, wantType: "text/javascript; charset=utf-8", wantCache: cacheImmutable, wantEnc: "br", wantBody: js},
		{name: "hashed script gzip", srv: built, path: "/assets/index-AbCd12_x.js", accept: "gzip, br;q=0", wantCode: 200, wantType: "text/javascript; charset=utf-8", wantCache: cacheImmutable, wantEnc: "gzip", wantBody: js},
		{name: "hashed script plain", srv: built, path: "/assets/index-AbCd12_x.js", accept: "identity", wantCode: 200, wantType: "text/javascript; charset=utf-8", wantCache: cacheImmutable, wantBody: js},
		{name: "small file uncompressed", srv: built, path: "/assets/small-Zy987654.css", accept: "gzip, br", wantCode: 200, wantType: "text/css; charset=utf-8", wantCache: cacheImmutable, wantBody: "body{margin:0}"},
		{name: "hidden file not served", srv: built, path: "/.gitkeep", accept: "", wantCode: 200, wantType: "text/html; charset=utf-8", wantCache: cacheNoCache, wantBody: index},
		{name: "assets not built", srv: bare, path: "/", accept: "gzip", wantCode: 200, wantType: "text/html; charset=utf-8", wantCache: cacheNoCache, wantInBody: "make build"},
		{name: "api without session", srv: built, path: "/api/plans", accept: "gzip", wantCode: 401, wantType: "application/json", wantCache: "no-store", wantInBody: "sign in"},
		{name: "unknown api without session", srv: built, path: "/api/nothing", accept: "", wantCode: 401, wantType: "application/json", wantCache: "no-store", wantInBody: "sign in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.accept != "" {
				req.Header.Set("Accept-Encoding", tt.accept)
			}
			rec := httptest.NewRecorder()
			tt.srv.ServeHTTP(rec, req)
			h := rec.Result().Header
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			for k, want := range map[string]string{"Content-Security-Policy": ContentSecurityPolicy, "X-Content-Type-Options": "nosniff",
				"Referrer-Policy": "no-referrer", "Content-Type": tt.wantType, "Cache-Control": tt.wantCache, "Content-Encoding": tt.wantEnc} {
				if got := h.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			body := decode(t, tt.wantEnc, rec.Body.Bytes())
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("body %.80q..., want %.80q...", body, tt.wantBody)
			}
			if !strings.Contains(body, tt.wantInBody) {
				t.Errorf("body %q lacks %q", body, tt.wantInBody)
			}
		})
	}
}

func TestStaticNotModified(t *testing.T) {
	assets, _ := testAssets()
	s := newTestServer(t, assets)
	get := func(etag string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/assets/index-AbCd12_x.js", nil)
		req.Header.Set("Accept-Encoding", "br")
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec
	}
	first := get("")
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if again := get(etag); again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("If-None-Match %s: status %d with %d bytes, want 304 and none", etag, again.Code, again.Body.Len())
	}
}

func TestAccepts(t *testing.T) {
	tests := []struct {
		header, enc string
		want        bool
	}{
		{"gzip, deflate, br", "br", true},
		{"gzip, deflate, br", "gzip", true},
		{"gzip;q=0", "gzip", false},
		{"br; q=0.0, gzip", "br", false},
		{"BR", "br", true},
		{"", "gzip", false},
		{"identity", "gzip", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Encoding", tt.header)
		if got := accepts(r, tt.enc); got != tt.want {
			t.Errorf("accepts(%q, %q) = %v, want %v", tt.header, tt.enc, got, tt.want)
		}
	}
}
