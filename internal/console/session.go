package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
)

// Session cookie and CSRF header of docs/console.md.
const (
	// SessionCookie holds the session's id.
	SessionCookie = "ferry-session"
	// CSRFHeader carries the session's CSRF token on mutating requests.
	CSRFHeader = "X-Ferry-CSRF"
	// DefaultSessionTTL is how long a session lasts.
	DefaultSessionTTL = 8 * time.Hour
	// maxSessions bounds the sessions kept: the oldest go first.
	maxSessions = 10000
)

// session is a signed-in user.
type session struct {
	id      string
	csrf    string
	expires time.Time
	// user is who the session acts for, as the host's API server names
	// them (the kubeconfig's user in local mode).
	user   authnv1.UserInfo
	token  string // ModeToken only: the user's token, in memory only
	access *accessCache
}

// sessions is the in-memory session store.
type sessions struct {
	mu  sync.Mutex
	ttl time.Duration
	now func() time.Time
	m   map[string]*session // by the hash of the id
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, now: now, m: map[string]*session{}}
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashID keys the store, so that its map never holds a usable id.
func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return string(h[:])
}

// start creates a session for user.
func (s *sessions) start(user authnv1.UserInfo, token string) *session {
	ss := &session{id: randomToken(), csrf: randomToken(), user: user, token: token,
		expires: s.now().Add(s.ttl), access: newAccessCache(s.now)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	s.m[hashID(ss.id)] = ss
	return ss
}

// get returns the live session of id, or nil.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[hashID(id)]
	if ss == nil {
		return nil
	}
	if !s.now().Before(ss.expires) {
		delete(s.m, hashID(id))
		return nil
	}
	return ss
}

// end removes the session of id.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, hashID(id))
}

// pruneLocked drops expired sessions, and the oldest when too many.
func (s *sessions) pruneLocked() {
	now := s.now()
	var oldest string
	var oldestAt time.Time
	for k, ss := range s.m {
		if !now.Before(ss.expires) {
			delete(s.m, k)
			continue
		}
		if oldest == "" || ss.expires.Before(oldestAt) {
			oldest, oldestAt = k, ss.expires
		}
	}
	if len(s.m) >= maxSessions {
		delete(s.m, oldest)
	}
}

// fromRequest returns the request's live session, or nil.
func (s *sessions) fromRequest(r *http.Request) *session {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	return s.get(c.Value)
}

// csrfOK reports whether the request carries the session's CSRF token.
func (ss *session) csrfOK(r *http.Request) bool {
	got := r.Header.Get(CSRFHeader)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf)) == 1
}

// cookie is the session's cookie; secure over TLS.
func (ss *session) cookie(secure bool) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: ss.id, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, Expires: ss.expires, MaxAge: int(time.Until(ss.expires).Seconds())}
}

// clearedCookie removes the session cookie from the browser.
func clearedCookie(secure bool) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: -1}
}
