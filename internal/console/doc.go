// Package console is Ferry's web console server: an http.Handler that
// serves the single-page application embedded from assets/ and the JSON
// API of docs/console.md, whose every operation is a call into
// internal/ops (the CLI's library too), and live updates as server-sent
// events fed by watches of Ferry's objects on the host.
//
// # Basics
//
// A [Server] runs in one of two modes ([Options.Mode]):
//
//   - [ModeLocal] (`ferry console`): a one-time key, printed in the URL,
//     is exchanged for a session; the server acts with the identity of the
//     user's kubeconfig, so the host's API server authorizes every action.
//   - [ModeToken] (`ferry controller --console ADDR`): a user starts a
//     session with a bearer token of the host, checked with a TokenReview;
//     every request is authorized with a SubjectAccessReview for the user
//     (verb and resource of Ferry's API group in Ferry's namespace) before
//     the server acts with the controller's own client.
//
// Sessions live in memory (cookie ferry-session, 8 hours); mutating
// requests need the session's CSRF token in the X-Ferry-CSRF header.
//
// # Caveats
//
// Tokens are kept in memory for the session only, for the grants of new
// plans on the host; they are never logged, echoed or sent to another
// cluster. A restart of the server ends every session.
package console
