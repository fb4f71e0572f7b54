// Package web is the node's HTTP surface: the echo server with its middleware, the JSON API under
// /api/v1, health and metrics, and the assembly of a node's parts (store, repository, index, sign-in,
// federation) from one Config. Handlers are thin: they decode, call practices/search/federation, and
// encode; every error goes through one handler that answers RFC 9457 problems.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/brightspots-nic/brightspots/federation"
	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/web/auth"
	"github.com/brightspots-nic/brightspots/web/idp"
	"github.com/brightspots-nic/brightspots/web/tokens"
)

// Version is the software version, set at build time with -ldflags "-X …web.Version=…".
var Version = "dev"

// Server is one running node's HTTP server and the parts it serves.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	bucket  storage.Bucket
	repo    *practices.Repo
	tokens  *tokens.Store
	metrics *prometheus.Registry
	echo    *echo.Echo

	auth    *auth.Authenticator
	idp     *idp.Provider // nil when the district's own provider is configured
	index   search.Index
	indexer *search.Indexer
	fed     *federation.Federation
	pages   *pages

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New assembles a node from cfg: it opens the object store and the repository (which finishes any
// write a crash interrupted) and registers every route. It does not listen; call Serve.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Server, error) {
	bucket, err := OpenBucket(ctx, cfg)
	if err != nil {
		return nil, err
	}
	repo, err := practices.Open(ctx, bucket, practices.Node{URL: cfg.Node.URL, ID: cfg.Node.ID}, practices.Options{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	}
	s := &Server{
		cfg: cfg, logger: logger, bucket: bucket, repo: repo, tokens: tokens.New(bucket),
		metrics: prometheus.NewRegistry(),
	}
	s.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "brightspots_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"method", "route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "brightspots_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"method", "route"})
	s.metrics.MustRegister(s.requests, s.latency)

	if s.pages, err = loadPages(); err != nil {
		return nil, err
	}
	if s.index, err = OpenIndex(ctx, cfg); err != nil {
		return nil, err
	}
	s.indexer, err = search.NewIndexer(search.IndexerConfig{
		Source: repo, Index: s.index, Bucket: bucket, Evidence: s.indexEvidence,
		Registry: s.metrics, Logger: logger, CursorPerIndex: cfg.Search.Kind != "meilisearch",
	})
	if err != nil {
		s.index.Close()
		return nil, err
	}
	s.fed, err = federation.New(ctx, cfg.Federation, repo, federation.Options{
		Logger: logger, Registry: s.metrics, Software: "brightspots/" + Version,
	})
	if err != nil {
		s.index.Close()
		return nil, fmt.Errorf("federation: %w", err)
	}
	// Every change-log append wakes the indexer and tells peers there is something to pull.
	repo.OnChange(func() {
		s.indexer.Notify()
		s.fed.LocalChange()
	})

	e := echo.New()
	if e.IPExtractor, err = auth.IPExtractor(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted_proxies: %w", err)
	}
	authCfg := cfg.Auth
	authCfg.PublicURL = cfg.Node.URL
	if authCfg.OIDC.Issuer == "" {
		// No district IdP configured: the embedded provider, on the same listener under /idp/, reached
		// by the same OIDC client code as any external provider.
		s.idp, err = idp.New(ctx, idp.Config{
			Issuer:                 cfg.Node.URL + "/idp",
			RedirectURIs:           []string{authCfg.RedirectURL()},
			PostLogoutRedirectURIs: []string{authCfg.PostLogoutURL()},
			ClientIP:               e.IPExtractor,
		}, bucket, logger)
		if err != nil {
			return nil, fmt.Errorf("embedded identity provider: %w", err)
		}
		authCfg = authCfg.WithEmbeddedProvider(s.idp.Issuer(), s.idp.ClientID(), s.idp.ClientSecret())
	}
	s.auth, err = auth.New(ctx, authCfg, bucket, &http.Client{Timeout: 15 * time.Second}, logger)
	if err != nil {
		return nil, err
	}
	s.echo = s.routes(e)
	return s, nil
}

// Repo is the node's repository (for tests and commands).
func (s *Server) Repo() *practices.Repo { return s.repo }

// Tokens is the node's API token store.
func (s *Server) Tokens() *tokens.Store { return s.tokens }

// Handler is the node's whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.echo }

// Indexer is the node's search indexer (for tests and the reindex command).
func (s *Server) Indexer() *search.Indexer { return s.indexer }

// Index is the node's search index.
func (s *Server) Index() search.Index { return s.index }

// Federation is the node's federation (peers, keys, sync).
func (s *Server) Federation() *federation.Federation { return s.fed }

// Auth is the node's sign-in.
func (s *Server) Auth() *auth.Authenticator { return s.auth }

// Metrics is the registry /metrics serves; parts of the node register their collectors on it.
func (s *Server) Metrics() *prometheus.Registry { return s.metrics }

// Serve listens on cfg.Listen (or uses ln when not nil) until ctx is cancelled, then stops accepting
// connections and waits up to 30 s for requests in flight to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", s.cfg.Listen)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
		}
	}
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	s.logger.Info("listening", "addr", ln.Addr().String(), "url", s.cfg.Node.URL, "node", s.cfg.Node.ID, "version", Version)
	stop := s.Start(ctx)
	defer stop()
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

