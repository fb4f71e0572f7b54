package auth_test

// The sign-in test rig: nodes with sign-in mounted, the embedded provider, a cookie-keeping browser
// that follows redirects, a clock that moves only when told.

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/internal/testenv"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
	"github.com/brightspots-nic/brightspots/web/auth"
	"github.com/brightspots-nic/brightspots/web/idp"
)

// clock is a test clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

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

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// node is a small echo app built like the real server: the embedded provider under /idp on the
// same listener, the Authenticator's routes and middleware, and a few handlers that show what the
// request's principal is.
type node struct {
	Logs   *testenv.LogBuffer // everything the node's Authenticator logged
	URL    string
	Srv    *httptest.Server
	Echo   *echo.Echo
	Auth   *auth.Authenticator
	IdP    *idp.Provider
	Bucket storage.Bucket
	Clock  *clock
}

type nodeOptions struct {
	bucket   storage.Bucket // shared bucket (replicas); a new one when nil
	external *idp.Provider  // sign in here instead of an embedded provider
	cfg      auth.Config    // role mapping etc. for an external provider
	oidc     *auth.OIDC     // sign in with this provider configuration, as it is
}

func startNode(t *testing.T, o nodeOptions) *node {
	t.Helper()
	n := reserveNode(t)
	n.start(t, o)
	return n
}

// reserveNode opens a node's listener, so its URL is known, without serving anything yet.
func reserveNode(t *testing.T) *node {
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	return &node{URL: "http://" + srv.Listener.Addr().String(), Srv: srv, Clock: newClock(), Logs: new(testenv.LogBuffer)}
}

func (n *node) start(t *testing.T, o nodeOptions) {
	t.Helper()
	ctx := context.Background()
	n.Bucket = o.bucket
	if n.Bucket == nil {
		n.Bucket = newBucket(t)
	}
	e := echo.New()
	e.HideBanner = true
	ext, err := auth.IPExtractor(nil)
	if err != nil {
		t.Fatal(err)
	}
	e.IPExtractor = ext

	var cfg auth.Config
	switch {
	case o.oidc != nil:
		cfg = o.cfg
		cfg.OIDC = *o.oidc
	case o.external != nil:
		cfg = o.cfg
		cfg.OIDC.Issuer, cfg.OIDC.ClientID, cfg.OIDC.ClientSecret = o.external.Issuer(), o.external.ClientID(), o.external.ClientSecret()
	default:
		n.IdP, err = idp.New(ctx, idp.Config{
			Issuer:                 n.URL + "/idp",
			RedirectURIs:           []string{n.URL + "/auth/callback"},
			PostLogoutRedirectURIs: []string{n.URL + "/"},
			ClientIP:               ext,
		}, n.Bucket, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		cfg = auth.Config{}.WithEmbeddedProvider(n.IdP.Issuer(), n.IdP.ClientID(), n.IdP.ClientSecret())
	}
	cfg.PublicURL = n.URL
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, n.Logs), nil))
	n.Auth, err = auth.New(ctx, cfg, n.Bucket, &http.Client{Timeout: 10 * time.Second}, logger)
	if err != nil {
		t.Fatal(err)
	}
	auth.SetClock(n.Auth, n.Clock.Now)

	e.Use(auth.SecurityHeaders(false, n.Auth.IssuerOrigin()), n.Auth.Middleware(), n.Auth.CSRF())
	n.Auth.Register(e)
	if n.IdP != nil {
		e.Any("/idp/*", echo.WrapHandler(n.IdP.Handler()))
	}
	e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, "home") })
	e.GET("/me", func(c echo.Context) error {
		p := auth.PrincipalFrom(c.Request().Context())
		if !p.Authenticated() {
			return c.String(http.StatusUnauthorized, "anonymous")
		}
		return c.JSON(http.StatusOK, p)
	})
	e.GET("/form", func(c echo.Context) error { return c.String(http.StatusOK, auth.CSRFToken(c)) })
	e.POST("/things", func(c echo.Context) error {
		if !auth.PrincipalFrom(c.Request().Context()).Authenticated() {
			return c.String(http.StatusUnauthorized, "anonymous")
		}
		return c.String(http.StatusOK, "written")
	})
	// The parts of a multipart body as the handler reads them: the CSRF middleware's look at the
	// first part must leave the whole body in place.
	e.POST("/things/echo", func(c echo.Context) error {
		mr, err := c.Request().MultipartReader()
		if err != nil {
			return c.String(http.StatusBadRequest, err.Error())
		}
		var out strings.Builder
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return c.String(http.StatusBadRequest, err.Error())
			}
			b, err := io.ReadAll(p)
			if err != nil {
				return c.String(http.StatusBadRequest, err.Error())
			}
			fmt.Fprintf(&out, "%s=%d;", p.FormName(), len(b))
		}
		return c.String(http.StatusOK, out.String())
	})
	n.Echo = e
	n.Srv.Config.Handler = e
	n.Srv.Start()
}

