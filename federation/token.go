package federation

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/brightspots-nic/brightspots/practices"
)

// Node tokens (docs/protocol.md, "Node tokens").
const (
	nodeTokenType   = "brightspots-node+jwt"
	tokenLifetime   = 60 * time.Second  // what this node mints
	maxLifetime     = 120 * time.Second // the most it accepts
	clockLeeway     = 30 * time.Second
	replayWindow    = 5 * time.Minute
	maxTokenBytes   = 8 << 10
	replayCacheSize = 200_000 // bounded memory: about 40 MB at worst; a full cache refuses, never forgets early
)

// nodeClaims are the claims of a node token.
type nodeClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience any    `json:"aud"` // one string when minted; read loosely, checked strictly
	IssuedAt *int64 `json:"iat"`
	Expiry   *int64 `json:"exp"`
	ID       string `json:"jti"`
	Method   string `json:"htm"`
	URL      string `json:"htu"`
	// IdP access tokens name the client in one of these.
	ClientID string `json:"client_id,omitempty"`
	AZP      string `json:"azp,omitempty"`
}

// mintToken makes a node token for a request of method to u (a full URL; its query is dropped) on
// the peer at aud.
func (f *Member) mintToken(aud, method, u string) (string, error) {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", fmt.Errorf("token id: %w", err)
	}
	now := f.now().Unix()
	exp := now + int64(tokenLifetime/time.Second)
	payload, err := json.Marshal(struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Aud string `json:"aud"`
		Iat int64  `json:"iat"`
		Exp int64  `json:"exp"`
		Jti string `json:"jti"`
		Htm string `json:"htm"`
		Htu string `json:"htu"`
	}{f.node.URL, f.node.URL, aud, now, exp, base64.RawURLEncoding.EncodeToString(jti[:]), method, u})
	if err != nil {
		return "", err
	}
	return f.keys.sign(nodeTokenType, payload)
}

// authError is a refused token: reason is the metric label and the log field; err the detail logged.
type authError struct {
	reason string
	err    error
}

func (e *authError) Error() string {
	if e.err == nil {
		return "node token refused: " + e.reason
	}
	return "node token refused: " + e.reason + ": " + e.err.Error()
}
func (e *authError) Unwrap() error { return e.err }

func refuse(reason string, format string, args ...any) error {
	var err error
	if format != "" {
		err = fmt.Errorf(format, args...)
	}
	return &authError{reason: reason, err: err}
}

// Reasons a token is refused (the label of brightspots_federation_tokens_refused_total).
var refuseReasons = []string{
	"missing", "malformed", "unknown_issuer", "typ", "keys_unavailable", "signature", "audience",
	"expired", "lifetime", "issued_in_future", "subject", "htm", "htu", "jti", "replay", "replay_cache_full",
	"client_id",
}

// Authenticate verifies the node token (or configured IdP access token) of r, following docs/protocol.md
// steps 1–3, and returns the peer it identifies. Errors are *authError; the handler answers 401.
func (f *Member) Authenticate(r *http.Request) (practices.Principal, error) {
	p, err := f.authenticate(r)
	if err != nil {
		var ae *authError
		if !errors.As(err, &ae) {
			ae = &authError{reason: "malformed", err: err}
		}
		f.metrics.refused.WithLabelValues(ae.reason).Inc()
		return practices.Principal{}, ae
	}
	return p, nil
}

func (f *Member) authenticate(r *http.Request) (practices.Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, raw, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return practices.Principal{}, refuse("missing", "")
	}
	if len(raw) > maxTokenBytes {
		return practices.Principal{}, refuse("malformed", "token of %d bytes", len(raw))
	}
	// Step 1: read iss without trusting it. Parsing restricts the algorithms first, so "none", HS256
	// and every other algorithm are refused before anything else happens.
	tok, err := jwt.ParseSigned(raw, append(slices.Clone(nodeAlgs), jose.RS256))
	if err != nil {
		return practices.Principal{}, refuse("malformed", "%v", err)
	}
	if len(tok.Headers) != 1 {
		return practices.Principal{}, refuse("malformed", "%d signatures", len(tok.Headers))
	}
	var c nodeClaims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return practices.Principal{}, refuse("malformed", "claims: %v", err)
	}
	if p, ok := f.byURL[c.Issuer]; ok {
		if jose.SignatureAlgorithm(tok.Headers[0].Algorithm) == jose.RS256 {
			return practices.Principal{}, refuse("malformed", "algorithm RS256 in a node token")
		}
		return f.verifyNodeToken(r, p, raw, tok, c)
	}
	if p, ok := f.byIdP[idpKey{c.Issuer, clientOf(c)}]; ok {
		return f.verifyIdPToken(r, p, raw, c)
	}
	// Never run discovery for an issuer taken from a token.
	return practices.Principal{}, refuse("unknown_issuer", "issuer %q", truncate(c.Issuer, 200))
}

