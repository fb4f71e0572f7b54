package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/web/auth"
)

// TestReplayedCode: an authorization code works once. Replaying the callback URL is refused (its
// state was used), and so is smuggling the used code into a fresh sign-in with the attacker's own
// valid state (the provider refuses the code).
func TestReplayedCode(t *testing.T) {
	n := startNode(t, nodeOptions{})
	pw := addUser(t, n.Bucket, "fay@district.example", "teacher", "")
	victim := newBrowser(t)
	cb := victim.follow(victim.submitLogin(victim.startSignIn(n.URL, "/"), "fay@district.example", pw),
		func(u *url.URL) bool { return u.Path == "/auth/callback" })
	if first := victim.get(cb.URL.String()); first.Status != http.StatusSeeOther {
		t.Fatalf("first callback: %d %s", first.Status, first.Body)
	}
	victim.me(n.URL)

	// The same callback again, from a browser holding a fresh login cookie of its own.
	attacker := newBrowser(t)
	start := attacker.get(n.URL + "/login")
	if start.Status != http.StatusFound {
		t.Fatalf("/login: %d", start.Status)
	}
	if p := attacker.get(cb.URL.String()); p.Status != http.StatusBadRequest {
		t.Errorf("replayed callback URL: %d, want 400", p.Status)
	}
	if p := attacker.get(n.URL + "/me"); p.Status != http.StatusUnauthorized {
		t.Errorf("replayed callback URL made a session: /me = %d", p.Status)
	}

	// The used code with the attacker's own, valid state.
	attacker = newBrowser(t)
	start = attacker.get(n.URL + "/login")
	authz, _ := url.Parse(start.Header.Get("Location"))
	smuggled := n.URL + "/auth/callback?" + url.Values{"code": {cb.URL.Query().Get("code")}, "state": {authz.Query().Get("state")}}.Encode()
	if p := attacker.get(smuggled); p.Status != http.StatusUnauthorized {
		t.Errorf("used code with a fresh state: %d, want 401", p.Status)
	}
	if p := attacker.get(n.URL + "/me"); p.Status != http.StatusUnauthorized {
		t.Errorf("used code made a session: /me = %d", p.Status)
	}
}

// TestCallbackState: a callback whose state is wrong, or that comes without the login cookie, is
// refused, and the sign-in it belonged to cannot be finished afterwards either.
func TestCallbackState(t *testing.T) {
	n := startNode(t, nodeOptions{})
	pw := addUser(t, n.Bucket, "gus@district.example", "teacher", "")

	b := newBrowser(t)
	cb := b.follow(b.submitLogin(b.startSignIn(n.URL, "/"), "gus@district.example", pw),
		func(u *url.URL) bool { return u.Path == "/auth/callback" })
	wrong := *cb.URL
	q := wrong.Query()
	q.Set("state", strings.Repeat("0", 64))
	wrong.RawQuery = q.Encode()
	if p := b.get(wrong.String()); p.Status != http.StatusBadRequest {
		t.Errorf("wrong state: %d, want 400", p.Status)
	}
	// The right state now finds the sign-in used up.
	if p := b.get(cb.URL.String()); p.Status != http.StatusBadRequest {
		t.Errorf("right state after a wrong one: %d, want 400", p.Status)
	}
	if p := b.get(n.URL + "/me"); p.Status != http.StatusUnauthorized {
		t.Errorf("/me = %d, want 401", p.Status)
	}

	// A callback in a browser that never started the sign-in (login CSRF): no login cookie.
	other := newBrowser(t)
	b2 := newBrowser(t)
	cb2 := b2.follow(b2.submitLogin(b2.startSignIn(n.URL, "/"), "gus@district.example", pw),
		func(u *url.URL) bool { return u.Path == "/auth/callback" })
	if p := other.get(cb2.URL.String()); p.Status != http.StatusBadRequest {
		t.Errorf("callback without login cookie: %d, want 400", p.Status)
	}
}