// Start runs the node's background work until ctx ends: the search indexer, the crash reconciler and
// session pruning. The returned func waits for them to stop and closes the index.
func (s *Server) Start(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go s.reconcileLoop(ctx)
	go s.pruneLoop(ctx)
	fedDone := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.indexer.Run(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("search indexer stopped", "err", err)
		}
	}()
	go func() {
		defer close(fedDone)
		if err := s.fed.Run(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("federation sync stopped", "err", err)
		}
	}()
	return func() {
		<-done
		<-fedDone
		s.index.Close()
	}
}

// reconcileLoop re-runs the crash reconciler every few minutes, so a replica that died mid-write is
// finished by another replica without a restart.
func (s *Server) reconcileLoop(ctx context.Context) {
	t := time.NewTicker(3 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.repo.Reconcile(ctx, time.Minute); err != nil {
				s.logger.Warn("reconcile", "err", err)
			} else if n > 0 {
				s.logger.Info("reconciled interrupted writes", "count", n)
			}
		}
	}
}

// pruneLoop removes abandoned sessions and sign-ins hourly.
func (s *Server) pruneLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.auth.Prune(ctx); err != nil {
				s.logger.Warn("prune sessions", "err", err)
			}
		}
	}
}

// routes registers the whole surface in one place, middleware in visible order.
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
	// Compress text for slow school networks. Not artifacts: they are served with byte ranges and
	// are mostly compressed formats already.
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{
		MinLength: 1024,
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			return strings.HasPrefix(p, "/api/v1/artifacts/") || strings.HasPrefix(p, "/federation/v1/artifacts/") || p == "/metrics"
		},
	}))
	e.Use(auth.SecurityHeaders(strings.HasPrefix(s.cfg.Node.URL, "https://"), s.auth.IssuerOrigin()))
	e.Use(s.authenticate)      // bearer tokens
	e.Use(s.auth.Middleware()) // browser sessions
	e.Use(s.auth.CSRF())       // cookie-authenticated state changes
	e.Use(auth.RateLimit(auth.RateLimitConfig{Rate: rate.Limit(s.cfg.RateLimit.PerSecond), Burst: s.cfg.RateLimit.Burst}))

	// Federation: discovery documents and the peer endpoints, authenticated by node tokens inside.
	fed := echo.WrapHandler(s.fed.Handler())
	for _, p := range []string{"/.well-known/brightspots-node", "/.well-known/openid-configuration", "/.well-known/jwks.json"} {
		e.GET(p, fed)
	}
	e.Any("/federation/*", fed)

	s.auth.Register(e) // GET /login, GET /auth/callback, POST /logout
	if s.idp != nil {
		e.Any("/idp/*", echo.WrapHandler(s.idp.Handler()))
	}

	e.GET("/static/*", staticHandler())
	e.GET("/favicon.ico", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/static/favicon.svg") })
	s.pageRoutes(e)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{})))

	api := e.Group("/api/v1")
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
	api.GET("/practices/:id/evidence", s.practiceEvidence)
	api.GET("/practices/:id/evidence.svg", s.evidenceSVG)
	api.POST("/tests/:id/results", s.uploadResults)
	api.GET("/tests/:id/results", s.getResults)
	api.GET("/tests/:id/results.svg", s.resultsSVG)
	api.GET("/artifacts/:sha256", s.downloadArtifact)
	api.HEAD("/artifacts/:sha256", s.downloadArtifact)

	e.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
	return e
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
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		code := c.Response().Status
		s.requests.WithLabelValues(c.Request().Method, route, fmt.Sprint(code)).Inc()
		s.latency.WithLabelValues(c.Request().Method, route).Observe(time.Since(start).Seconds())
		s.logger.Info("request", "method", c.Request().Method, "route", route, "status", code,
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
		p, ok := s.tokens.Resolve(c.Request().Context(), strings.TrimSpace(secret))
		if !ok {
			return problem(http.StatusUnauthorized, "unauthenticated", "the API token is unknown or revoked")
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
	p := principal(c)
	if !p.Authenticated() {
		return practices.ErrUnauthenticated
	}
	if !p.Has(practices.RoleCoordinator) {
		return practices.ErrForbidden
	}
	return c.JSON(http.StatusOK, map[string]any{
		"node":  map[string]string{"id": s.cfg.Node.ID, "url": s.cfg.Node.URL, "name": s.cfg.Node.Name},
		"peers": s.fed.Health(),
	})
}
