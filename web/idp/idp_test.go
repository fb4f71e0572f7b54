package idp_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
	"github.com/brightspots-nic/brightspots/web/idp"
)

const redirectURI = "http://rp.test/auth/callback"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newBucket(t *testing.T) storage.Bucket {
	t.Helper()
	b, err := fs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// env is a provider served under /idp on a real listener, and a relying party's view of it.
type env struct {
	t      *testing.T
	URL    string
	P      *idp.Provider
	Bucket storage.Bucket
	Clock  *clock
	OAuth  oauth2.Config
	http   *http.Client // does not follow redirects
}

func startEnv(t *testing.T, cfg idp.Config, bucket storage.Bucket) *env {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	u := "http://" + srv.Listener.Addr().String()
	if bucket == nil {
		bucket = newBucket(t)
	}
	clk := &clock{t: time.Now()}
	cfg.Issuer = u + "/idp"
	cfg.RedirectURIs = []string{redirectURI}
	cfg.Now = clk.Now
	p, err := idp.New(context.Background(), cfg, bucket, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/idp/", p.Handler())
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{
		t: t, URL: u, P: p, Bucket: bucket, Clock: clk,
		OAuth: oauth2.Config{
			ClientID: p.ClientID(), ClientSecret: p.ClientSecret(), RedirectURL: redirectURI,
			Endpoint: oauth2.Endpoint{AuthURL: u + "/idp/authorize", TokenURL: u + "/idp/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
			Scopes:   []string{"openid", "email", "profile"},
		},
		http: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
}

type response struct {
	Status int
	Header http.Header
	Body   string
}

func (e *env) do(req *http.Request) response {
	e.t.Helper()
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (e *env) get(u string) response {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return e.do(req)
}

func (e *env) post(u string, v url.Values, header map[string]string) response {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return e.do(req)
}

var idRe = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// authorize starts a code flow with PKCE and returns the auth request id from the sign-in page.
func (e *env) authorize(verifier, nonce string) string {
	e.t.Helper()
	r := e.get(e.OAuth.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)))
	if r.Status != http.StatusFound {
		e.t.Fatalf("authorize: %d %s", r.Status, r.Body)
	}
	loc, _ := url.Parse(e.URL)
	loc, _ = loc.Parse(r.Header.Get("Location"))
	page := e.get(loc.String())
	m := idRe.FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		e.t.Fatalf("sign-in page: %d %s", page.Status, page.Body)
	}
	return html.UnescapeString(m[1])
}

func (e *env) login(id, email, password string, header map[string]string) response {
	return e.post(e.URL+"/idp/login", url.Values{"authRequestID": {id}, "email": {email}, "password": {password}}, header)
}

// code completes a sign-in and returns the code the provider sends to the redirect URI.
func (e *env) code(id, email, password string) string {
	e.t.Helper()
	r := e.login(id, email, password, nil)
	if r.Status != http.StatusSeeOther {
		e.t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	cb := e.get(e.URL + r.Header.Get("Location"))
	loc, err := url.Parse(cb.Header.Get("Location"))
	if cb.Status != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), redirectURI+"?") {
		e.t.Fatalf("authorize callback: %d to %q: %s", cb.Status, cb.Header.Get("Location"), cb.Body)
	}
	if loc.Query().Get("state") != "st" {
		e.t.Fatalf("state not returned: %s", loc)
	}
	return loc.Query().Get("code")
}

func addUser(t *testing.T, b storage.Bucket, email, role, team string) string {
	t.Helper()
	const pw = "correct horse battery staple"
	if _, err := idp.AddUser(context.Background(), b, email, role, team, pw); err != nil {
		t.Fatal(err)
	}
	return pw
}

// TestDiscoveryUnderPrefix: served under /idp, discovery names the issuer exactly and every
// endpoint as an absolute URL under it, and a go-oidc client accepts it.
func TestDiscoveryUnderPrefix(t *testing.T) {
	e := startEnv(t, idp.Config{}, nil)
	r := e.get(e.URL + "/idp/.well-known/openid-configuration")
	if r.Status != http.StatusOK {
		t.Fatalf("discovery: %d %s", r.Status, r.Body)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.Body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["issuer"] != e.URL+"/idp" {
		t.Errorf("issuer = %v", doc["issuer"])
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint", "end_session_endpoint"} {
		if s, _ := doc[k].(string); !strings.HasPrefix(s, e.URL+"/idp/") {
			t.Errorf("%s = %q, not under the issuer", k, s)
		}
	}
	if !strings.Contains(r.Body, `"S256"`) || !strings.Contains(r.Body, `"ES256"`) {
		t.Errorf("discovery lacks S256 PKCE or ES256: %s", r.Body)
	}
	if _, err := oidc.NewProvider(context.Background(), e.URL+"/idp"); err != nil {
		t.Errorf("go-oidc discovery: %v", err)
	}
	if r := e.get(e.URL + "/idp/keys"); r.Status != http.StatusOK || !strings.Contains(r.Body, `"kid"`) || strings.Contains(r.Body, `"d"`) {
		t.Errorf("keys: %d %s", r.Status, r.Body)
	}
}

// TestCodeFlow runs the code flow as a client would, and checks the code's single use, PKCE, and
// client authentication.
func TestCodeFlow(t *testing.T) {
	e := startEnv(t, idp.Config{}, nil)
	pw := addUser(t, e.Bucket, "kim@district.example", "coordinator", "plc-ela-2")
	ctx := context.Background()

	verifier := oauth2.GenerateVerifier()
	code := e.code(e.authorize(verifier, "n-1"), "kim@district.example", pw)
	tok, err := e.OAuth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	provider, err := oidc.NewProvider(ctx, e.URL+"/idp")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: e.P.ClientID()}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var claims struct {
		Email         string   `json:"email"`
		EmailVerified bool     `json:"email_verified"`
		Roles         []string `json:"roles"`
		Teams         []string `json:"teams"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != "n-1" || idt.Subject != idp.AccountID("kim@district.example") || claims.Email != "kim@district.example" ||
		!claims.EmailVerified || strings.Join(claims.Roles, ",") != "coordinator" || strings.Join(claims.Teams, ",") != "plc-ela-2" {
		t.Errorf("ID token: nonce %q sub %q claims %+v", idt.Nonce, idt.Subject, claims)
	}
	if info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil || info.Email != "kim@district.example" {
		t.Errorf("userinfo: %+v, %v", info, err)
	}

	// The code works once.
	if _, err := e.OAuth.Exchange(ctx, code, oauth2.VerifierOption(verifier)); !isGrantError(err) {
		t.Errorf("second exchange of a code: %v, want invalid_grant", err)
	}

	// A wrong PKCE verifier is refused, and burns the code.
	verifier = oauth2.GenerateVerifier()
	code = e.code(e.authorize(verifier, "n-2"), "kim@district.example", pw)
	if _, err := e.OAuth.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Error("exchange with a wrong verifier succeeded")
	}
	if _, err := e.OAuth.Exchange(ctx, code, oauth2.VerifierOption(verifier)); !isGrantError(err) {
		t.Errorf("exchange after a wrong verifier: %v, want invalid_grant", err)
	}

	// A wrong client secret is refused.
	verifier = oauth2.GenerateVerifier()
	code = e.code(e.authorize(verifier, "n-3"), "kim@district.example", pw)
	bad := e.OAuth
	bad.ClientSecret = "not-the-secret"
	if _, err := bad.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
		t.Error("exchange with a wrong client secret succeeded")
	}

	// An authorization request without PKCE never reaches the sign-in page.
	r := e.get(e.OAuth.AuthCodeURL("st"))
	if loc := r.Header.Get("Location"); r.Status != http.StatusFound || !strings.HasPrefix(loc, redirectURI+"?") || !strings.Contains(loc, "error=invalid_request") {
		t.Errorf("authorize without PKCE: %d to %q", r.Status, loc)
	}
	// Nor one for a redirect URI that is not registered.
	other := e.OAuth
	other.RedirectURL = "http://evil.test/cb"
	if r := e.get(other.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier))); r.Status == http.StatusFound && strings.HasPrefix(r.Header.Get("Location"), "http://evil.test") {
		t.Errorf("authorize redirected to an unregistered URI: %q", r.Header.Get("Location"))
	}
}

func isGrantError(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == "invalid_grant"
}

// TestKeysAndSecretPersist: a second provider on the same bucket (a restart, or another replica)
// signs with the same key and knows the same client secret; another bucket has its own.
func TestKeysAndSecretPersist(t *testing.T) {
	b := newBucket(t)
	one := startEnv(t, idp.Config{}, b)
	two := startEnv(t, idp.Config{}, b)
	three := startEnv(t, idp.Config{}, nil)
	kid := func(e *env) string {
		var set struct {
			Keys []struct{ Kid string } `json:"keys"`
		}
		json.Unmarshal([]byte(e.get(e.URL+"/idp/keys").Body), &set)
		if len(set.Keys) != 1 {
			t.Fatalf("keys: %+v", set)
		}
		return set.Keys[0].Kid
	}
	if kid(one) != kid(two) || one.P.ClientSecret() != two.P.ClientSecret() {
		t.Error("same bucket, different key or secret")
	}
	if kid(one) == kid(three) || one.P.ClientSecret() == three.P.ClientSecret() {
		t.Error("different buckets, same key or secret")
	}
	if len(one.P.ClientSecret()) < 32 {
		t.Errorf("client secret too short")
	}
}

func jsonDecode(rc io.ReadCloser, v any) error {
	defer rc.Close()
	return json.NewDecoder(rc).Decode(v)
}

// TestNoCrossOriginReads: the provider answers no other origin's CORS request (preflight or not):
// the library's default echoed any Origin with credentials allowed.
func TestNoCrossOriginReads(t *testing.T) {
	e := startEnv(t, idp.Config{}, nil)
	for _, method := range []string{http.MethodGet, http.MethodOptions} {
		for _, path := range []string{"/idp/.well-known/openid-configuration", "/idp/userinfo", "/idp/oauth/token"} {
			req, _ := http.NewRequest(method, e.URL+path, nil)
			req.Header.Set("Origin", "https://evil.example")
			if method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			r := e.do(req)
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("%s %s from another origin: Access-Control-Allow-Origin %q", method, path, got)
			}
			if got := r.Header.Get("Access-Control-Allow-Credentials"); got != "" {
				t.Errorf("%s %s from another origin: Access-Control-Allow-Credentials %q", method, path, got)
			}
		}
	}
}