// evilProvider is an OpenID provider the test controls, used only to mint malicious ID tokens: its
// discovery, keys and authorize endpoint are ordinary; its token endpoint returns whatever ID token
// the current case mints. The node verifies with its real code path.
type evilProvider struct {
	srv  *httptest.Server
	key  *ecdsa.PrivateKey
	kid  string
	mu   sync.Mutex
	mint func(nonce string) string
	seen string // nonce of the last authorize request
}

func startEvilProvider(t *testing.T) *evilProvider {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ev := &evilProvider{key: key, kid: "k1"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		u := ev.srv.URL
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
			"jwks_uri": u + "/keys", "id_token_signing_alg_values_supported": []string{"ES256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: ev.kid, Algorithm: "ES256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ev.mu.Lock()
		ev.seen = q.Get("nonce")
		ev.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {"c0de"}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		ev.mu.Lock()
		tok := ev.mint(ev.seen)
		ev.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": tok})
	})
	ev.srv = httptest.NewServer(mux)
	t.Cleanup(ev.srv.Close)
	return ev
}

func signES256(t *testing.T, key *ecdsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func signHS256(t *testing.T, secret []byte, claims map[string]any) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, _ := s.Sign(payload)
	out, _ := jws.CompactSerialize()
	return out
}

func unsigned(claims map[string]any) string {
	enc := base64.RawURLEncoding.EncodeToString
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	p, _ := json.Marshal(claims)
	return enc(h) + "." + enc(p) + "."
}

// TestIDTokenAttacks: every malformed or forged ID token is refused by the real verification path,
// and a correct one (the control) is accepted, so the harness itself is known to work.
func TestIDTokenAttacks(t *testing.T) {
	ev := startEvilProvider(t)
	const clientID, secret = "node-client", "node-secret-node-secret-node-secret"
	n := reserveNode(t)
	n.start(t, nodeOptions{oidc: &auth.OIDC{Issuer: ev.srv.URL, ClientID: clientID, ClientSecret: secret}})

	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := func(nonce string) map[string]any {
		now := time.Now()
		return map[string]any{
			"iss": ev.srv.URL, "sub": "user-1", "aud": clientID, "nonce": nonce,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "email": "hal@district.example",
		}
	}
	with := func(nonce string, k string, v any) map[string]any {
		c := good(nonce)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	for _, tc := range []struct {
		name string
		mint func(nonce string) string
		ok   bool
		why  string // what the node must log as the reason
	}{
		{"control: a correct token", func(nc string) string { return signES256(t, ev.key, ev.kid, good(nc)) }, true, ""},
		{"wrong nonce", func(nc string) string { return signES256(t, ev.key, ev.kid, with(nc, "nonce", "not-the-nonce")) }, false, "nonce does not match"},
		{"no nonce", func(nc string) string { return signES256(t, ev.key, ev.kid, with(nc, "nonce", nil)) }, false, "nonce does not match"},
		{"wrong audience", func(nc string) string { return signES256(t, ev.key, ev.kid, with(nc, "aud", "someone-else")) }, false, "expected audience"},
		{"several audiences, no azp", func(nc string) string {
			return signES256(t, ev.key, ev.kid, with(nc, "aud", []string{clientID, "someone-else"}))
		}, false, "several audiences"},
		{"wrong issuer", func(nc string) string { return signES256(t, ev.key, ev.kid, with(nc, "iss", "https://evil.example")) }, false, "issued by a different provider"},
		{"issuer with trailing slash", func(nc string) string { return signES256(t, ev.key, ev.kid, with(nc, "iss", ev.srv.URL+"/")) }, false, "issued by a different provider"},
		{"expired", func(nc string) string {
			return signES256(t, ev.key, ev.kid, with(nc, "exp", time.Now().Add(-time.Minute).Unix()))
		}, false, "token is expired"},
		{"alg none", func(nc string) string { return unsigned(good(nc)) }, false, "unexpected signature algorithm \\\"none\\\""},
		{"unknown key with a known kid", func(nc string) string { return signES256(t, otherKey, ev.kid, good(nc)) }, false, "failed to verify signature"},
		{"unknown key and kid", func(nc string) string { return signES256(t, otherKey, "k2", good(nc)) }, false, "failed to verify signature"},
		{"HS256 keyed with the client secret", func(nc string) string { return signHS256(t, []byte(secret), good(nc)) }, false, "unexpected signature algorithm \\\"HS256\\\""},
		{"no sub", func(nc string) string { return signES256(t, ev.key, ev.kid, with(nc, "sub", nil)) }, false, "no usable sub claim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev.mu.Lock()
			ev.mint = tc.mint
			ev.mu.Unlock()
			b := newBrowser(t)
			logged := len(n.Logs.String())
			final := b.follow(b.get(n.URL+"/login"), nil)
			me := b.get(n.URL + "/me")
			if tc.ok {
				if final.Status != http.StatusOK || me.Status != http.StatusOK {
					t.Fatalf("control refused: final %d %s, /me %d", final.Status, final.Body, me.Status)
				}
				return
			}
			if final.Status != http.StatusUnauthorized {
				t.Errorf("callback answered %d (%s), want 401", final.Status, final.Body)
			}
			if me.Status != http.StatusUnauthorized {
				t.Errorf("forged token made a session: /me = %d", me.Status)
			}
			if log := n.Logs.String()[logged:]; !strings.Contains(log, "sign-in refused") || !strings.Contains(log, tc.why) {
				t.Errorf("refused for another reason than %q: %s", tc.why, log)
			}
		})
	}
}