func clientOf(c nodeClaims) string {
	if c.ClientID != "" {
		return c.ClientID
	}
	return c.AZP
}

func (f *Member) verifyNodeToken(r *http.Request, p *peer, raw string, tok *jwt.JSONWebToken, c nodeClaims) (practices.Principal, error) {
	if typ, _ := tok.Headers[0].ExtraHeaders[jose.HeaderType].(string); typ != nodeTokenType {
		return practices.Principal{}, refuse("typ", "typ %q", truncate(typ, 60))
	}
	// Step 2: the peer's verifier, built once: issuer, JWKS from its discovery, our URL as audience,
	// EdDSA and ES256 only.
	v, err := p.nodeVerifier(r.Context())
	if err != nil {
		return practices.Principal{}, refuse("keys_unavailable", "peer %s: %v", p.cfg.ID, err)
	}
	idt, err := v.Verify(r.Context(), raw)
	if err != nil {
		return practices.Principal{}, f.classifyVerifyError(err, c)
	}
	var vc nodeClaims
	if err := idt.Claims(&vc); err != nil {
		return practices.Principal{}, refuse("malformed", "claims: %v", err)
	}
	// Step 3, on the verified claims.
	if aud, ok := vc.Audience.(string); !ok || aud != f.node.URL {
		return practices.Principal{}, refuse("audience", "aud is not the one string %q", f.node.URL)
	}
	if vc.Subject != vc.Issuer {
		return practices.Principal{}, refuse("subject", "sub %q is not iss", truncate(vc.Subject, 200))
	}
	if err := f.checkTimes(vc); err != nil {
		return practices.Principal{}, err
	}
	if vc.Method != r.Method {
		return practices.Principal{}, refuse("htm", "htm %q for a %s request", truncate(vc.Method, 20), r.Method)
	}
	if want := f.node.URL + r.URL.EscapedPath(); vc.URL != want {
		return practices.Principal{}, refuse("htu", "htu %q for %q", truncate(vc.URL, 300), want)
	}
	if b, err := base64.RawURLEncoding.DecodeString(vc.ID); err != nil || len(b) < 16 || len(vc.ID) > 64 {
		return practices.Principal{}, refuse("jti", "jti is not 128 random bits in base64url")
	}
	if err := f.replay.check(vc.Issuer+"\x00"+vc.ID, f.now()); err != nil {
		return practices.Principal{}, err
	}
	return p.principal(), nil
}

// checkTimes: iat and exp present, exp − iat ≤ 120 s, not issued in the future and not expired,
// each with at most 30 s of leeway.
func (f *Member) checkTimes(c nodeClaims) error {
	if c.IssuedAt == nil || c.Expiry == nil {
		return refuse("lifetime", "iat or exp missing")
	}
	iat, exp := time.Unix(*c.IssuedAt, 0), time.Unix(*c.Expiry, 0)
	if !exp.After(iat) || exp.Sub(iat) > maxLifetime {
		return refuse("lifetime", "exp − iat = %v", exp.Sub(iat))
	}
	now := f.now()
	if iat.After(now.Add(clockLeeway)) {
		return refuse("issued_in_future", "iat %v is after now %v", iat, now)
	}
	if now.After(exp.Add(clockLeeway)) {
		return refuse("expired", "exp %v", exp)
	}
	return nil
}

// classifyVerifyError names why go-oidc refused a token, for the log and the metric only: what is
// accepted is decided by go-oidc and the checks above, never by this function.
func (f *Member) classifyVerifyError(err error, unverified nodeClaims) error {
	var exp *oidc.TokenExpiredError
	switch {
	case errors.As(err, &exp):
		return refuse("expired", "%v", err)
	case !audienceContains(unverified.Audience, f.node.URL):
		return refuse("audience", "%v", err)
	default:
		return refuse("signature", "%v", err)
	}
}

func audienceContains(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok && s == want {
				return true
			}
		}
	}
	return false
}

func (f *Member) verifyIdPToken(r *http.Request, p *peer, raw string, c nodeClaims) (practices.Principal, error) {
	v, err := p.idpVerifier(r.Context())
	if err != nil {
		return practices.Principal{}, refuse("keys_unavailable", "peer %s IdP: %v", p.cfg.ID, err)
	}
	idt, err := v.Verify(r.Context(), raw)
	if err != nil {
		var exp *oidc.TokenExpiredError
		if errors.As(err, &exp) {
			return practices.Principal{}, refuse("expired", "%v", err)
		}
		if !audienceContains(c.Audience, p.cfg.IdP.Audience) {
			return practices.Principal{}, refuse("audience", "%v", err)
		}
		return practices.Principal{}, refuse("signature", "%v", err)
	}
	var vc nodeClaims
	if err := idt.Claims(&vc); err != nil {
		return practices.Principal{}, refuse("malformed", "claims: %v", err)
	}
	if clientOf(vc) != p.cfg.IdP.ClientID {
		return practices.Principal{}, refuse("client_id", "client %q", truncate(clientOf(vc), 200))
	}
	if vc.IssuedAt != nil && time.Unix(*vc.IssuedAt, 0).After(f.now().Add(clockLeeway)) {
		return practices.Principal{}, refuse("issued_in_future", "")
	}
	return p.principal(), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// replayCache remembers (iss, jti) pairs for replayWindow. Memory is bounded: when full of pairs
// still inside the window it refuses new tokens rather than forget one early.
type replayCache struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	queue []replayEntry // in insertion (and so time) order
	head  int
	max   int
}

