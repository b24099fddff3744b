package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// routePath is a route's pattern with its path values filled in.
func routePath(rt route) string {
	return strings.ReplaceAll(rt.pattern, "{name}", "shop")
}

func TestEveryAPIRouteNeedsASession(t *testing.T) {
	for _, mode := range []Mode{ModeLocal, ModeToken} {
		s, err := New(Options{Mode: mode, LocalKey: "k", Namespace: "ferry-system", Host: &rest.Config{Host: "https://127.0.0.1:1"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range s.routes {
			for _, cookie := range []string{"", "not-a-session"} {
				req := httptest.NewRequest(rt.method, routePath(rt), strings.NewReader("{}"))
				if cookie != "" {
					req.AddCookie(&http.Cookie{Name: SessionCookie, Value: cookie})
				}
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"error"`) {
					t.Errorf("%s: %s %s with cookie %q: %d %s, want 401 with an error", mode, rt.method, routePath(rt), cookie, rec.Code, rec.Body)
				}
			}
		}
	}
}

func TestEveryMutatingRouteNeedsTheCSRFHeader(t *testing.T) {
	key := NewLocalKey()
	s, err := New(Options{Mode: ModeLocal, LocalKey: key, Namespace: "ferry-system", Host: &rest.Config{Host: "https://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	cookie, csrf := signInLocal(t, s, key)
	n := 0
	for _, rt := range s.routes {
		if !rt.mutating() {
			continue
		}
		n++
		for _, header := range []string{"", csrf[:len(csrf)-1]} {
			req := httptest.NewRequest(rt.method, routePath(rt), strings.NewReader("{}"))
			req.AddCookie(cookie)
			if header != "" {
				req.Header.Set(CSRFHeader, header)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), CSRFHeader) {
				t.Errorf("%s %s with CSRF header %q: %d %s, want 403 naming the header", rt.method, routePath(rt), header, rec.Code, rec.Body)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d mutating routes", n)
	}
}
