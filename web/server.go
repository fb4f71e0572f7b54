// Package web is the node's HTTP surface: the echo server with its middleware, the JSON API under
// /api/v1, the HTML pages, the mount points of federation and sign-in, and health and metrics.
// Handlers are thin: they decode, call practices/search/federation, and encode; every error goes
// through one handler that answers RFC 9457 problems. The server opens nothing itself: package node
// assembles the parts (store, repository, index, federation, sign-in) and hands them to New.
package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/brightspots-nic/brightspots/federation"
	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/standards"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/web/auth"
	"github.com/brightspots-nic/brightspots/web/tokens"
	"github.com/brightspots-nic/brightspots/web/uploads"
)

// Version is the software version, set at build time with -ldflags "-X …web.Version=…".
var Version = "dev"

// Config is what the server is told about its node. Package node fills it from the node's
// configuration file, whose keys these types carry.
type Config struct {
	Node      Identity
	Limits    LimitsConfig
	Privacy   PrivacyConfig
	RateLimit RateLimitConfig
}

// Identity names this node, as pages and /api/v1/me show it.
type Identity struct {
	ID      string // short slug, unique in the network
	Name    string // display name
	URL     string // public base URL, no trailing slash
	Contact string // an address to write to (OAI-PMH Identify shows it when it is an e-mail address)
}

// LimitsConfig bounds what a request may send.
type LimitsConfig struct {
	MaxArtifactBytes int64 `yaml:"max_artifact_bytes"` // default 200 MiB
	MaxJSONBytes     int64 `yaml:"max_json_bytes"`     // default 1 MiB
	// BodyTimeout is how long a request body may take to start arriving; the deadline then grows
	// with every byte received at BodyMinRate. Default 10s.
	BodyTimeout time.Duration `yaml:"body_timeout"`
	// BodyMinRate is the slowest average rate, in bytes per second, a request body may arrive at.
	// Default 4096.
	BodyMinRate int64 `yaml:"body_min_bytes_per_second"`
}

// PrivacyConfig holds the student-privacy thresholds of docs/records.md.
type PrivacyConfig struct {
	MinN int `yaml:"min_n"` // default 10, allowed 5–30
}

// RateLimitConfig bounds how fast one caller may send requests.
type RateLimitConfig struct {
	PerSecond float64 `yaml:"per_second"` // sustained; default 50
	Burst     int     `yaml:"burst"`      // default 200
	// TokenLookupsPerSecond bounds, per client address, the bearer tokens looked up in the store
	// (tokens not already cached: unknown ones always are looked up). Default 5, burst 20.
	TokenLookupsPerSecond float64 `yaml:"token_lookups_per_second"`
	TokenLookupsBurst     int     `yaml:"token_lookups_burst"`
}

// Network is what the server uses of the node's federation: the endpoints peers call, the peers
// and their sync health for the pages, and artifact fetch from a record's origin.
// *federation.Member is one.
type Network interface {
	Handler() http.Handler
	Peers() []federation.PeerConfig
	Health() []federation.PeerHealth
	OpenArtifact(ctx context.Context, p practices.Principal, sum string, offset, length int64) (io.ReadCloser, practices.ArtifactRef, error)
}

// Parts are the node's parts the server serves; package node opens them. A part left nil switches
// off the surface that needs it (no Network: no federation endpoints; no SignIn: no sessions or
// sign-in routes; no Tokens: no bearer tokens; no Provider: no /idp/; no Store: no /readyz), so a
// test builds only what the handlers it calls use. Repo and Index serve most API routes and pages:
// a test that leaves one out calls only handlers that do not use it.
type Parts struct {
	Logger  *slog.Logger         // nil: discard
	Metrics *prometheus.Registry // /metrics serves it and request metrics go on it; nil: a private one
	Store   storage.Bucket       // the object store, probed by /readyz
	Repo    *practices.Repo
	Tokens  *tokens.Store
	Index   search.Index
	Network Network
	SignIn  *auth.Authenticator
	// Provider is the embedded OpenID provider's handler, mounted at /idp/; nil when the district's
	// own provider is configured.
	Provider http.Handler
	// ClientIP finds a request's client address (trusted proxies); nil: the connection's address.
	ClientIP echo.IPExtractor
}

// Server is the node's HTTP server over the parts it was given.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	bucket  storage.Bucket
	repo    *practices.Repo
	tokens  *tokens.Store
	metrics *prometheus.Registry
	// standards are the imported CASE frameworks the practice form offers.
	standards *standards.Catalog
	echo      *echo.Echo

	auth  *auth.Authenticator
	idp   http.Handler // nil when the district's own provider is configured
	index search.Index
	fed   Network
	pages *pages
	// uploads serves resumable (tus) artifact uploads; nil without a repository or a store that
	// takes multipart uploads.
	uploads *uploads.Service

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	tokenLookups *auth.Limiter // bearer-token lookups that reach the store, per client address

	knownTeams teamsCache // the token form's team picker (teams.go)
}

