package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/brightspots-nic/brightspots/storage"
)

// Timeouts for talking to the provider.
const (
	providerTimeout = 15 * time.Second
	loginTTL        = 10 * time.Minute // from /login to /auth/callback
)

// Authenticator signs users in with OpenID Connect and keeps their sessions.
type Authenticator struct {
	cfg           Config
	public        *url.URL
	bucket        storage.Bucket
	client        *http.Client
	logger        *slog.Logger
	now           func() time.Time
	sealer        *sealer
	csrfKey       []byte
	secure        bool
	sessionCookie string
	loginCookie   string
	crossOrigin   *http.CrossOriginProtection
	// providerPath is the path of an issuer served on the node's own origin (the embedded
	// provider's "/idp"), whose requests are the provider's business, not the session's; or "".
	providerPath string

	mu   sync.Mutex
	disc *discovery // nil until discovery first succeeds
}

// discovery is what the provider's discovery document gave us.
type discovery struct {
	verifier   *oidc.IDTokenVerifier
	oauth      oauth2.Config
	endSession string // RP-initiated logout endpoint, or ""
}

// New builds the Authenticator. It reads (creating on first start) the node's auth key from bucket,
// but does not contact the provider: discovery happens on the first sign-in and is retried on every
// sign-in until it succeeds, so a provider that is briefly down, or the embedded provider on a
// listener that is not yet serving, does not stop the node from starting.
//
// httpClient is used for every request to the provider; nil means a client with a 15 s timeout.
// Whatever the client, each request to the provider is bounded by 15 s.
func New(ctx context.Context, cfg Config, bucket storage.Bucket, httpClient *http.Client, logger *slog.Logger) (*Authenticator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: providerTimeout}
	}
	public, _ := url.Parse(trimSlash(cfg.PublicURL)) // checked by withDefaults
	master, err := loadMasterKey(ctx, bucket)
	if err != nil {
		return nil, err
	}
	s, err := newSealer(deriveKey(master, "cookie encryption"))
	if err != nil {
		return nil, err
	}
	providerPath := ""
	if iss, _ := url.Parse(cfg.OIDC.Issuer); iss.Scheme == public.Scheme && iss.Host == public.Host {
		providerPath = trimSlash(iss.EscapedPath())
	}
	secure := secureCookies(public)
	if !secure {
		logger.Warn("public URL is plain http on a non-loopback host: session cookies cannot be Secure; serve the node over https",
			"public_url", public.String())
	}
	return &Authenticator{
		cfg:           cfg,
		public:        public,
		bucket:        bucket,
		client:        httpClient,
		logger:        logger,
		now:           time.Now,
		sealer:        s,
		csrfKey:       deriveKey(master, "csrf"),
		secure:        secure,
		sessionCookie: cookieName(sessionCookieName, secure),
		loginCookie:   cookieName(loginCookieName, secure),
		crossOrigin:   http.NewCrossOriginProtection(),
		providerPath:  providerPath,
	}, nil
}

// Register adds the sign-in routes: GET /login (?next= a local path to return to), GET
// /auth/callback, and POST /logout (which needs the session's CSRF token).
func (a *Authenticator) Register(e *echo.Echo) {
	e.GET(LoginPath, a.handleLogin)
	e.GET(CallbackPath, a.handleCallback)
	e.POST(LogoutPath, a.handleLogout)
}

// forProvider reports whether r is addressed to a provider served on the node's own origin (the
// embedded one under /idp): it authenticates users itself, checks origins itself, and the node's
// session and CSRF token mean nothing to it.
func (a *Authenticator) forProvider(r *http.Request) bool {
	return a.providerPath != "" && strings.HasPrefix(r.URL.Path, a.providerPath+"/")
}

// IssuerOrigin is the provider's origin (scheme://host), for the form-action of the pages' CSP:
// sign-out posts a form whose answer redirects to the provider.
func (a *Authenticator) IssuerOrigin() string {
	u, _ := url.Parse(a.cfg.OIDC.Issuer)
	return u.Scheme + "://" + u.Host
}

// providerContext bounds ctx for a call to the provider and makes oauth2 and go-oidc use our client.
func (a *Authenticator) providerContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, providerTimeout)
	return oidc.ClientContext(ctx, a.client), cancel
}

