package cluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Annotations of a Cluster's token Secret that the controller's renewal
// reads. A Secret without them holds a token of the user's own (one that
// Ferry did not request): it is never renewed.
const (
	// AnnotationTokenExpires is when the token expires (RFC 3339).
	AnnotationTokenExpires = "ferry.dev/token-expires"
	// AnnotationTokenTTL is the lifetime to request at each renewal.
	AnnotationTokenTTL = "ferry.dev/token-ttl"
	// AnnotationAgentNamespace is the namespace of Ferry's service
	// account on the registered cluster.
	AnnotationAgentNamespace = "ferry.dev/agent-namespace"
)

// Token is a service-account token as stored on the host.
type Token struct {
	// Value is the token itself.
	Value string
	// Expires is when it expires; zero for a token Ferry did not
	// request (not renewed).
	Expires time.Time
	// TTL is the lifetime requested.
	TTL time.Duration
	// Namespace of the service account on the registered cluster.
	Namespace string
}

// write puts the token into its Secret.
func (t Token) write(sec *corev1.Secret) {
	sec.Data = map[string][]byte{TokenKey: []byte(t.Value)}
	if sec.Annotations == nil {
		sec.Annotations = map[string]string{}
	}
	delete(sec.Annotations, AnnotationTokenExpires)
	delete(sec.Annotations, AnnotationTokenTTL)
	delete(sec.Annotations, AnnotationAgentNamespace)
	if t.Expires.IsZero() {
		return
	}
	sec.Annotations[AnnotationTokenExpires] = t.Expires.UTC().Format(time.RFC3339)
	sec.Annotations[AnnotationTokenTTL] = t.TTL.String()
	sec.Annotations[AnnotationAgentNamespace] = t.Namespace
}

// readToken reads a token Secret; a malformed annotation counts as absent
// (the token is then not renewed, and its expiry is not known).
func readToken(sec *corev1.Secret) Token {
	t := Token{Value: string(sec.Data[TokenKey]), Namespace: sec.Annotations[AnnotationAgentNamespace]}
	exp, err := time.Parse(time.RFC3339, sec.Annotations[AnnotationTokenExpires])
	ttl, terr := time.ParseDuration(sec.Annotations[AnnotationTokenTTL])
	if err == nil && terr == nil && t.Namespace != "" {
		t.Expires, t.TTL = exp, ttl
	}
	return t
}

// RenewAt is when a token should be renewed: once half of its lifetime
// has passed. Zero for a token that is not renewed.
func (t Token) RenewAt() time.Time {
	if t.Expires.IsZero() {
		return time.Time{}
	}
	return t.Expires.Add(-t.TTL / 2)
}

// Renew replaces the token of Cluster c (whose clients are cl, built with
// the current token) by a new one when half of its lifetime has passed,
// and returns when to look again (zero: never, the token is not Ferry's).
// The old token stays valid until it expires.
func Renew(ctx context.Context, host client.Client, c *ferryv1.Cluster, cl *Clients, now time.Time) (time.Duration, error) {
	if c.Spec.TokenSecretRef == nil || cl.Token.Expires.IsZero() {
		return 0, nil
	}
	if at := cl.Token.RenewAt(); now.Before(at) {
		return at.Sub(now), nil
	}
	reg, err := RequestToken(ctx, cl.Kube, cl.Token.Namespace, cl.Token.TTL)
	if err != nil {
		return 0, err
	}
	tok := Token{Value: reg.Token, Expires: reg.Expires, TTL: cl.Token.TTL, Namespace: cl.Token.Namespace}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: c.Spec.TokenSecretRef.Name, Namespace: c.Namespace}}
	if _, err := createOrUpdate(ctx, host, sec, func() { tok.write(sec) }); err != nil {
		return 0, fmt.Errorf("store the renewed token of cluster %s: %w", c.Name, err)
	}
	return max(tok.RenewAt().Sub(now), minRenewWait), nil
}

// minRenewWait keeps a token whose lifetime is shorter than expected
// (the API server may shorten it) from being renewed in a tight loop.
const minRenewWait = time.Minute