// New builds the server over parts and registers every route. It opens nothing and does not
// listen; see Serve.
func New(cfg Config, parts Parts) (*Server, error) {
	s := &Server{
		cfg: cfg, logger: parts.Logger, bucket: parts.Store, repo: parts.Repo, tokens: parts.Tokens,
		metrics: parts.Metrics, auth: parts.SignIn, idp: parts.Provider, index: parts.Index, fed: parts.Network,
	}
	if parts.Store != nil {
		s.standards = standards.NewCatalog(parts.Store)
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = prometheus.NewRegistry()
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "brightspots_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"method", "route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "brightspots_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"method", "route"})
	if err := s.metrics.Register(s.requests); err != nil {
		return nil, fmt.Errorf("http metrics: %w", err)
	}
	if err := s.metrics.Register(s.latency); err != nil {
		return nil, fmt.Errorf("http metrics: %w", err)
	}

	var err error
	if s.pages, err = loadPages(); err != nil {
		return nil, err
	}
	if s.repo != nil {
		if _, ok := s.bucket.(storage.Multipart); ok {
			if s.uploads, err = s.newUploads(); err != nil {
				return nil, err
			}
		}
	}
	e := echo.New()
	if parts.ClientIP != nil {
		e.IPExtractor = parts.ClientIP
	}
	// Zero values (a Config built in code rather than loaded) take the loaded defaults.
	if s.cfg.RateLimit.TokenLookupsPerSecond <= 0 || s.cfg.RateLimit.TokenLookupsBurst < 1 {
		s.cfg.RateLimit.TokenLookupsPerSecond, s.cfg.RateLimit.TokenLookupsBurst = 5, 20
	}
	if s.cfg.Limits.BodyTimeout <= 0 {
		s.cfg.Limits.BodyTimeout = 10 * time.Second
	}
	if s.cfg.Limits.BodyMinRate <= 0 {
		s.cfg.Limits.BodyMinRate = 4096
	}
	s.tokenLookups = auth.NewLimiter(auth.RateLimitConfig{
		Rate: rate.Limit(s.cfg.RateLimit.TokenLookupsPerSecond), Burst: s.cfg.RateLimit.TokenLookupsBurst,
	})
	s.echo = s.routes(e)
	return s, nil
}

// Handler is the node's whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve serves on ln until ctx is cancelled, then stops accepting connections and waits up to 30 s
// for requests in flight to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	s.logger.Info("listening", "addr", ln.Addr().String(), "url", s.cfg.Node.URL, "node", s.cfg.Node.ID, "version", Version)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.logger.Info("shutting down: finishing requests in flight")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.logger.Info("stopped")
	return nil
}

// routes registers the middleware, in the order it runs, and then each surface: federation,
// sign-in, operations, the API and the pages. Each surface's routes are listed in one function.
func (s *Server) routes(e *echo.Echo) *echo.Echo {
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler

	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.logger.Error("panic", "err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.RequestID())
	e.Use(s.observe)
	e.Use(s.limitBodies) // every body capped and paced, before anything reads one
	// Compress text for slow school networks. Not artifacts: they are served with byte ranges and
	// are mostly compressed formats already.
	noGzip := func(p string) bool {
		return strings.HasPrefix(p, "/api/v1/artifacts/") || strings.HasPrefix(p, uploads.PathPrefix) || strings.HasPrefix(p, "/federation/v1/artifacts/") || p == "/metrics"
	}
	// The search API compresses its own answers (writeJSONMaybeGzipped in search.go).
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{
		MinLength: 1024,
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			return noGzip(p) || p == "/api/v1/search"
		},
	}))
	issuerOrigin := ""
	if s.auth != nil {
		issuerOrigin = s.auth.IssuerOrigin()
	}
	e.Use(auth.SecurityHeaders(strings.HasPrefix(s.cfg.Node.URL, "https://"), issuerOrigin))
	if s.tokens != nil {
		e.Use(s.authenticate) // bearer tokens
	}
	if s.auth != nil {
		e.Use(s.auth.Middleware()) // browser sessions
		e.Use(s.auth.CSRF())       // cookie-authenticated state changes
	}
	e.Use(auth.RateLimit(auth.RateLimitConfig{Rate: rate.Limit(s.cfg.RateLimit.PerSecond), Burst: s.cfg.RateLimit.Burst}))

	if s.fed != nil {
		s.federationRoutes(e)
	}
	if s.auth != nil {
		s.auth.Register(e) // GET /login, GET /auth/callback, POST /logout
	}
	if s.idp != nil {
		e.Any("/idp/*", echo.WrapHandler(s.idp))
	}
	s.operationsRoutes(e)
	s.apiRoutes(e.Group("/api/v1"))
	s.pageRoutes(e)
	s.harvestRoutes(e)

	e.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
	return e
}

// federationRoutes mounts the federation: discovery documents and the peer endpoints, which
// authenticate node tokens themselves (docs/protocol.md).
func (s *Server) federationRoutes(e *echo.Echo) {
	fed := echo.WrapHandler(s.fed.Handler())
	for _, p := range []string{"/.well-known/brightspots-node", "/.well-known/openid-configuration", "/.well-known/jwks.json"} {
		e.GET(p, fed)
	}
	e.Any("/federation/*", fed)
}