// discover returns the provider's configuration, fetching it on first use. Failures are not
// remembered, so the next sign-in tries again.
func (a *Authenticator) discover(ctx context.Context) (*discovery, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.disc != nil {
		return a.disc, nil
	}
	pctx, cancel := a.providerContext(ctx)
	defer cancel()
	// go-oidc checks that the document's issuer is exactly the configured one. Its key set fetches
	// keys with the client from this context, not with the context itself, so cancel is safe.
	provider, err := oidc.NewProvider(pctx, a.cfg.OIDC.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover provider %s: %w", a.cfg.OIDC.Issuer, err)
	}
	var extra struct {
		EndSession string   `json:"end_session_endpoint"`
		Algs       []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := provider.Claims(&extra); err != nil {
		return nil, fmt.Errorf("discover provider %s: %w", a.cfg.OIDC.Issuer, err)
	}
	if u, err := url.Parse(extra.EndSession); extra.EndSession != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
		a.logger.Warn("provider's end_session_endpoint is not a usable URL; signing out locally only")
		extra.EndSession = ""
	}
	d := &discovery{
		verifier: provider.Verifier(&oidc.Config{
			ClientID: a.cfg.OIDC.ClientID,
			// Only asymmetric algorithms: never "none", never an HMAC keyed with the client secret.
			SupportedSigningAlgs: asymmetric(extra.Algs),
			Now:                  func() time.Time { return a.now() },
		}),
		oauth: oauth2.Config{
			ClientID:     a.cfg.OIDC.ClientID,
			ClientSecret: a.cfg.OIDC.ClientSecret,
			Endpoint:     provider.Endpoint(),
			RedirectURL:  a.cfg.RedirectURL(),
			Scopes:       a.cfg.OIDC.Scopes,
		},
		endSession: extra.EndSession,
	}
	a.disc = d
	a.logger.Info("discovered OpenID provider", "issuer", a.cfg.OIDC.Issuer)
	return d, nil
}

func asymmetric(algs []string) []string {
	allowed := []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA}
	var out []string
	for _, a := range algs {
		if slices.Contains(allowed, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return []string{oidc.RS256} // the OIDC default when the provider names none
	}
	return out
}

// pendingLogin is a sign-in in progress, kept in the bucket between /login and /auth/callback
// behind the login cookie, so the callback may land on any replica.
type pendingLogin struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"` // PKCE code verifier
	Next     string    `json:"next"`
	Created  time.Time `json:"created"`
}

func loginKey(id string) string     { return loginPrefix + id + ".json" }
func loginUsedKey(id string) string { return loginPrefix + id + ".used" }

func (a *Authenticator) handleLogin(c echo.Context) error {
	ctx := c.Request().Context()
	next := SafeNext(c.QueryParam("next"))
	d, err := a.discover(ctx)
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "Sign-in is unavailable: the identity provider cannot be reached. Try again in a minute.").WithInternal(err)
	}
	p := pendingLogin{State: randomHex(32), Nonce: randomHex(32), Verifier: oauth2.GenerateVerifier(), Next: next, Created: a.now().UTC()}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode pending sign-in: %w", err)
	}
	id := randomHex(32)
	if _, err := a.bucket.Put(ctx, loginKey(id), bytes.NewReader(body), int64(len(body)),
		storage.PutOptions{IfNoneMatch: true, ContentType: "application/json"}); err != nil {
		return fmt.Errorf("store pending sign-in: %w", err)
	}
	a.setCookie(c.Response(), a.loginCookie, a.sealer.seal(a.loginCookie, []byte(id)), loginTTL)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Redirect(http.StatusFound, d.oauth.AuthCodeURL(p.State, oauth2.S256ChallengeOption(p.Verifier), oidc.Nonce(p.Nonce)))
}

var (
	errLoginUsed    = errors.New("auth: sign-in already completed")
	errLoginExpired = errors.New("auth: sign-in expired")
)

