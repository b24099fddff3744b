package console

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Mode is how the console signs users in and whose rights it acts with.
type Mode string

const (
	// ModeLocal exchanges a one-time key for a session and acts with the
	// identity of the user's kubeconfig (`ferry console`).
	ModeLocal Mode = "local"
	// ModeToken signs users in with a bearer token of the host (checked
	// by TokenReview) and authorizes each request by SubjectAccessReview
	// before acting with the controller's client (`ferry controller
	// --console`).
	ModeToken Mode = "token"
)

// accessTTL is how long an authorization answer is reused for a session.
const accessTTL = 10 * time.Second

// access is what a request does: a verb on a resource of Ferry's API
// group in Ferry's namespace, on one object when name is set.
type access struct {
	verb, resource, name string
}

func (a access) String() string {
	if a.name != "" {
		return fmt.Sprintf("%s %s.%s %s", a.verb, a.resource, ferryv1.GroupVersion.Group, a.name)
	}
	return fmt.Sprintf("%s %s.%s", a.verb, a.resource, ferryv1.GroupVersion.Group)
}

type accessAnswer struct {
	allowed bool
	reason  string
	at      time.Time
}

// accessCache keeps a session's recent authorization answers.
type accessCache struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[access]accessAnswer
}

func newAccessCache(now func() time.Time) *accessCache {
	return &accessCache{now: now, m: map[access]accessAnswer{}}
}

func (c *accessCache) get(a access) (accessAnswer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ans, ok := c.m[a]
	if !ok || c.now().Sub(ans.at) > accessTTL {
		return accessAnswer{}, false
	}
	return ans, true
}

func (c *accessCache) put(a access, ans accessAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ans.at = c.now()
	c.m[a] = ans
}

// errNotAuthenticated answers requests without a live session.
var errNotAuthenticated = &httpError{code: http.StatusUnauthorized,
	err: errors.New("not signed in, or the session ended: sign in again")}

// authorize checks that the session may do a; in local mode the host's
// API server checks every action itself. A refusal is a 403 that names
// the verb and the resource.
func (s *Server) authorize(ctx context.Context, ss *session, a access) error {
	if s.opts.Mode != ModeToken {
		return nil
	}
	allowed, reason, err := s.allowed(ctx, ss, a)
	if err != nil {
		return err
	}
	if allowed {
		return nil
	}
	msg := fmt.Sprintf("%s may not %s in namespace %s", ss.user.Username, a, s.opts.Namespace)
	if reason != "" {
		msg += " (" + reason + ")"
	}
	return &httpError{code: http.StatusForbidden, err: errors.New(msg + ": ask an administrator of the host cluster for a Role that allows it")}
}

// allowed asks the host's API server, by SubjectAccessReview, whether the
// session's user may do a; answers are kept for accessTTL.
func (s *Server) allowed(ctx context.Context, ss *session, a access) (bool, string, error) {
	if ans, ok := ss.access.get(a); ok {
		return ans.allowed, ans.reason, nil
	}
	u := ss.user
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User: u.Username, Groups: u.Groups, UID: u.UID, Extra: extraOf(u.Extra),
		ResourceAttributes: &authzv1.ResourceAttributes{Namespace: s.opts.Namespace, Verb: a.verb,
			Group: ferryv1.GroupVersion.Group, Resource: a.resource, Name: a.name},
	}}
	got, err := s.kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return false, "", fmt.Errorf("authorize %s for %s: %w", a, u.Username, err)
	}
	ss.access.put(a, accessAnswer{allowed: got.Status.Allowed, reason: got.Status.Reason})
	return got.Status.Allowed, got.Status.Reason, nil
}

func extraOf(in map[string]authnv1.ExtraValue) map[string]authzv1.ExtraValue {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]authzv1.ExtraValue, len(in))
	for k, v := range in {
		out[k] = authzv1.ExtraValue(v)
	}
	return out
}

// reviewToken checks a bearer token with the host's API server by
// TokenReview and returns whom it names. Its errors never quote the
// token.
func (s *Server) reviewToken(ctx context.Context, token string) (authnv1.UserInfo, error) {
	tr := &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}
	got, err := s.kube.AuthenticationV1().TokenReviews().Create(ctx, tr, metav1.CreateOptions{})
	if err != nil {
		return authnv1.UserInfo{}, fmt.Errorf("check the token with the host cluster (TokenReview): %w", err)
	}
	if !got.Status.Authenticated {
		return authnv1.UserInfo{}, &httpError{code: http.StatusUnauthorized, err: errors.New(
			"the host cluster did not accept this token: paste a current bearer token of the host cluster (kubectl create token NAME, or oc whoami -t)")}
	}
	return got.Status.User, nil
}

// localKey is the one-time key of ModeLocal.
type localKey struct {
	mu   sync.Mutex
	key  string
	used bool
}

// redeem reports whether k is the key, and uses it up.
func (l *localKey) redeem(k string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.used || l.key == "" || subtle.ConstantTimeCompare([]byte(k), []byte(l.key)) != 1 {
		return false
	}
	l.used = true
	return true
}

// kubeconfigUser asks the host who the server's own identity is (the
// kubeconfig's user in local mode), by SelfSubjectReview.
func (s *Server) kubeconfigUser(ctx context.Context) authnv1.UserInfo {
	got, err := s.kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		s.log.Info("cannot tell who the kubeconfig's user is", "err", err)
		return authnv1.UserInfo{Username: "kubeconfig user"}
	}
	return got.Status.UserInfo
}
