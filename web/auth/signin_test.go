package auth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/web/auth"
	"github.com/brightspots-nic/brightspots/web/idp"
)

// TestSignInEmbedded signs in end to end against the embedded provider on the node's own listener:
// real discovery over HTTP, authorize, the sign-in form, the callback, the session cookie, and a
// handler that sees the principal with the account's role and team.
func TestSignInEmbedded(t *testing.T) {
	n := startNode(t, nodeOptions{})
	pw := addUser(t, n.Bucket, "Ana@District.example", "publisher", "plc-math-4")
	b := newBrowser(t)

	if p := b.get(n.URL + "/me"); p.Status != http.StatusUnauthorized {
		t.Fatalf("before sign-in /me = %d, want 401", p.Status)
	}
	login := b.startSignIn(n.URL, "/practices?subject=math")
	if csp := login.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("sign-in page CSP = %q", csp)
	}

	// Stop at the node's callback to look at the cookie it sets.
	cb := b.follow(b.submitLogin(login, "ana@district.example", pw), func(u *url.URL) bool { return u.Path == "/auth/callback" })
	if cb.URL == nil || cb.URL.Path != "/auth/callback" {
		t.Fatalf("did not reach the callback: %+v", cb)
	}
	resp := b.get(cb.URL.String())
	if resp.Status != http.StatusSeeOther || resp.Header.Get("Location") != "/practices?subject=math" {
		t.Fatalf("callback: %d to %q, body %s", resp.Status, resp.Header.Get("Location"), resp.Body)
	}
	var session *http.Cookie
	for _, c := range (&http.Response{Header: resp.Header}).Cookies() {
		if c.Name == "__Host-bs_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no __Host-bs_session cookie in %q", resp.Header.Values("Set-Cookie"))
	}
	if !session.HttpOnly || !session.Secure || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Domain != "" {
		t.Errorf("session cookie attributes: %+v", session)
	}

	me := b.me(n.URL)
	if me["kind"] != "session" || me["email"] != "ana@district.example" || me["subject"] != idp.AccountID("ana@district.example") {
		t.Errorf("principal = %v", me)
	}
	if got := str(me["roles"]); got != "[publisher teacher]" {
		t.Errorf("roles = %s, want [publisher teacher]", got)
	}
	if got := str(me["teams"]); got != "[plc-math-4]" {
		t.Errorf("teams = %s, want [plc-math-4]", got)
	}
}