// consumeLogin takes the pending sign-in id out of the bucket, at most once across all replicas:
// a create-only marker decides the single winner; the marker stays until Prune so a replay finds it.
func (a *Authenticator) consumeLogin(ctx context.Context, id string) (pendingLogin, error) {
	var p pendingLogin
	if _, err := a.bucket.Put(ctx, loginUsedKey(id), strings.NewReader(""), 0, storage.PutOptions{IfNoneMatch: true}); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return p, errLoginUsed
		}
		return p, fmt.Errorf("consume pending sign-in: %w", err)
	}
	rc, _, err := a.bucket.Get(ctx, loginKey(id))
	if errors.Is(err, storage.ErrNotFound) {
		return p, errLoginExpired
	}
	if err != nil {
		return p, fmt.Errorf("consume pending sign-in: %w", err)
	}
	err = json.NewDecoder(io.LimitReader(rc, 16<<10)).Decode(&p)
	rc.Close()
	if err != nil {
		return p, fmt.Errorf("consume pending sign-in: decode: %w", err)
	}
	if err := a.bucket.Delete(ctx, loginKey(id)); err != nil {
		a.logger.Error("delete pending sign-in", "err", err)
	}
	if a.now().Sub(p.Created) > loginTTL {
		return p, errLoginExpired
	}
	return p, nil
}

func (a *Authenticator) handleCallback(c echo.Context) error {
	r, w := c.Request(), c.Response()
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	retry := "Sign-in did not complete. Go back and choose “Sign in” again."

	ck, err := r.Cookie(a.loginCookie)
	if err != nil {
		return a.refuse(http.StatusBadRequest, retry, errors.New("callback without login cookie"))
	}
	a.clearCookie(w, a.loginCookie) // whatever happens next, this sign-in attempt is over
	raw, err := a.sealer.open(a.loginCookie, ck.Value)
	if err != nil || !validID(string(raw)) {
		return a.refuse(http.StatusBadRequest, retry, errors.New("login cookie does not open"))
	}
	p, err := a.consumeLogin(ctx, string(raw))
	if err != nil {
		if errors.Is(err, errLoginUsed) || errors.Is(err, errLoginExpired) {
			return a.refuse(http.StatusBadRequest, retry, err)
		}
		return err
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(p.State)) != 1 {
		return a.refuse(http.StatusBadRequest, retry, errors.New("callback state does not match"))
	}
	if e := q.Get("error"); e != "" {
		return a.refuse(http.StatusUnauthorized, "The identity provider did not sign you in.", fmt.Errorf("provider returned error %.64q", e))
	}
	code := q.Get("code")
	if code == "" {
		return a.refuse(http.StatusBadRequest, retry, errors.New("callback without code"))
	}
	d, err := a.discover(ctx)
	if err != nil {
		return a.refuse(http.StatusServiceUnavailable, "Sign-in is unavailable: the identity provider cannot be reached.", err)
	}
	pctx, cancel := a.providerContext(ctx)
	defer cancel()
	tok, err := d.oauth.Exchange(pctx, code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return a.refuse(http.StatusUnauthorized, retry, fmt.Errorf("exchange code: %w", redactOAuthError(err)))
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return a.refuse(http.StatusUnauthorized, retry, errors.New("token response without id_token"))
	}
	idt, err := d.verifier.Verify(pctx, rawID)
	if err != nil {
		return a.refuse(http.StatusUnauthorized, retry, fmt.Errorf("verify ID token: %w", err))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(p.Nonce)) != 1 {
		return a.refuse(http.StatusUnauthorized, retry, errors.New("ID token nonce does not match"))
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return a.refuse(http.StatusUnauthorized, retry, fmt.Errorf("ID token claims: %w", err))
	}
	if len(idt.Audience) > 1 {
		if azp, _ := claims["azp"].(string); azp != a.cfg.OIDC.ClientID {
			return a.refuse(http.StatusUnauthorized, retry, errors.New("ID token for several audiences without our azp"))
		}
	}
	principal, err := a.cfg.principal(claims)
	if errors.Is(err, ErrNotAllowed) {
		a.logger.Info("sign-in refused", "reason", "domain not allowed", "subject", idt.Subject)
		return a.refuse(http.StatusForbidden, "Your account is not one this district's site admits.", err)
	}
	if err != nil {
		return a.refuse(http.StatusUnauthorized, retry, err)
	}
	if err := a.startSession(ctx, w, r, principal, rawID); err != nil {
		return err
	}
	a.logger.Info("signed in", "subject", principal.Subject, "roles", principal.Roles)
	return c.Redirect(http.StatusSeeOther, p.Next)
}

