package console

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	"k8s.io/client-go/rest"
)

func TestSessionExpiry(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	s := newSessions(DefaultSessionTTL, func() time.Time { return now })
	ss := s.start(authnv1.UserInfo{Username: "ana"}, "")
	if s.get(ss.id) != ss {
		t.Fatal("a new session is not found")
	}
	now = now.Add(DefaultSessionTTL - time.Second)
	if s.get(ss.id) == nil {
		t.Fatal("the session ended before 8 hours")
	}
	now = now.Add(time.Second)
	if s.get(ss.id) != nil {
		t.Fatal("the session outlived 8 hours")
	}
	other := s.start(authnv1.UserInfo{Username: "bo"}, "")
	s.end(other.id)
	if s.get(other.id) != nil {
		t.Fatal("an ended session is still found")
	}
}

// signInLocal exchanges the key and returns the session's cookie and CSRF
// token.
func signInLocal(t *testing.T, s http.Handler, key string) (*http.Cookie, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/session", strings.NewReader(`{"key":"`+key+`"}`)))
	if rec.Code != http.StatusOK {
		t.Fatalf("sign in: %d %s", rec.Code, rec.Body)
	}
	var info sessionInfo
	if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
				t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/", c)
			}
			return c, info.CSRF
		}
	}
	t.Fatal("no session cookie")
	return nil, ""
}

func TestLocalKeyExchange(t *testing.T) {
	key := NewLocalKey()
	// The host is never reached: who the kubeconfig's user is stays unknown.
	s, err := New(Options{Mode: ModeLocal, LocalKey: key, Namespace: "ferry-system", Host: &rest.Config{Host: "https://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	post := func(body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/session", strings.NewReader(body)))
		return rec
	}
	if rec := post(`{"key":"wrong"}`); rec.Code != http.StatusUnauthorized {
		t.Errorf("a wrong key: %d, want 401", rec.Code)
	}
	if rec := post(`{}`); rec.Code != http.StatusUnauthorized {
		t.Errorf("no key: %d, want 401", rec.Code)
	}
	if rec := post(`{"key":1}`); rec.Code != http.StatusBadRequest {
		t.Errorf("a malformed body: %d, want 400", rec.Code)
	}
	cookie, csrf := signInLocal(t, s, key)
	if rec := post(`{"key":"` + key + `"}`); rec.Code != http.StatusUnauthorized {
		t.Errorf("the key used a second time: %d, want 401", rec.Code)
	}

	get := httptest.NewRequest(http.MethodGet, "/api/session", nil)
	get.AddCookie(cookie)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, get)
	var info sessionInfo
	if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /api/session: %d %s", rec.Code, rec.Body)
	}
	if info.Mode != ModeLocal || info.Namespace != "ferry-system" || info.CSRF != csrf || info.Groups == nil {
		t.Errorf("session %+v: want mode local, namespace ferry-system, the CSRF token, a groups list", info)
	}

	tests := []struct {
		name     string
		csrf     string
		wantCode int
	}{
		{name: "logout without CSRF header", csrf: "", wantCode: http.StatusForbidden},
		{name: "logout with a wrong CSRF header", csrf: "x" + csrf, wantCode: http.StatusForbidden},
		{name: "logout", csrf: csrf, wantCode: http.StatusNoContent},
		{name: "after logout", csrf: csrf, wantCode: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodDelete, "/api/session", nil)
		req.AddCookie(cookie)
		if tt.csrf != "" {
			req.Header.Set(CSRFHeader, tt.csrf)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tt.wantCode {
			t.Errorf("%s: %d %s, want %d", tt.name, rec.Code, rec.Body, tt.wantCode)
		}
	}
}
