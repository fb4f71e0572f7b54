package federation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/brightspots-nic/brightspots/practices"
)

// Options are what a Member uses besides its configuration. The zero value is fine.
type Options struct {
	Logger *slog.Logger
	// Registry receives the federation metrics. Nil: a private registry (metrics not exported).
	Registry *prometheus.Registry
	// Transport is the base of every outgoing connection (tests count requests with it).
	Transport http.RoundTripper
	// Now is the clock (tests); time.Now by default.
	Now func() time.Time
	// Software is reported in /.well-known/brightspots-node, e.g. "brightspots/1.2.0".
	Software string
}

// Member is this node's membership of the network: its identity, the endpoints peers call, and one
// sync loop per peer. Build it with New, mount Handler, start Run.
type Member struct {
	cfg      Config
	repo     *practices.Repo
	node     practices.Node
	log      *slog.Logger
	now      func() time.Time
	software string
	keys     *keyring
	replay   *replayCache
	metrics  *metrics

	peers []*peer
	byURL map[string]*peer
	byIdP map[idpKey]*peer

	// local changes, for debounced notifications to peers
	changed chan struct{}

	// artifact downloads in flight, by origin and hash (artifacts.go)
	fetchMu sync.Mutex
	fetches map[string]*fetchFlight

	// tunables, changed by tests
	pageLimit      int
	backoffMin     time.Duration
	backoffMax     time.Duration
	notifyDebounce time.Duration
}

type idpKey struct{ issuer, client string }

// peer is one configured peer: its clients, its verifiers (built once) and its sync state.
type peer struct {
	cfg PeerConfig
	f   *Member

	keyClient      *http.Client // discovery and JWKS: rate-limited, small bodies
	client         *http.Client // feed, records, notify: whole-request timeout
	artifactClient *http.Client // artifact downloads: header and idle timeouts, bounded by the caller's context

	mu       sync.Mutex
	keySet   *oidc.RemoteKeySet
	verifier *oidc.IDTokenVerifier
	idpVer   *oidc.IDTokenVerifier

	wake chan struct{} // a notify from this peer
	// notifyQueue holds the cursor of the next notify to send to this peer (notifySender).
	notifyQueue chan string

	fetchSlots  chan struct{} // artifact downloads from this peer running now
	fetchQueued atomic.Int64  // downloads waiting for a slot (tests, metrics)

	hmu    sync.Mutex
	health peerHealth
}

func (p *peer) principal() practices.Principal {
	return practices.Principal{Kind: "node", Subject: p.cfg.URL, Name: p.cfg.Name, PeerID: p.cfg.ID}
}

// New builds the federation of the node repo belongs to: it validates cfg, binds each peer's URL to
// its id in repo, and loads the node's signing keys (generating the first on first start). It makes
// no network call.
func New(ctx context.Context, cfg Config, repo *practices.Repo, opts Options) (*Member, error) {
	node := repo.Node()
	if err := cfg.Validate(node.URL, node.ID); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	f := &Member{
		cfg: cfg, repo: repo, node: node, log: opts.Logger, now: opts.Now, software: opts.Software,
		byURL: map[string]*peer{}, byIdP: map[idpKey]*peer{}, replay: newReplayCache(replayCacheSize),
		changed: make(chan struct{}, 1), fetches: map[string]*fetchFlight{},
		pageLimit: 500, backoffMin: time.Second, backoffMax: 10 * time.Minute, notifyDebounce: 250 * time.Millisecond,
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	f.log = f.log.With("component", "federation")
	if f.now == nil {
		f.now = time.Now
	}
	if f.software == "" {
		f.software = "brightspots"
	}
	base := opts.Transport
	if base == nil {
		base = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: cfg.RequestTimeout,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		}
	}
	f.keys = newKeyring(repo.Bucket(), cfg.KeyAlgorithm, f.now)
	if err := f.keys.ensure(ctx); err != nil {
		return nil, fmt.Errorf("federation: node keys: %w", err)
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	var err error
	if f.metrics, err = newMetrics(reg, f); err != nil {
		return nil, fmt.Errorf("federation: metrics: %w", err)
	}
	for _, pc := range cfg.Peers {
		p := &peer{cfg: pc, f: f, wake: make(chan struct{}, 1), notifyQueue: make(chan string, 1), fetchSlots: make(chan struct{}, artifactFetchesPerPeer)}
		p.keyClient = &http.Client{
			Timeout:       10 * time.Second,
			Transport:     &limitedTransport{base: base, limiter: rate.NewLimiter(rate.Every(10*time.Second), 4), maxBody: 1 << 20},
			CheckRedirect: noRedirects,
		}
		p.client = &http.Client{Timeout: cfg.RequestTimeout, Transport: base, CheckRedirect: noRedirects}
		p.artifactClient = &http.Client{Transport: base, CheckRedirect: noRedirects}
		f.peers = append(f.peers, p)
		f.byURL[pc.URL] = p
		if pc.IdP != nil {
			f.byIdP[idpKey{pc.IdP.Issuer, pc.IdP.ClientID}] = p
		}
		repo.SetMirrorID(pc.URL, pc.ID)
		f.metrics.addPeer(p)
	}
	return f, nil
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Rotate makes a fresh signing key current (`brightspots keys rotate`). The old key stays in the
// JWKS for at least 24 hours; a running server in another process picks the new key up within a
// minute.
func (f *Member) Rotate(ctx context.Context) (kid string, err error) {
	return f.keys.rotate(ctx)
}

// Peers returns the configured peers.
func (f *Member) Peers() []PeerConfig {
	out := make([]PeerConfig, len(f.peers))
	for i, p := range f.peers {
		out[i] = p.cfg
	}
	return out
}

// Run runs one sync loop per peer, the notifier and the key reloader until ctx ends. It returns nil
// when ctx is cancelled. Replicas sharing a bucket run the sync loops one at a time: only while
// holding the sync lease (lease.go).
func (f *Member) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() {
		f.runLeased(ctx, func(ctx context.Context) {
			var loops sync.WaitGroup
			for _, p := range f.peers {
				loops.Go(func() { p.syncLoop(ctx) })
			}
			loops.Wait()
		})
	})
	wg.Go(func() { f.notifier(ctx) })
	wg.Go(func() {
		t := time.NewTicker(keyReloadEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := f.keys.reloadIfStale(ctx); err != nil && ctx.Err() == nil {
					f.log.Warn("reload node keys", "err", err)
				}
			}
		}
	})
	wg.Wait()
	return nil
}

// limitedTransport rate-limits requests (key-set refetches a forged kid could otherwise trigger on
// every request) and bounds response bodies.
type limitedTransport struct {
	base    http.RoundTripper
	limiter *rate.Limiter
	maxBody int64
}

var errRateLimited = errors.New("key fetch rate-limited")

func (t *limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !t.limiter.Allow() {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errRateLimited
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, n: t.maxBody}
	return resp, nil
}

type limitedBody struct {
	rc io.ReadCloser
	n  int64
}

var errBodyTooLarge = errors.New("response body too large")

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.rc.Read(p)
	b.n -= int64(n)
	return n, err
}
func (b *limitedBody) Close() error { return b.rc.Close() }
