package idp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/brightspots-nic/brightspots/storage"
)

// DefaultClientID is the client id of the node's own relying party.
const DefaultClientID = "brightspots-web"

// Custom claims the provider puts in ID tokens and userinfo.
const (
	ClaimRoles  = "roles"  // the account's roles beyond teacher: publisher, coordinator, admin
	ClaimTeams  = "teams"  // the account's PLC teams
	ClaimGroups = "groups" // free-form groups
)

// Config configures a Provider.
type Config struct {
	// Issuer is the provider's issuer URL: the node's public URL + "/idp". Its path is where the
	// Handler must be mounted.
	Issuer string
	// ClientID of the node's own relying party; DefaultClientID when empty.
	ClientID string
	// RedirectURIs the client may use (the node's <public URL>/auth/callback). Exact match.
	RedirectURIs []string
	// PostLogoutRedirectURIs the client may return to after RP-initiated logout. Exact match.
	PostLogoutRedirectURIs []string
	// ClientIP returns the client address of a request for login throttling; it should be the echo
	// server's IPExtractor, so X-Forwarded-For counts only from trusted proxies. Default: the
	// connection's remote address.
	ClientIP func(*http.Request) string
	// Now is the clock for throttling and the lifetimes of in-memory state; time.Now when nil.
	Now func() time.Time
	// Throttle tunes login throttling; zero fields take the defaults.
	Throttle Throttle
	// Site is the node the sign-in page belongs to: its look and name, and the way back to it.
	Site Site
}

// Site describes the site whose users sign in here, for the sign-in page. Zero fields are left out.
type Site struct {
	Name       string // the district's name, shown in the heading and the header
	URL        string // the site's public URL (no trailing slash): the header links back to it
	Stylesheet string // absolute URL of the site's stylesheet; its origin is allowed by the page's CSP
}

// Throttle tunes login throttling (see the package doc). Zero fields take the defaults.
type Throttle struct {
	// PairFree failures of one account from one address are free; after that each failure doubles
	// that pair's wait, from PairBackoff up to PairMaxBackoff. Defaults 5, 30s, 1h.
	PairFree       int
	PairBackoff    time.Duration
	PairMaxBackoff time.Duration
	// AccountBurst and AccountRefill bound the failures on one account from addresses that have not
	// signed in to it before (guessing spread over many addresses); an address the account signed
	// in from recently is not held to it, so strangers cannot lock the owner out. Defaults 20, 1m.
	AccountBurst  int
	AccountRefill time.Duration
	AddressBurst  int           // failures allowed at once per client address; default 30
	AddressRefill time.Duration // one more failure allowed per address every; default 10s
	MaxKeys       int           // accounts and addresses tracked at once; default 100000
}

func (t Throttle) withDefaults() Throttle {
	if t.PairFree <= 0 {
		t.PairFree = 5
	}
	if t.PairBackoff <= 0 {
		t.PairBackoff = 30 * time.Second
	}
	if t.PairMaxBackoff <= 0 {
		t.PairMaxBackoff = time.Hour
	}
	if t.AccountBurst <= 0 {
		t.AccountBurst = 20
	}
	if t.AccountRefill <= 0 {
		t.AccountRefill = time.Minute
	}
	if t.AddressBurst <= 0 {
		t.AddressBurst = 30
	}
	if t.AddressRefill <= 0 {
		t.AddressRefill = 10 * time.Second
	}
	if t.MaxKeys <= 0 {
		t.MaxKeys = 100_000
	}
	return t
}

// Provider is the embedded OpenID provider.
type Provider struct {
	issuer     string
	issuerPath string // path part of the issuer, "" or e.g. "/idp"
	clientID   string
	secret     string
	store      *store
	op         *op.Provider
	handler    http.Handler
	logger     *slog.Logger
	now        func() time.Time
	clientIP   func(*http.Request) string
	accounts   *throttle // failures per account from unfamiliar addresses
	addresses  *throttle // failures per address, across accounts
	pairs      *backoff  // failures per account and address
	familiar   *familiar // addresses each account signed in from
	csp        string
	site       Site
	crossOrig  *http.CrossOriginProtection
}

