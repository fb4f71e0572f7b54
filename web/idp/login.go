package idp

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/brightspots-nic/brightspots/storage"
)

// The sign-in page: plain HTML, every field labelled, errors next to the field they are about and
// tied to it with aria-describedby, no script and no inline style, so it works without JavaScript
// and under a strict CSP. Served by a node, it wears the node's look: its stylesheet, header and
// district name, and a way back to the site (Config.Site). It asks for nothing to remember or
// solve beyond the email and password a password manager fills in (autocomplete, paste allowed):
// WCAG 2.2 accessible authentication.
var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Bright Spots{{with .Site.Name}} · {{.}}{{end}}</title>
{{with .Site.Stylesheet}}<link rel="stylesheet" href="{{.}}">{{end}}
</head>
<body>
<header class="site">
<nav aria-label="Site">
<a class="brand" href="{{if .Site.URL}}{{.Site.URL}}/{{else}}/{{end}}">Bright Spots{{with .Site.Name}} <span class="district">{{.}}</span>{{end}}</a>
</nav>
</header>
<main id="main" class="signin">
<h1>Sign in{{with .Site.Name}} to {{.}}{{end}}</h1>
{{if .Expired}}
<div class="notice error" role="alert"><p>This sign-in link has expired or has already been used. Go back to the site and choose “Sign in” again.</p></div>
{{else}}
{{if .FormError}}<div class="notice error" id="form-error" role="alert"><p>{{.FormError}}</p></div>{{end}}
<form method="post" action="{{.Action}}" class="signin-form" novalidate>
<input type="hidden" name="authRequestID" value="{{.ID}}">
<div class="ws-field">
<label for="email">Email address</label>
{{if .EmailError}}<p class="field-error" id="email-error">{{.EmailError}}</p>{{end}}
<input id="email" name="email" type="email" autocomplete="username" spellcheck="false" autocapitalize="none" required value="{{.Email}}"{{if .EmailError}} aria-invalid="true" aria-describedby="email-error"{{end}}>
</div>
<div class="ws-field">
<label for="password">Password</label>
{{if .PasswordError}}<p class="field-error" id="password-error">{{.PasswordError}}</p>{{end}}
<input id="password" name="password" type="password" autocomplete="current-password" required{{if .PasswordError}} aria-invalid="true" aria-describedby="password-error"{{end}}>
</div>
<p><button type="submit">Sign in</button></p>
</form>
<p class="hint">Your password manager can fill both fields; pasting works too. Forgotten your password? Ask your district's Bright Spots administrator.</p>
{{end}}
{{if .Site.URL}}<p><a href="{{.Site.URL}}/">Back to {{if .Site.Name}}{{.Site.Name}}'s{{else}}the{{end}} Bright Spots site</a></p>{{end}}
</main>
</body>
</html>
`))

type loginView struct {
	Site                                 Site
	Action, ID, Email                    string
	Expired                              bool
	FormError, EmailError, PasswordError string
}

const maxLoginForm = 16 << 10

func (p *Provider) writeLogin(w http.ResponseWriter, status int, v loginView) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", p.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	v.Action = p.issuerPath + "/login"
	v.Site = p.site
	w.WriteHeader(status)
	if err := loginTemplate.Execute(w, v); err != nil {
		p.logger.Error("render sign-in page", "err", err)
	}
}

func (p *Provider) loginPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if !p.store.pendingRequest(id) {
		p.writeLogin(w, http.StatusBadRequest, loginView{Expired: true})
		return
	}
	p.writeLogin(w, http.StatusOK, loginView{ID: id})
}

func (p *Provider) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := p.crossOrig.Check(r); err != nil {
		http.Error(w, "cross-origin sign-in refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get("authRequestID")
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	if !p.store.pendingRequest(id) {
		p.writeLogin(w, http.StatusBadRequest, loginView{Expired: true})
		return
	}
	v := loginView{ID: id, Email: email}
	if email == "" {
		v.EmailError = "Enter your email address."
	}
	if password == "" {
		v.PasswordError = "Enter your password."
	}
	if v.EmailError != "" || v.PasswordError != "" {
		p.writeLogin(w, http.StatusUnprocessableEntity, v)
		return
	}

	accountID, err := p.authenticate(r.Context(), p.clientIP(r), email, password)
	var throttled *throttledError
	switch {
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(throttled.retry.Seconds()))))
		v.FormError = fmt.Sprintf("Too many failed sign-in attempts. Wait %s and try again.", roundUp(throttled.retry))
		p.writeLogin(w, http.StatusTooManyRequests, v)
		return
	case errors.Is(err, errBadCredentials):
		v.PasswordError = "That email and password do not match an account."
		p.writeLogin(w, http.StatusUnprocessableEntity, v)
		return
	case err != nil:
		p.logger.Error("sign-in", "err", err)
		http.Error(w, "sign-in is unavailable; try again later", http.StatusServiceUnavailable)
		return
	}
	if err := p.store.completeLogin(id, accountID); err != nil {
		p.writeLogin(w, http.StatusBadRequest, loginView{Expired: true})
		return
	}
	http.Redirect(w, r, p.issuerPath+"/authorize/callback?id="+url.QueryEscape(id), http.StatusSeeOther)
}

var errBadCredentials = errors.New("idp: email and password do not match")

type throttledError struct{ retry time.Duration }

func (e *throttledError) Error() string { return "idp: sign-in throttled" }

// authenticate checks email and password under the throttles and returns the account id. Three
// limits apply, each refusing without looking at the password: the pair (this account from this
// address) backs off exponentially after a few failures; the address has a budget across accounts;
// and the account has a budget for failures from addresses it has not signed in from, so guessing
// spread over many addresses is bounded too, while the owner at a usual address is held only to
// their own pair's backoff and cannot be locked out by anyone else. Success forgets the pair and
// remembers the address as familiar.
func (p *Provider) authenticate(ctx context.Context, clientIP, email, password string) (string, error) {
	now := p.now()
	id := AccountID(email)
	addrKey, acctKey := addressKey(clientIP), "acct:"+id
	pairKey := acctKey + "|" + addrKey
	if retry := p.pairs.wait(pairKey, now); retry > 0 {
		p.logger.Warn("sign-in throttled", "reason", "account from this address", "account", id, "client", clientIP)
		return "", &throttledError{retry}
	}
	if ok, retry := p.addresses.take(addrKey, now); !ok {
		p.logger.Warn("sign-in throttled", "reason", "client address", "client", clientIP)
		return "", &throttledError{retry}
	}
	familiar := p.familiar.knows(acctKey, addrKey, now)
	if !familiar {
		if ok, retry := p.accounts.take(acctKey, now); !ok {
			p.addresses.give(addrKey, now) // the password was not tried: no cost to the address
			p.logger.Warn("sign-in throttled", "reason", "account from unfamiliar addresses", "account", id, "client", clientIP)
			return "", &throttledError{retry}
		}
	}
	giveBack := func() {
		if !familiar {
			p.accounts.give(acctKey, now)
		}
		p.addresses.give(addrKey, now)
	}
	a, err := loadAccount(ctx, p.store.bucket, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		verifyPassword(dummyHash, password) // same work as for a real account
		p.pairs.fail(pairKey, now)
		p.logger.Info("sign-in failed", "account", id, "client", clientIP)
		return "", errBadCredentials
	case err != nil:
		giveBack()
		return "", fmt.Errorf("sign-in: %w", err)
	}
	if !verifyPassword(a.PasswordHash, password) {
		p.pairs.fail(pairKey, now)
		p.logger.Info("sign-in failed", "account", id, "client", clientIP)
		return "", errBadCredentials
	}
	giveBack()
	p.pairs.forget(pairKey)
	p.familiar.add(acctKey, addrKey, now)
	p.logger.Info("signed in", "account", id, "client", clientIP)
	return a.ID, nil
}

func roundUp(d time.Duration) string {
	if d <= time.Minute {
		s := int(math.Ceil(d.Seconds()))
		if s <= 1 {
			return "1 second"
		}
		return fmt.Sprintf("%d seconds", s)
	}
	m := int(math.Ceil(d.Minutes()))
	return fmt.Sprintf("%d minutes", m)
}
