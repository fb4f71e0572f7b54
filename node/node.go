// Package node assembles a Bright Spots district node. It owns the node's configuration (one YAML
// file, environment overrides, a default for every key) and is the one place that opens the parts
// that configuration names — the object store, the repository, the search index and its indexer,
// the federation, the embedded OpenID provider and sign-in — and hands them to the HTTP server
// (package web), which opens nothing itself.
//
// Commands take only the parts they need through the same constructors (OpenBucket, OpenRepo,
// OpenIndex, NewIndexer, OpenFederation); Open composes them all into a serving node.
package node

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/brightspots-nic/brightspots/federation"
	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/web"
	"github.com/brightspots-nic/brightspots/web/auth"
	"github.com/brightspots-nic/brightspots/web/idp"
	"github.com/brightspots-nic/brightspots/web/tokens"
	"github.com/brightspots-nic/brightspots/web/uploads"
)

// Node is one assembled district node: its parts and the HTTP server over them.
type Node struct {
	cfg     Config
	logger  *slog.Logger
	metrics *prometheus.Registry

	bucket  storage.Bucket
	repo    *practices.Repo
	tokens  *tokens.Store
	index   search.Index
	indexer *search.Indexer
	fed     *federation.Member
	idp     *idp.Provider // nil when the district's own provider is configured
	auth    *auth.Authenticator
	server  *web.Server
}

// Open assembles the node cfg describes: it opens the object store and the repository (which
// finishes any write a crash interrupted), the search index and indexer, the federation and
// sign-in, and builds the HTTP server over them. It does not listen or start background work; call
// Serve, or Start for the background work alone.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Node, error) {
	n := &Node{cfg: cfg, logger: logger, metrics: prometheus.NewRegistry()}
	n.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	var err error
	if n.bucket, err = OpenBucket(ctx, cfg); err != nil {
		return nil, err
	}
	if n.repo, err = OpenRepo(ctx, cfg, n.bucket, logger); err != nil {
		return nil, err
	}
	n.tokens = tokens.New(n.bucket)
	if n.index, err = OpenIndex(ctx, cfg); err != nil {
		return nil, err
	}
	if n.indexer, err = NewIndexer(cfg, n.repo, n.index, n.bucket, n.metrics, logger); err != nil {
		n.index.Close()
		return nil, err
	}
	if n.fed, err = OpenFederation(ctx, cfg, n.repo, n.metrics, logger); err != nil {
		n.index.Close()
		return nil, err
	}
	// Every change-log append wakes the indexer and tells peers there is something to pull.
	n.repo.OnChange(func() {
		n.indexer.Notify()
		n.fed.LocalChange()
	})

	clientIP, err := auth.IPExtractor(cfg.TrustedProxies)
	if err != nil {
		n.index.Close()
		return nil, fmt.Errorf("trusted_proxies: %w", err)
	}
	if n.auth, n.idp, err = openSignIn(ctx, cfg, n.bucket, clientIP, logger); err != nil {
		n.index.Close()
		return nil, err
	}
	parts := web.Parts{
		Logger: logger, Metrics: n.metrics, Store: n.bucket, Repo: n.repo, Tokens: n.tokens,
		Index: n.index, Network: n.fed, SignIn: n.auth, ClientIP: clientIP,
	}
	if n.idp != nil {
		parts.Provider = n.idp.Handler()
	}
	if n.server, err = web.New(cfg.web(), parts); err != nil {
		n.index.Close()
		return nil, err
	}
	return n, nil
}

// openSignIn builds user sign-in: against the district's own OpenID provider when auth.oidc.issuer
// is set, otherwise against the embedded provider, served on the same listener under /idp/ and
// reached by the same OIDC client code as any external provider.
func openSignIn(ctx context.Context, cfg Config, bucket storage.Bucket, clientIP func(*http.Request) string, logger *slog.Logger) (*auth.Authenticator, *idp.Provider, error) {
	authCfg := cfg.Auth
	authCfg.PublicURL = cfg.Node.URL
	var provider *idp.Provider
	if authCfg.OIDC.Issuer == "" {
		var err error
		provider, err = idp.New(ctx, idp.Config{
			Issuer:                 cfg.Node.URL + "/idp",
			RedirectURIs:           []string{authCfg.RedirectURL()},
			PostLogoutRedirectURIs: []string{authCfg.PostLogoutURL()},
			ClientIP:               clientIP,
			// The sign-in page is the first screen everyone sees: it wears the node's look and name.
			Site: idp.Site{Name: cfg.Node.Name, URL: cfg.Node.URL, Stylesheet: cfg.Node.URL + "/static/style.css"},
		}, bucket, logger)
		if err != nil {
			return nil, nil, fmt.Errorf("embedded identity provider: %w", err)
		}
		authCfg = authCfg.WithEmbeddedProvider(provider.Issuer(), provider.ClientID(), provider.ClientSecret())
	}
	a, err := auth.New(ctx, authCfg, bucket, &http.Client{Timeout: 15 * time.Second}, logger)
	if err != nil {
		return nil, nil, err
	}
	return a, provider, nil
}