type replayEntry struct {
	key string
	at  time.Time
}

func newReplayCache(max int) *replayCache {
	return &replayCache{seen: map[string]time.Time{}, max: max}
}

func (c *replayCache) check(key string, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.head < len(c.queue) && now.Sub(c.queue[c.head].at) > replayWindow {
		e := c.queue[c.head]
		if t, ok := c.seen[e.key]; ok && t.Equal(e.at) {
			delete(c.seen, e.key)
		}
		c.queue[c.head] = replayEntry{}
		c.head++
	}
	if c.head > len(c.queue)/2 {
		c.queue = append(c.queue[:0], c.queue[c.head:]...)
		c.head = 0
	}
	if _, ok := c.seen[key]; ok {
		return refuse("replay", "jti seen in the last %v", replayWindow)
	}
	if len(c.seen) >= c.max {
		return refuse("replay_cache_full", "%d tokens in the last %v", len(c.seen), replayWindow)
	}
	c.seen[key] = now
	c.queue = append(c.queue, replayEntry{key, now})
	return nil
}

// nodeVerifier returns the peer's go-oidc verifier, running discovery the first time. Only configured
// peers get here, so only configured issuers are ever contacted; failed discovery is retried no more
// often than the peer's key-fetch rate limit allows.
func (p *peer) nodeVerifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.verifier != nil {
		return p.verifier, nil
	}
	// Not cut short when the request that needs it gives up: under load a caller's timeout would
	// cancel every discovery in turn (each spending the key client's rate limit), and the peer's
	// requests would never verify. The key client's own timeout bounds it.
	ks, err := p.discover(context.WithoutCancel(ctx), p.cfg.URL, true)
	if err != nil {
		return nil, err
	}
	p.keySet = ks
	p.verifier = oidc.NewVerifier(p.cfg.URL, ks, &oidc.Config{
		ClientID:             p.f.node.URL,
		SupportedSigningAlgs: []string{AlgEdDSA, AlgES256},
		Now:                  func() time.Time { return p.f.now().Add(-clockLeeway) },
	})
	return p.verifier, nil
}

// keys returns the peer's key set (for verifying its signed documents).
func (p *peer) keys(ctx context.Context) (*oidc.RemoteKeySet, error) {
	if _, err := p.nodeVerifier(ctx); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keySet, nil
}

func (p *peer) idpVerifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idpVer != nil {
		return p.idpVer, nil
	}
	ks, err := p.discover(ctx, p.cfg.IdP.Issuer, false)
	if err != nil {
		return nil, err
	}
	p.idpVer = oidc.NewVerifier(p.cfg.IdP.Issuer, ks, &oidc.Config{
		ClientID:             p.cfg.IdP.Audience,
		SupportedSigningAlgs: []string{AlgEdDSA, AlgES256, string(jose.RS256)},
		Now:                  func() time.Time { return p.f.now().Add(-clockLeeway) },
	})
	return p.idpVer, nil
}

// discover runs OpenID discovery for issuer through the peer's rate-limited key client and returns a
// key set for its jwks_uri. For a node (sameOrigin) the jwks_uri must be on the node's own origin.
func (p *peer) discover(ctx context.Context, issuer string, sameOrigin bool) (*oidc.RemoteKeySet, error) {
	cctx := oidc.ClientContext(ctx, p.keyClient)
	prov, err := oidc.NewProvider(cctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("discovery for %s: %w", issuer, err)
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := prov.Claims(&meta); err != nil || meta.JWKSURI == "" {
		return nil, fmt.Errorf("discovery for %s: no jwks_uri", issuer)
	}
	if sameOrigin && !strings.HasPrefix(meta.JWKSURI, issuer+"/") {
		return nil, fmt.Errorf("discovery for %s: jwks_uri %q is not on the node's origin", issuer, meta.JWKSURI)
	}
	if !sameOrigin {
		if err := checkIssuerURL(meta.JWKSURI); err != nil {
			return nil, fmt.Errorf("discovery for %s: jwks_uri %w", issuer, err)
		}
	}
	return oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), p.keyClient), meta.JWKSURI), nil
}
