package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/console/assets"
	"ferry.dev/ferry/internal/ops"
)

// Security headers of every answer (docs/console.md).
const (
	// ContentSecurityPolicy allows nothing but the console's own origin.
	ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
)

// maxBody bounds request bodies (a plan spec, a CA bundle).
const maxBody = 1 << 20

// Options configure a Server.
type Options struct {
	// Mode is ModeLocal or ModeToken.
	Mode Mode
	// Namespace holds Ferry's objects on the host.
	Namespace string
	// Host reaches the host cluster: as the user of the kubeconfig in
	// ModeLocal, as the controller in ModeToken.
	Host *rest.Config
	// Client is a client of the host with Host's identity and Ferry's
	// scheme (cluster.Scheme); built from Host when nil.
	Client client.Client
	// Informers feed /api/events: the controller's cache in ModeToken;
	// when nil, Start builds a cache of Ferry's namespace from Host.
	Informers Informers
	// LocalKey is the one-time key of ModeLocal (see NewLocalKey).
	LocalKey string
	// UserConfig returns the user's own configuration of a registered
	// cluster in ModeLocal, with which plans' grants are made; the
	// kubeconfigs the CLI would use (userconfig.ForCluster) when nil.
	// Per-cluster tokens of a request's body come first.
	UserConfig func(ctx context.Context, cluster string) (*rest.Config, error)
	// SessionTTL is how long a session lasts (DefaultSessionTTL when 0).
	SessionTTL time.Duration
	// KeepAlive is the interval of /api/events' comment lines (15 s when 0).
	KeepAlive time.Duration
	// Secure marks the session cookie Secure (the server speaks TLS).
	Secure bool
	// Assets is the built application (assets.Dist's dist/ when nil).
	Assets fs.FS
	// Logger logs the server's events, never a token.
	Logger logr.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Server is the console's http.Handler.
type Server struct {
	opts     Options
	log      logr.Logger
	ops      *ops.Client
	client   client.Client
	kube     kubernetes.Interface
	registry *cluster.Registry
	sessions *sessions
	key      *localKey
	static   *staticFiles
	events   *hub
	nsCache  *namespaceCache
	mux      *http.ServeMux
	routes   []route
}

// NewLocalKey returns a fresh one-time key for ModeLocal.
func NewLocalKey() string { return randomToken() }

// New builds the server; Start runs its watches.
func New(o Options) (*Server, error) {
	if err := o.complete(); err != nil {
		return nil, err
	}
	dist := o.Assets
	if dist == nil {
		sub, err := fs.Sub(assets.Dist, "dist")
		if err != nil {
			return nil, fmt.Errorf("console assets: %w", err)
		}
		dist = sub
	}
	static, err := newStaticFiles(dist)
	if err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfig(o.Host)
	if err != nil {
		return nil, fmt.Errorf("clientset of the host cluster: %w", err)
	}
	s := &Server{opts: o, log: o.Logger, ops: ops.New(o.Client, o.Namespace), client: o.Client, kube: kube,
		registry: cluster.NewRegistry(o.Host, o.Client), sessions: newSessions(o.SessionTTL, o.Now),
		key: &localKey{key: o.LocalKey}, static: static, events: newHub(o.Logger), nsCache: newNamespaceCache(o.Now)}
	s.routes = s.apiRoutes()
	s.mux = s.buildMux()
	return s, nil
}

// complete checks the options and fills in the defaults.
func (o *Options) complete() error {
	switch o.Mode {
	case ModeLocal:
		if o.LocalKey == "" {
			return errors.New("console: local mode needs a one-time key (console.NewLocalKey)")
		}
	case ModeToken:
	default:
		return fmt.Errorf("console: mode %q: use %s or %s", o.Mode, ModeLocal, ModeToken)
	}
	if o.Host == nil || o.Namespace == "" {
		return errors.New("console: give the host's configuration and Ferry's namespace")
	}
	if o.Client == nil {
		c, err := client.New(o.Host, client.Options{Scheme: cluster.Scheme()})
		if err != nil {
			return fmt.Errorf("console: client of the host cluster: %w", err)
		}
		o.Client = c
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = 15 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Start runs the watches that feed /api/events until ctx ends; it returns
// once they are synced, or with why they cannot start.
func (s *Server) Start(ctx context.Context) error {
	inf := s.opts.Informers
	if inf == nil {
		c, err := newCache(s.opts.Host, s.opts.Namespace)
		if err != nil {
			return err
		}
		go func() {
			if err := c.Start(ctx); err != nil {
				s.log.Error(err, "console watches stopped")
			}
		}()
		inf = c
	}
	return s.events.watch(ctx, inf)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	s.mux.ServeHTTP(w, r)
}

// buildMux routes the API and the static files.
func (s *Server) buildMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/session", s.startSession)
	for _, rt := range s.routes {
		mux.Handle(rt.method+" "+rt.pattern, s.guard(rt))
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if s.sessions.fromRequest(r) == nil {
			writeError(w, http.StatusUnauthorized, errNotAuthenticated.Error())
			return
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("no API %s %s: see docs/console.md", r.Method, r.URL.Path))
	})
	mux.Handle("/", s.static)
	return mux
}

// call is one API request of a session.
type call struct {
	w  http.ResponseWriter
	r  *http.Request
	ss *session
}

func (c *call) ctx() context.Context { return c.r.Context() }

// decode reads the JSON body into v; unknown fields are refused.
func (c *call) decode(v any) error {
	dec := json.NewDecoder(io.LimitReader(c.r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest(fmt.Errorf("read the request's JSON body: %w", err))
	}
	return nil
}

// route is one endpoint of the API and the access it needs.
type route struct {
	method, pattern string
	// verb and resource are checked by SubjectAccessReview (ModeToken);
	// nameParam, when set, is the path value naming the object.
	verb, resource, nameParam string
	handle                    func(*call) error
}

// mutating reports whether the route changes something (and needs the
// CSRF header).
func (rt route) mutating() bool {
	return rt.method != http.MethodGet && rt.method != http.MethodHead
}

// guard checks the session, the CSRF header and the access of a route,
// then runs it and answers its error.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss := s.sessions.fromRequest(r)
		if ss == nil {
			writeError(w, http.StatusUnauthorized, errNotAuthenticated.Error())
			return
		}
		if rt.mutating() && !ss.csrfOK(r) {
			writeError(w, http.StatusForbidden, "missing or wrong "+CSRFHeader+" header: send the csrf value of GET /api/session with every POST, PUT and DELETE")
			return
		}
		if rt.resource != "" {
			a := access{verb: rt.verb, resource: rt.resource}
			if rt.nameParam != "" {
				a.name = r.PathValue(rt.nameParam)
			}
			if err := s.authorize(r.Context(), ss, a); err != nil {
				s.answerError(w, r, err)
				return
			}
		}
		if err := rt.handle(&call{w: w, r: r, ss: ss}); err != nil {
			s.answerError(w, r, err)
		}
	})
}