// web is what the HTTP server is told of the configuration.
func (c Config) web() web.Config {
	return web.Config{
		Node:   web.Identity{ID: c.Node.ID, Name: c.Node.Name, URL: c.Node.URL, Contact: c.Node.Contact},
		Limits: c.Limits, Privacy: c.Privacy, RateLimit: c.RateLimit,
	}
}

// Repo is the node's repository.
func (n *Node) Repo() *practices.Repo { return n.repo }

// Bucket is the node's object store.
func (n *Node) Bucket() storage.Bucket { return n.bucket }

// Tokens is the node's API token store.
func (n *Node) Tokens() *tokens.Store { return n.tokens }

// Handler is the node's whole HTTP surface.
func (n *Node) Handler() http.Handler { return n.server.Handler() }

// Indexer is the node's search indexer.
func (n *Node) Indexer() *search.Indexer { return n.indexer }

// Index is the node's search index.
func (n *Node) Index() search.Index { return n.index }

// Uploads is the node's resumable upload service (nil if its store cannot take multipart uploads).
func (n *Node) Uploads() *uploads.Service { return n.server.Uploads() }

// Federation is the node's part in the network (peers, keys, sync).
func (n *Node) Federation() *federation.Member { return n.fed }

// Auth is the node's sign-in.
func (n *Node) Auth() *auth.Authenticator { return n.auth }

// Metrics is the registry /metrics serves; parts of the node register their collectors on it.
func (n *Node) Metrics() *prometheus.Registry { return n.metrics }

// Serve listens on cfg.Listen (or uses ln when not nil), runs the background work (Start) and serves
// until ctx is cancelled; then it finishes the requests in flight and stops the background work.
func (n *Node) Serve(ctx context.Context, ln net.Listener) error {
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", n.cfg.Listen)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", n.cfg.Listen, err)
		}
	}
	stop := n.Start(ctx)
	defer stop()
	return n.server.Serve(ctx, ln)
}

// Start runs the node's background work until ctx ends: the search indexer, the federation sync,
// the crash reconciler, session pruning and the sweep of expired uploads. The returned func waits for them to stop and closes the
// index.
func (n *Node) Start(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go n.reconcileLoop(ctx)
	go n.pruneLoop(ctx)
	if up := n.server.Uploads(); up != nil {
		go up.Run(ctx, 5*time.Minute) // expired resumable uploads
	}
	fedDone := make(chan struct{})
	go func() {
		defer close(done)
		if err := n.indexer.Run(ctx); err != nil && ctx.Err() == nil {
			n.logger.Error("search indexer stopped", "err", err)
		}
	}()
	go func() {
		defer close(fedDone)
		if err := n.fed.Run(ctx); err != nil && ctx.Err() == nil {
			n.logger.Error("federation sync stopped", "err", err)
		}
	}()
	return func() {
		<-done
		<-fedDone
		n.index.Close()
	}
}

// reconcileLoop re-runs the crash reconciler every few minutes, so a replica that died mid-write is
// finished by another replica without a restart.
func (n *Node) reconcileLoop(ctx context.Context) {
	t := time.NewTicker(3 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if c, err := n.repo.Reconcile(ctx, time.Minute); err != nil {
				n.logger.Warn("reconcile", "err", err)
			} else if c > 0 {
				n.logger.Info("reconciled interrupted writes", "count", c)
			}
		}
	}
}

// pruneLoop removes abandoned sessions and sign-ins hourly.
func (n *Node) pruneLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := n.auth.Prune(ctx); err != nil {
				n.logger.Warn("prune sessions", "err", err)
			}
		}
	}
}

var _ web.Network = (*federation.Member)(nil)