// TestTamperedSessionCookie: changing any one byte of the session cookie makes it worthless.
func TestTamperedSessionCookie(t *testing.T) {
	n := startNode(t, nodeOptions{})
	pw := addUser(t, n.Bucket, "ida@district.example", "teacher", "")
	b := newBrowser(t)
	b.signIn(n.URL, "ida@district.example", pw, "/")
	ck := b.cookie(n.URL, auth.SessionCookieName(n.Auth))
	request := func(value string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, n.URL+"/me", nil)
		r.AddCookie(&http.Cookie{Name: ck.Name, Value: value})
		return r
	}
	if _, ok := n.Auth.SessionPrincipal(request(ck.Value)); !ok {
		t.Fatal("the untouched cookie is not accepted")
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(ck.Value) {
		v := []byte(ck.Value)
		v[i] = alphabet[(strings.IndexByte(alphabet, v[i])+1)%len(alphabet)]
		if p, ok := n.Auth.SessionPrincipal(request(string(v))); ok {
			t.Fatalf("cookie altered at byte %d accepted as %v", i, p)
		}
	}
	// And over HTTP, through the middleware.
	v := []byte(ck.Value)
	v[len(v)/2] ^= 1
	req, _ := http.NewRequest(http.MethodGet, n.URL+"/me", nil)
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: string(v)})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("altered cookie over HTTP: %d, want 401", resp.StatusCode)
	}
}

// TestCSRF: a cookie-authenticated form POST needs the session's token; a cross-site one is refused
// even with it; a bearer call neither needs the token nor gets the cookie's authority.
func TestCSRF(t *testing.T) {
	n := startNode(t, nodeOptions{})
	pw := addUser(t, n.Bucket, "jo@district.example", "publisher", "plc-sci-7")
	b := newBrowser(t)
	b.signIn(n.URL, "jo@district.example", pw, "/")
	token := b.get(n.URL + "/form").Body
	if len(token) < 40 {
		t.Fatalf("CSRF token %q", token)
	}
	// The token with its last character changed (to "A", or to "B" when it already ends in "A":
	// a token ending in "A" made this case pass the right token, one run in 64).
	wrongToken := token[:len(token)-1] + "A"
	if wrongToken == token {
		wrongToken = token[:len(token)-1] + "B"
	}
	crossSite := map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
	sameOrigin := map[string]string{"Origin": n.URL, "Sec-Fetch-Site": "same-origin"}
	for _, tc := range []struct {
		name   string
		form   url.Values
		header map[string]string
		want   int
	}{
		{"cross-site form without token", url.Values{"title": {"x"}}, crossSite, http.StatusForbidden},
		{"cross-site form with the token", url.Values{"title": {"x"}, "csrf_token": {token}}, crossSite, http.StatusForbidden},
		{"old browser, foreign Origin, no token", url.Values{"title": {"x"}}, map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"same-origin without token", url.Values{"title": {"x"}}, sameOrigin, http.StatusForbidden},
		{"same-origin with a wrong token", url.Values{"csrf_token": {wrongToken}}, sameOrigin, http.StatusForbidden},
		{"same-origin with the token", url.Values{"title": {"x"}, "csrf_token": {token}}, sameOrigin, http.StatusOK},
		{"token in the header", url.Values{"title": {"x"}}, map[string]string{"X-CSRF-Token": token}, http.StatusOK},
		// With a bearer header the cookie is ignored: no CSRF check, and no session either.
		{"bearer header with the cookie", url.Values{"title": {"x"}}, map[string]string{"Authorization": "Bearer nonsense"}, http.StatusUnauthorized},
	} {
		if p := b.postForm(n.URL+"/things", tc.form, tc.header); p.Status != tc.want {
			t.Errorf("%s: %d (%s), want %d", tc.name, p.Status, p.Body, tc.want)
		}
	}
}