// startProvider starts an embedded provider alone on its own listener, mounted at the root: an
// "external" IdP as far as a node is concerned. rp is the node URL it serves.
func startProvider(t *testing.T, rp string) (*idp.Provider, storage.Bucket) {
	t.Helper()
	var up atomic.Bool
	up.Store(true)
	return startProviderGated(t, rp, &up)
}

// startProviderGated is startProvider for a provider that answers 503 to everything while up is
// false.
func startProviderGated(t *testing.T, rp string, up *atomic.Bool) (*idp.Provider, storage.Bucket) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	url := "http://" + srv.Listener.Addr().String()
	b := newBucket(t)
	p, err := idp.New(context.Background(), idp.Config{
		Issuer:                 url,
		RedirectURIs:           []string{rp + "/auth/callback"},
		PostLogoutRedirectURIs: []string{rp + "/"},
	}, b, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		p.Handler().ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return p, b
}

// browser is an HTTP client with a cookie jar that does not follow redirects by itself, so tests
// see (and can stop at) every hop.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, c: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	Status int
	URL    *url.URL
	Header http.Header
	Body   string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{Status: resp.StatusCode, URL: req.URL, Header: resp.Header, Body: string(body)}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) postForm(u string, v url.Values, header map[string]string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(v.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return b.do(req)
}

// follow GETs redirects from p until a non-redirect answer, or until stop says to stop at a URL
// (which is then returned unfetched as a page with Status 0).
func (b *browser) follow(p page, stop func(*url.URL) bool) page {
	b.t.Helper()
	for range 20 {
		if p.Status < 300 || p.Status > 399 {
			return p
		}
		next, err := p.URL.Parse(p.Header.Get("Location"))
		if err != nil {
			b.t.Fatalf("bad Location %q: %v", p.Header.Get("Location"), err)
		}
		if stop != nil && stop(next) {
			return page{URL: next}
		}
		p = b.get(next.String())
	}
	b.t.Fatal("too many redirects")
	return p
}

var authRequestIDRe = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// startSignIn runs GET /login?next=... on the node up to the provider's sign-in page, and returns
// that page.
func (b *browser) startSignIn(nodeURL, next string) page {
	b.t.Helper()
	u := nodeURL + "/login"
	if next != "" {
		u += "?next=" + url.QueryEscape(next)
	}
	p := b.follow(b.get(u), nil)
	if p.Status != http.StatusOK || !authRequestIDRe.MatchString(p.Body) {
		b.t.Fatalf("sign-in page: status %d, body %.300s", p.Status, p.Body)
	}
	return p
}

// submitLogin posts the provider's sign-in form on loginPage.
func (b *browser) submitLogin(loginPage page, email, password string) page {
	b.t.Helper()
	id := html.UnescapeString(authRequestIDRe.FindStringSubmatch(loginPage.Body)[1])
	action, err := loginPage.URL.Parse(formAction(b.t, loginPage.Body))
	if err != nil {
		b.t.Fatal(err)
	}
	return b.postForm(action.String(), url.Values{"authRequestID": {id}, "email": {email}, "password": {password}}, nil)
}

func formAction(t *testing.T, body string) string {
	m := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form in %.300s", body)
	}
	return html.UnescapeString(m[1])
}

// signIn signs in through the whole flow and returns the final page (after the redirect to next).
func (b *browser) signIn(nodeURL, email, password, next string) page {
	b.t.Helper()
	return b.follow(b.submitLogin(b.startSignIn(nodeURL, next), email, password), nil)
}

// me returns the principal the node sees for this browser, or fails the test on anything but 200.
func (b *browser) me(nodeURL string) map[string]any {
	b.t.Helper()
	p := b.get(nodeURL + "/me")
	if p.Status != http.StatusOK {
		b.t.Fatalf("/me: status %d: %s", p.Status, p.Body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(p.Body), &m); err != nil {
		b.t.Fatal(err)
	}
	return m
}

func (b *browser) cookie(rawURL, name string) *http.Cookie {
	u, _ := url.Parse(rawURL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func str(v any) string { return fmt.Sprint(v) }

func addUser(t *testing.T, b storage.Bucket, email, role, team string) string {
	t.Helper()
	pw := "correct horse battery staple"
	if _, err := idp.AddUser(context.Background(), b, email, role, team, pw); err != nil {
		t.Fatal(err)
	}
	return pw
}