// answerError writes err with its status; 500s are logged.
func (s *Server) answerError(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	if code >= 500 {
		s.log.Error(err, "console request failed", "method", r.Method, "path", r.URL.Path)
	}
	writeError(w, code, err.Error())
}

// sessionInfo is the answer of GET and POST /api/session.
type sessionInfo struct {
	User      string   `json:"user"`
	Groups    []string `json:"groups"`
	Mode      Mode     `json:"mode"`
	Namespace string   `json:"namespace"`
	CSRF      string   `json:"csrf"`
	Expires   string   `json:"expires"`
}

func (s *Server) info(ss *session) sessionInfo {
	groups := ss.user.Groups
	if groups == nil {
		groups = []string{}
	}
	return sessionInfo{User: ss.user.Username, Groups: groups, Mode: s.opts.Mode, Namespace: s.opts.Namespace,
		CSRF: ss.csrf, Expires: ss.expires.UTC().Format(time.RFC3339)}
}

// startSession is POST /api/session: a key (ModeLocal) or a token
// (ModeToken) for a session cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Key   string `json:"key"`
		Token string `json:"token"`
	}
	c := &call{w: w, r: r}
	if err := c.decode(&body); err != nil {
		s.answerError(w, r, err)
		return
	}
	ss, err := s.signIn(r.Context(), body.Key, strings.TrimSpace(body.Token))
	if err != nil {
		s.answerError(w, r, err)
		return
	}
	http.SetCookie(w, ss.cookie(s.opts.Secure))
	s.log.Info("console session started", "user", ss.user.Username, "mode", s.opts.Mode)
	writeJSON(w, http.StatusOK, s.info(ss))
}

// signIn checks the key or token of the mode and starts a session.
func (s *Server) signIn(ctx context.Context, key, token string) (*session, error) {
	switch s.opts.Mode {
	case ModeLocal:
		if key == "" {
			return nil, &httpError{code: http.StatusUnauthorized, err: errors.New("give the key of the URL that `ferry console` printed")}
		}
		if !s.key.redeem(key) {
			return nil, &httpError{code: http.StatusUnauthorized, err: errors.New(
				"this key is not valid or was used already: each URL `ferry console` prints signs in once; restart it for a new one")}
		}
		return s.sessions.start(s.kubeconfigUser(ctx), ""), nil
	default:
		if token == "" {
			return nil, &httpError{code: http.StatusUnauthorized, err: errors.New("give a bearer token of the host cluster")}
		}
		user, err := s.reviewToken(ctx, token)
		if err != nil {
			return nil, err
		}
		return s.sessions.start(user, token), nil
	}
}

// getSession is GET /api/session.
func (s *Server) getSession(c *call) error {
	writeJSON(c.w, http.StatusOK, s.info(c.ss))
	return nil
}

// endSession is DELETE /api/session.
func (s *Server) endSession(c *call) error {
	if ck, err := c.r.Cookie(SessionCookie); err == nil {
		s.sessions.end(ck.Value)
	}
	http.SetCookie(c.w, clearedCookie(s.opts.Secure))
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