// TestSignInNextIsLocal: ?next= may only send the user back to a path on this site.
func TestSignInNextIsLocal(t *testing.T) {
	n := startNode(t, nodeOptions{})
	pw := addUser(t, n.Bucket, "ben@district.example", "teacher", "")
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example"} {
		b := newBrowser(t)
		cb := b.follow(b.submitLogin(b.startSignIn(n.URL, next), "ben@district.example", pw), func(u *url.URL) bool { return u.Path == "/auth/callback" })
		resp := b.get(cb.URL.String())
		if loc := resp.Header.Get("Location"); resp.Status != http.StatusSeeOther || loc != "/" {
			t.Errorf("next=%q: callback %d to %q, want 303 to /", next, resp.Status, loc)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/practices/p1?tab=tests", "/practices/p1?tab=tests"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"evil", "/"},
		{"/ok\r\nSet-Cookie: x=y", "/"},
		{"/%2F%2Fevil.example", "/"}, // harmless, but refused all the same
	} {
		if got := auth.SafeNext(tc.in); got != tc.want {
			t.Errorf("SafeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSignOutRevokesOnEveryReplica: two replicas share one bucket. A session made on one works on
// the other; signing out (with the CSRF token) on one ends it on both, even for a copy of the cookie
// kept from before, and goes through the provider's end_session (RP-initiated logout).
func TestSignOutRevokesOnEveryReplica(t *testing.T) {
	a := startNode(t, nodeOptions{})
	pw := addUser(t, a.Bucket, "cy@district.example", "admin", "")
	b := newBrowser(t)
	b.signIn(a.URL, "cy@district.example", pw, "/")
	if got := str(b.me(a.URL)["roles"]); got != "[admin teacher]" {
		t.Fatalf("roles = %s", got)
	}
	stolen := b.cookie(a.URL, "__Host-bs_session")

	// Replica B: same bucket, its own Authenticator; a request carrying A's cookie.
	replica := startNode(t, nodeOptions{bucket: a.Bucket})
	asB := func() int {
		req, _ := http.NewRequest(http.MethodGet, replica.URL+"/me", nil)
		req.AddCookie(&http.Cookie{Name: stolen.Name, Value: stolen.Value})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := asB(); got != http.StatusOK {
		t.Fatalf("replica B before sign-out: %d, want 200", got)
	}

	// Sign-out needs the CSRF token.
	if p := b.postForm(a.URL+"/logout", nil, nil); p.Status != http.StatusForbidden {
		t.Fatalf("logout without CSRF token: %d, want 403", p.Status)
	}
	token := b.get(a.URL + "/form").Body
	out := b.postForm(a.URL+"/logout", url.Values{"csrf_token": {token}}, nil)
	if out.Status != http.StatusSeeOther || !strings.HasPrefix(out.Header.Get("Location"), a.URL+"/idp/end_session?") {
		t.Fatalf("logout: %d to %q, want 303 to the provider's end_session", out.Status, out.Header.Get("Location"))
	}
	end := b.follow(out, nil)
	if end.Status != http.StatusOK || end.URL.String() != a.URL+"/" {
		t.Errorf("after end_session: %d at %s, want the node's home page", end.Status, end.URL)
	}
	if p := b.get(a.URL + "/me"); p.Status != http.StatusUnauthorized {
		t.Errorf("after sign-out /me = %d, want 401", p.Status)
	}
	if got := asB(); got != http.StatusUnauthorized {
		t.Errorf("replica B with the old cookie after sign-out: %d, want 401", got)
	}
}

// TestSessionExpiry: idle expiry (no request for longer than idle) and absolute expiry (however
// busy), on the node's clock.
func TestSessionExpiry(t *testing.T) {
	n := startNode(t, nodeOptions{})
	pw := addUser(t, n.Bucket, "di@district.example", "teacher", "")

	idle := newBrowser(t)
	idle.signIn(n.URL, "di@district.example", pw, "/")
	idle.me(n.URL)
	n.Clock.Advance(auth.DefaultIdle - time.Minute)
	idle.me(n.URL) // still in time; refreshes the idle timer
	n.Clock.Advance(auth.DefaultIdle - time.Minute)
	idle.me(n.URL) // in time again thanks to the refresh
	n.Clock.Advance(auth.DefaultIdle + time.Second)
	if p := idle.get(n.URL + "/me"); p.Status != http.StatusUnauthorized {
		t.Errorf("after idle expiry /me = %d, want 401", p.Status)
	}

	// A fresh node, since the ID token's expiry is checked on the node's (now advanced) clock.
	n = startNode(t, nodeOptions{})
	pw = addUser(t, n.Bucket, "di@district.example", "teacher", "")
	busy := newBrowser(t)
	busy.signIn(n.URL, "di@district.example", pw, "/")
	for elapsed := time.Duration(0); elapsed < auth.DefaultAbsolute-time.Hour; elapsed += time.Hour {
		n.Clock.Advance(time.Hour)
		busy.me(n.URL)
	}
	n.Clock.Advance(time.Hour + time.Second)
	if p := busy.get(n.URL + "/me"); p.Status != http.StatusUnauthorized {
		t.Errorf("after absolute expiry /me = %d, want 401", p.Status)
	}
}

// TestExternalProvider signs in against a second, independently configured provider on its own
// listener, standing for a district IdP whose accounts carry group claims, and checks the
// configured mapping: groups → coordinator, plc- groups → teams (and publisher), email → admin, and
// the domain allow-list.
func TestExternalProvider(t *testing.T) {
	// The node's URL must be known to the provider (redirect URIs) and the provider's to the node:
	// open the node's listener first, then start the provider, then the node.
	node := reserveNode(t)
	ext, extBucket := startProvider(t, node.URL)
	cfg := auth.Config{
		OIDC: auth.OIDC{AllowedDomains: []string{"district.example"}},
		Roles: []auth.RoleRule{
			{Claim: "groups", Value: "nic-coordinators", Role: practices.RoleCoordinator},
			{Claim: "email", Value: "IT@district.example", Role: practices.RoleAdmin},
		},
		Teams: auth.Teams{Claim: "groups", Prefix: "plc-", Publish: true},
	}
	node.start(t, nodeOptions{external: ext, cfg: cfg})

	mustAdd := func(a idp.Account) string {
		pw := "a long enough password"
		if err := idp.AddAccount(t.Context(), extBucket, a, pw); err != nil {
			t.Fatal(err)
		}
		return pw
	}
	pwEve := mustAdd(idp.Account{Email: "eve@district.example", Name: "Eve Ng", Groups: []string{"plc-math-4", "nic-coordinators", "staff"}})
	pwIT := mustAdd(idp.Account{Email: "it@district.example", Groups: []string{"staff"}})
	pwOut := mustAdd(idp.Account{Email: "mo@elsewhere.example", Groups: []string{"nic-coordinators"}})
	// The embedded provider's own "roles" claim means nothing to a node configured for groups.
	pwRoles := mustAdd(idp.Account{Email: "ro@district.example", Roles: []practices.Role{practices.RoleAdmin}})

	for _, tc := range []struct {
		email, pw    string
		roles, teams string
	}{
		{"eve@district.example", pwEve, "[coordinator publisher teacher]", "[plc-math-4]"},
		{"it@district.example", pwIT, "[admin teacher]", "<nil>"},
		{"ro@district.example", pwRoles, "[teacher]", "<nil>"},
	} {
		b := newBrowser(t)
		b.signIn(node.URL, tc.email, tc.pw, "/")
		me := b.me(node.URL)
		if str(me["roles"]) != tc.roles || str(me["teams"]) != tc.teams {
			t.Errorf("%s: roles %v teams %v, want %s %s", tc.email, me["roles"], me["teams"], tc.roles, tc.teams)
		}
		if tc.email == "eve@district.example" && me["name"] != "Eve Ng" {
			t.Errorf("name = %v", me["name"])
		}
	}

	// A user of another domain is refused, whatever their groups.
	b := newBrowser(t)
	final := b.signIn(node.URL, "mo@elsewhere.example", pwOut, "/")
	if final.Status != http.StatusForbidden {
		t.Errorf("user outside allowed_domains: final status %d, want 403", final.Status)
	}
	if p := b.get(node.URL + "/me"); p.Status != http.StatusUnauthorized {
		t.Errorf("user outside allowed_domains got a session: /me = %d", p.Status)
	}
}

// TestSignInAgainRotatesSession: signing in while signed in (the sign-in form posted with a live
// session cookie) works, and replaces the session: the old session id is dead.
func TestSignInAgainRotatesSession(t *testing.T) {
	n := startNode(t, nodeOptions{})
	pw := addUser(t, n.Bucket, "tess@district.example", "teacher", "")
	b := newBrowser(t)
	b.signIn(n.URL, "tess@district.example", pw, "/")
	old := b.cookie(n.URL, "__Host-bs_session").Value
	if final := b.signIn(n.URL, "tess@district.example", pw, "/"); final.Status != http.StatusOK {
		t.Fatalf("second sign-in: %d %s", final.Status, final.Body)
	}
	b.me(n.URL)
	if b.cookie(n.URL, "__Host-bs_session").Value == old {
		t.Fatal("session cookie unchanged by a new sign-in")
	}
	r := httptest.NewRequest(http.MethodGet, "/me", nil)
	r.AddCookie(&http.Cookie{Name: "__Host-bs_session", Value: old})
	if _, ok := n.Auth.SessionPrincipal(r); ok {
		t.Error("the session from before the new sign-in still works")
	}
}
