package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/web/auth"
)

// TestDiscoveryIsLazyAndRetried: the node starts while its provider is down, sign-in answers 503
// until the provider is back, then works without a restart.
func TestDiscoveryIsLazyAndRetried(t *testing.T) {
	n := reserveNode(t)
	var up atomic.Bool
	ext, extBucket := startProviderGated(t, n.URL, &up)
	n.start(t, nodeOptions{external: ext})
	pw := addUser(t, extBucket, "pat@district.example", "teacher", "")

	b := newBrowser(t)
	if p := b.get(n.URL + "/login"); p.Status != http.StatusServiceUnavailable {
		t.Fatalf("/login with the provider down: %d, want 503", p.Status)
	}
	up.Store(true)
	b.signIn(n.URL, "pat@district.example", pw, "/")
	b.me(n.URL)
}

// TestSecurityHeaders: a strict CSP without inline script, no framing, a referrer policy, and HSTS
// only over https.
func TestSecurityHeaders(t *testing.T) {
	for _, https := range []bool{false, true} {
		e := echo.New()
		e.Use(auth.SecurityHeaders(https, "https://idp.example", "bad origin; script-src *"))
		e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		h := rec.Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "form-action 'self' https://idp.example;"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") || strings.Contains(csp, "bad origin") {
			t.Errorf("CSP %q", csp)
		}
		if h.Get("Referrer-Policy") != "same-origin" || h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("headers %v", h)
		}
		if got := h.Get("Strict-Transport-Security") != ""; got != https {
			t.Errorf("https=%v: HSTS present = %v", https, got)
		}
	}
}

func TestIPExtractorRejectsGarbage(t *testing.T) {
	if _, err := auth.IPExtractor([]string{"10.0.0.0/8", "not-an-ip"}); err == nil {
		t.Error("IPExtractor accepted a bad proxy")
	}
	if _, err := auth.IPExtractor([]string{"10.0.0.0/8", "192.0.2.1", "2001:db8::/32"}); err != nil {
		t.Error(err)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	b := newBucket(t)
	for _, tc := range []struct {
		cfg  auth.Config
		want string
	}{
		{auth.Config{OIDC: auth.OIDC{Issuer: "https://idp.example", ClientID: "c"}}, "public_url"},
		{auth.Config{PublicURL: "https://node.example", OIDC: auth.OIDC{ClientID: "c"}}, "auth.oidc.issuer"},
		{auth.Config{PublicURL: "https://node.example", OIDC: auth.OIDC{Issuer: "https://idp.example"}}, "auth.oidc.client_id"},
		{auth.Config{PublicURL: "https://node.example", OIDC: auth.OIDC{Issuer: "https://idp.example", ClientID: "c"},
			Roles: []auth.RoleRule{{Claim: "groups", Value: "x", Role: "owner"}}}, "auth.roles[0].role"},
		{auth.Config{PublicURL: "https://node.example", OIDC: auth.OIDC{Issuer: "https://idp.example", ClientID: "c"},
			Session: auth.Session{Idle: 3 * time.Hour, Absolute: time.Hour}}, "auth.session"},
	} {
		_, err := auth.New(context.Background(), tc.cfg, b, nil, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one naming %s", err, tc.want)
		}
	}
}

// TestPrune removes abandoned sessions and sign-ins and keeps live ones.
func TestPrune(t *testing.T) {
	n := startNode(t, nodeOptions{})
	pw := addUser(t, n.Bucket, "quinn@district.example", "teacher", "")
	b := newBrowser(t)
	b.signIn(n.URL, "quinn@district.example", pw, "/")
	newBrowser(t).get(n.URL + "/login") // a sign-in never finished
	count := func(prefix string) int {
		objs, err := n.Bucket.List(context.Background(), storage.ListOptions{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		return len(objs)
	}
	if err := n.Auth.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	if count("node/sessions/") != 1 || count("node/logins/") == 0 {
		t.Fatalf("prune removed live records")
	}
	n.Clock.Advance(auth.DefaultAbsolute + time.Minute)
	if err := n.Auth.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	if count("node/sessions/") != 0 || count("node/logins/") != 0 {
		t.Errorf("prune left %d sessions, %d sign-ins", count("node/sessions/"), count("node/logins/"))
	}
}

// TestMultipartCSRFInBody: a streamed upload carries its token as the body's first part, never in
// the URL; the handler still reads the whole body as sent.
func TestMultipartCSRFInBody(t *testing.T) {
	n := startNode(t, nodeOptions{})
	pw := addUser(t, n.Bucket, "rae@district.example", "publisher", "plc-a")
	b := newBrowser(t)
	b.signIn(n.URL, "rae@district.example", pw, "/")
	token := b.get(n.URL + "/form").Body
	tokenPart := "--X\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token + "\r\n"
	filePart := "--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n" + strings.Repeat("lesson plan ", 4000) + "\r\n"
	send := func(u, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=X")
		r := b.do(req)
		return r.Status, r.Body
	}
	post := func(u, body string) int { status, _ := send(u, body); return status }
	if got := post(n.URL+"/things", tokenPart+filePart+"--X--\r\n"); got != http.StatusOK {
		t.Errorf("multipart with the token as the first part: %d, want 200", got)
	}
	want := fmt.Sprintf("csrf_token=%d;file=%d;", len(token), 4000*len("lesson plan "))
	if status, got := send(n.URL+"/things/echo", tokenPart+filePart+"--X--\r\n"); status != http.StatusOK || got != want {
		t.Errorf("the handler read the multipart body as %d %q, want 200 %q (every part as sent)", status, got, want)
	}
	if got := post(n.URL+"/things?csrf_token="+token, filePart+"--X--\r\n"); got != http.StatusForbidden {
		t.Errorf("multipart with the token only in the query: %d, want 403 (never in the URL)", got)
	}
	if got := post(n.URL+"/things", filePart+tokenPart+"--X--\r\n"); got != http.StatusForbidden {
		t.Errorf("multipart with the token after the file: %d, want 403 (only the first part is read)", got)
	}
	if got := post(n.URL+"/things", strings.Replace(tokenPart, token, token[:10], 1)+filePart+"--X--\r\n"); got != http.StatusForbidden {
		t.Errorf("multipart with a wrong token: %d, want 403", got)
	}
}

// TestMiddlewareKeepsTokenPrincipal: a principal set by the bearer-token middleware before this one
// stays; the session cookie does not override it.
func TestMiddlewareKeepsTokenPrincipal(t *testing.T) {
	n := startNode(t, nodeOptions{})
	pw := addUser(t, n.Bucket, "sam@district.example", "teacher", "")
	b := newBrowser(t)
	b.signIn(n.URL, "sam@district.example", pw, "/")
	ck := b.cookie(n.URL, auth.SessionCookieName(n.Auth))

	tokenPrincipal := practices.Principal{Kind: "token", Subject: "tok-1", Roles: []practices.Role{practices.RoleTeacher}}
	var seen practices.Principal
	h := n.Auth.Middleware()(func(c echo.Context) error { seen = auth.PrincipalFrom(c.Request().Context()); return nil })
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	req = req.WithContext(auth.WithPrincipal(req.Context(), tokenPrincipal))
	if err := h(n.Echo.NewContext(req, httptest.NewRecorder())); err != nil {
		t.Fatal(err)
	}
	if seen.Kind != "token" || seen.Subject != "tok-1" {
		t.Errorf("principal = %+v, want the token's", seen)
	}
}