// refuse logs why a sign-in failed (never with a code, token or cookie in it) and returns the
// error the client sees.
func (a *Authenticator) refuse(status int, message string, err error) error {
	a.logger.Warn("sign-in refused", "status", status, "err", err)
	return echo.NewHTTPError(status, message).WithInternal(err)
}

// redactOAuthError keeps the provider's error code and drops everything else (the response body may
// echo the code or other secrets).
func redactOAuthError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			return fmt.Errorf("provider answered %d %.64q", re.Response.StatusCode, re.ErrorCode)
		}
		return fmt.Errorf("provider answered %d", re.Response.StatusCode)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("token request: %w", ue.Err)
	}
	return errors.New("token request failed")
}

func (a *Authenticator) handleLogout(c echo.Context) error {
	r, w := c.Request(), c.Response()
	ctx := r.Context()
	s := sessionFrom(ctx)
	if s == nil {
		s, _ = a.resolve(nil, r)
	}
	if s == nil {
		a.clearCookie(w, a.sessionCookie)
		return c.Redirect(http.StatusSeeOther, "/")
	}
	if err := a.checkCSRF(r, s); err != nil {
		return err
	}
	if err := a.bucket.Delete(ctx, sessionKeyFor(s.sid)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	a.clearCookie(w, a.sessionCookie)
	a.logger.Info("signed out", "subject", s.record.Principal.Subject)

	// RP-initiated logout, when the provider offers it (the session may come from another replica,
	// so this replica may still have to discover). If the provider cannot be reached, the local
	// sign-out above stands on its own.
	d, err := a.discover(ctx)
	if err != nil || d.endSession == "" {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	u, err := url.Parse(d.endSession)
	if err != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	v := u.Query()
	if s.record.IDToken != "" {
		v.Set("id_token_hint", s.record.IDToken)
	}
	v.Set("client_id", a.cfg.OIDC.ClientID)
	v.Set("post_logout_redirect_uri", a.cfg.PostLogoutURL())
	u.RawQuery = v.Encode()
	return c.Redirect(http.StatusSeeOther, u.String())
}

// SafeNext returns next if it is a local path (one that stays on this site), otherwise "/". It
// refuses absolute and scheme-relative URLs ("//evil", "/\evil"), control characters and anything
// that does not start with a single "/".
func SafeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' {
		return "/"
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return u.RequestURI()
}

// loadMasterKey returns the node's auth master key (32 random bytes), creating it on first start.
// Replicas race with a create-only put and all end up with the winner's key.
func loadMasterKey(ctx context.Context, bucket storage.Bucket) ([]byte, error) {
	type record struct {
		Key string `json:"key"`
	}
	for range 3 {
		rc, _, err := bucket.Get(ctx, masterKeyKey)
		if err == nil {
			var rec record
			err := json.NewDecoder(io.LimitReader(rc, 4096)).Decode(&rec)
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("auth key %s: decode: %w", masterKeyKey, err)
			}
			key, err := base64.StdEncoding.DecodeString(rec.Key)
			if err != nil || len(key) != 32 {
				return nil, fmt.Errorf("auth key %s: not 32 base64 bytes", masterKeyKey)
			}
			return key, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("auth key %s: %w", masterKeyKey, err)
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("auth key: %w", err)
		}
		body, _ := json.Marshal(record{Key: base64.StdEncoding.EncodeToString(key)})
		_, err = bucket.Put(ctx, masterKeyKey, bytes.NewReader(body), int64(len(body)),
			storage.PutOptions{IfNoneMatch: true, ContentType: "application/json"})
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, storage.ErrConflict) {
			return nil, fmt.Errorf("auth key %s: store: %w", masterKeyKey, err)
		}
	}
	return nil, fmt.Errorf("auth key %s: gave up after repeated conflicts", masterKeyKey)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}