// TestRateLimitIgnoresUntrustedForwardedFor: rotating X-Forwarded-For does not buy a caller more
// requests unless the direct peer is a configured proxy.
func TestRateLimitIgnoresUntrustedForwardedFor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		// separate reports whether callers with different X-Forwarded-For get separate budgets.
		separate bool
	}{
		{"no trusted proxies", nil, false},
		{"other proxies trusted", []string{"10.0.0.0/8"}, false},
		{"the test client is the trusted proxy", []string{"127.0.0.1"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			e := echo.New()
			ext, err := auth.IPExtractor(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			e.IPExtractor = ext
			e.Use(auth.RateLimit(auth.RateLimitConfig{Rate: rate.Every(time.Minute), Burst: 3, Now: clk.Now}))
			e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
			srv := httptest.NewServer(e)
			defer srv.Close()
			get := func(xff string) int {
				req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
				req.Header.Set("X-Forwarded-For", xff)
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			var codes []int
			for i := range 10 {
				codes = append(codes, get("203.0.113."+strconv.Itoa(i+1)))
			}
			limited := 0
			for _, c := range codes {
				if c == http.StatusTooManyRequests {
					limited++
				}
			}
			if tc.separate && limited != 0 {
				t.Errorf("distinct clients behind a trusted proxy were limited: %v", codes)
			}
			if !tc.separate && limited != 7 {
				t.Errorf("rotating X-Forwarded-For: codes %v, want 3 allowed then 7 refused", codes)
			}
			if !tc.separate {
				clk.Advance(time.Minute)
				if got := get("198.51.100.1"); got != http.StatusOK {
					t.Errorf("after the window: %d, want 200", got)
				}
			} else {
				for range 3 {
					get("192.0.2.9")
				}
				if got := get("192.0.2.9"); got != http.StatusTooManyRequests {
					t.Errorf("one client behind the proxy over its budget: %d, want 429", got)
				}
			}
		})
	}
}

// TestRateLimitByPrincipal: a signed-in caller has a budget of its own, whatever its address.
func TestRateLimitByPrincipal(t *testing.T) {
	clk := newClock()
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if s := c.Request().Header.Get("X-Test-User"); s != "" {
				c.SetRequest(c.Request().WithContext(auth.WithPrincipal(c.Request().Context(),
					practices.Principal{Kind: "token", Subject: s, Roles: []practices.Role{practices.RoleTeacher}})))
			}
			return next(c)
		}
	})
	e.Use(auth.RateLimit(auth.RateLimitConfig{Rate: rate.Every(time.Minute), Burst: 2, Now: clk.Now}))
	e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	do := func(user string) int {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("X-Test-User", user)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec.Code
	}
	got := []int{do("a"), do("a"), do("a"), do("b")}
	want := []int{200, 200, 429, 200}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("codes %v, want %v", got, want)
		}
	}
}