// New builds the provider: it loads (or, on first start, creates) the signing key and the client
// secret in bucket. It does not listen; mount Handler under the issuer's path.
func New(ctx context.Context, cfg Config, bucket storage.Bucket, logger *slog.Logger) (*Provider, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || iss.Host == "" || (iss.Scheme != "https" && iss.Scheme != "http") || iss.RawQuery != "" || iss.Fragment != "" {
		return nil, fmt.Errorf("idp: issuer %q must be an absolute http(s) URL without query or fragment", cfg.Issuer)
	}
	issuer := trimSlash(cfg.Issuer)
	if len(cfg.RedirectURIs) == 0 {
		return nil, errors.New("idp: at least one redirect URI is needed")
	}
	formOrigins := []string{"'self'"}
	for _, u := range append(append([]string(nil), cfg.RedirectURIs...), cfg.PostLogoutRedirectURIs...) {
		p, err := url.Parse(u)
		if err != nil || p.Host == "" || (p.Scheme != "https" && p.Scheme != "http") || p.Fragment != "" {
			return nil, fmt.Errorf("idp: redirect URI %q must be an absolute http(s) URL without fragment", u)
		}
		formOrigins = append(formOrigins, p.Scheme+"://"+p.Host)
	}
	clientID := cfg.ClientID
	if clientID == "" {
		clientID = DefaultClientID
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	clientIP := cfg.ClientIP
	if clientIP == nil {
		clientIP = remoteIP
	}
	key, err := loadSigningKey(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	secret, err := loadClientSecret(ctx, bucket, clientID)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	issuerPath := trimSlash(iss.EscapedPath())
	c := &client{
		id:                     clientID,
		redirectURIs:           cfg.RedirectURIs,
		postLogoutRedirectURIs: cfg.PostLogoutRedirectURIs,
		loginPath:              issuerPath + "/login",
	}
	st := newStore(bucket, c, secret, key, now)

	// The crypto key protects codes and opaque access tokens, which live only in this process's
	// memory, so a fresh random key per process is right.
	opCfg := &op.Config{
		CodeMethodS256:     true,
		SupportedUILocales: []language.Tag{language.English},
		SupportedScopes:    []string{"openid", "email", "profile"},
	}
	if _, err := rand.Read(opCfg.CryptoKey[:]); err != nil {
		return nil, fmt.Errorf("idp: crypto key: %w", err)
	}
	opCfg.CryptoKeyId = randomHex(4)
	// No cross-origin reads: the node's own pages talk to the provider from its own origin, and
	// the library's default would answer any Origin with credentials allowed.
	opts := []op.Option{op.WithCORSOptions(&cors.Options{AllowOriginFunc: func(string) bool { return false }})}
	if iss.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
		if !isLoopbackHost(iss.Hostname()) {
			logger.Warn("embedded OpenID provider served over plain http on a non-loopback host; use https", "issuer", issuer)
		}
	}
	provider, err := op.NewProvider(opCfg, st, op.StaticIssuer(issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("idp: provider: %w", err)
	}
	thr := cfg.Throttle.withDefaults()
	p := &Provider{
		issuer:     issuer,
		issuerPath: issuerPath,
		clientID:   clientID,
		secret:     secret,
		store:      st,
		op:         provider,
		logger:     logger,
		now:        now,
		clientIP:   clientIP,
		accounts:   newThrottle(thr.AccountBurst, thr.AccountRefill, thr.MaxKeys),
		addresses:  newThrottle(thr.AddressBurst, thr.AddressRefill, thr.MaxKeys),
		pairs:      newBackoff(thr.PairFree, thr.PairBackoff, thr.PairMaxBackoff, thr.MaxKeys),
		familiar:   newFamiliar(30*24*time.Hour, 5, thr.MaxKeys),
		csp: "default-src 'none'; form-action " + strings.Join(dedupe(formOrigins), " ") +
			"; frame-ancestors 'none'; base-uri 'none'" + styleSource(cfg.Site.Stylesheet),
		site:      cfg.Site,
		crossOrig: http.NewCrossOriginProtection(),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", p.loginPage)
	mux.HandleFunc("POST /login", p.loginSubmit)
	mux.Handle("/", provider)
	p.handler = mux
	if issuerPath != "" {
		p.handler = http.StripPrefix(issuerPath, mux)
	}
	return p, nil
}

// Handler serves the provider: discovery, authorize, token, userinfo, keys, end_session and the
// sign-in page. Mount it at the issuer's path (e.g. e.Any("/idp/*", echo.WrapHandler(p.Handler())));
// it strips that path itself, and discovery advertises absolute URLs under the issuer.
func (p *Provider) Handler() http.Handler { return p.handler }

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.issuer }

// ClientID is the client id of the node's own relying party.
func (p *Provider) ClientID() string { return p.clientID }

// ClientSecret is that client's secret (generated on first start and kept in the bucket). Hand it to
// web/auth only; never log it.
func (p *Provider) ClientSecret() string { return p.secret }

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func dedupe(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := ss[:0:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// styleSource is the CSP directive that lets the sign-in page load the site's stylesheet (and
// nothing else): its origin only.
func styleSource(stylesheet string) string {
	u, err := url.Parse(stylesheet)
	if stylesheet == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return "; style-src " + u.Scheme + "://" + u.Host
}