// operationsRoutes are for the district's IT: liveness, readiness and metrics.
func (s *Server) operationsRoutes(e *echo.Echo) {
	e.GET("/healthz", s.healthz)
	if s.bucket != nil {
		e.GET("/readyz", s.readyz)
	}
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{})))
}

// apiRoutes is the JSON API under /api/v1.
func (s *Server) apiRoutes(api *echo.Group) {
	api.GET("/me", s.me)
	api.GET("/search", s.search)
	api.GET("/network", s.network)
	for _, k := range practices.Kinds {
		h := recordHandlers{s: s, kind: k}
		g := api.Group("/" + k.Plural())
		g.GET("", h.list)
		g.POST("", h.create)
		g.GET("/:id", h.get)
		g.PUT("/:id", h.update)
		g.DELETE("/:id", h.remove)
		g.GET("/:id/versions/:version", h.getVersion)
		g.POST("/:id/publish", h.publish)
		g.POST("/:id/withdraw", h.withdraw)
	}
	api.POST("/practices/:id/artifacts", s.uploadArtifact)
	s.uploadRoutes(api)
	api.GET("/practices/:id/evidence", s.practiceEvidence)
	api.GET("/practices/:id/evidence.svg", s.evidenceSVG)
	api.POST("/tests/:id/results", s.uploadResults)
	api.GET("/tests/:id/results", s.getResults)
	api.GET("/tests/:id/results.svg", s.resultsSVG)
	s.measureRoutes(api)
	s.cycleRoutes(api)
	s.aimRoutes(api)
	api.GET("/artifacts/:sha256", s.downloadArtifact)
	api.HEAD("/artifacts/:sha256", s.downloadArtifact)
}

// observe logs each request (no bodies, no query strings: they may hold search terms of a person)
// and counts it by route.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route, method := routeLabel(c), methodLabel(c.Request().Method)
		code := c.Response().Status
		s.requests.WithLabelValues(method, route, fmt.Sprint(code)).Inc()
		s.latency.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		s.logger.Info("request", "method", method, "route", route, "status", code,
			"bytes", c.Response().Size, "ms", time.Since(start).Milliseconds(),
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return nil
	}
}

// authenticate resolves an API token (Authorization: Bearer); sessions are resolved after it.
// A bearer token that does not resolve is an error, never a silent fall-back to anonymous.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		if h == "" || strings.HasPrefix(c.Request().URL.Path, "/federation/") {
			return next(c) // peers' node tokens are verified by the federation handler
		}
		scheme, secret, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
			return problem(http.StatusUnauthorized, "unauthenticated", "Authorization must be: Bearer <token>")
		}
		secret = strings.TrimSpace(secret)
		// A lookup that reaches the store is limited per client address first: an unknown token is
		// never cached, so each one would cost a store read.
		if !s.tokens.Cached(secret) {
			if err := s.tokenLookups.Check(c, "addr:"+auth.ClientKey(c)); err != nil {
				return err
			}
		}
		p, err := s.tokens.Resolve(c.Request().Context(), secret)
		if errors.Is(err, tokens.ErrUnknown) {
			return problem(http.StatusUnauthorized, "unauthenticated", "the API token is unknown or revoked")
		}
		if err != nil {
			return err // the store's: 503, never 401 (the token may well be valid)
		}
		c.SetRequest(c.Request().WithContext(auth.WithPrincipal(c.Request().Context(), p)))
		return next(c)
	}
}

func principal(c echo.Context) practices.Principal { return auth.PrincipalFrom(c.Request().Context()) }

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when the object store answers.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if _, err := s.bucket.Stat(ctx, "node/state/ready-probe"); err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.logger.Warn("readiness: object store unreachable", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "store": "unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) me(c echo.Context) error {
	p := principal(c)
	if !p.Authenticated() {
		return practices.ErrUnauthenticated
	}
	roles := []practices.Role{practices.RoleTeacher}
	for _, r := range p.Roles {
		if r != practices.RoleTeacher {
			roles = append(roles, r)
		}
	}
	out := map[string]any{
		"kind": p.Kind, "subject": p.Subject, "name": p.Name, "email": p.Email, "roles": roles, "teams": p.Teams,
		"node": map[string]string{"id": s.cfg.Node.ID, "url": s.cfg.Node.URL, "name": s.cfg.Node.Name},
	}
	if p.Kind == "session" {
		// Scripts running in the signed-in page send this as X-CSRF-Token. Another site cannot read
		// it: this is a same-origin JSON response and no CORS is offered.
		out["csrf_token"] = auth.CSRFToken(c)
	}
	return c.JSON(http.StatusOK, out)
}

// network describes this node's peers and their live sync health (coordinators and admins).
func (s *Server) network(c echo.Context) error {
	if err := practices.CanViewNetwork(principal(c)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"node":  map[string]string{"id": s.cfg.Node.ID, "url": s.cfg.Node.URL, "name": s.cfg.Node.Name},
		"peers": s.fed.Health(),
	})
}
