package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// Bucket layout.
const (
	sessionPrefix = "node/sessions/" // node/sessions/{sid}.json: one signed-in session
	loginPrefix   = "node/logins/"   // node/logins/{id}.json, {id}.used: a sign-in in progress
	masterKeyKey  = "node/auth/master-key.json"
)

// sessionRecord is what the bucket keeps for a session. Deleting it ends the session on every
// replica at once, which is how sign-out revokes.
type sessionRecord struct {
	Principal practices.Principal `json:"principal"`
	Created   time.Time           `json:"created"`
	Expires   time.Time           `json:"expires"` // absolute expiry
	// IDToken is the raw ID token of the sign-in, kept as the id_token_hint for RP-initiated logout.
	IDToken string `json:"id_token,omitempty"`
}

// sessionCookie is the sealed content of the session cookie: which session, and when the browser
// last used it (for idle expiry, which needs no write to the bucket).
type sessionCookie struct {
	SID  string `json:"s"`
	Seen int64  `json:"t"` // unix seconds
}

// session is a resolved, valid session of the current request.
type session struct {
	sid    string
	record sessionRecord
	csrf   string
}

type sessionKey struct{}

func sessionKeyFor(sid string) string { return sessionPrefix + sid + ".json" }

// validID reports whether s looks like an id this package made (64 hex digits), so nothing else
// ever reaches a bucket key.
func validID(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Middleware resolves the session cookie. When the request carries a valid session it puts the
// session's principal into the request context (WithPrincipal) and refreshes the cookie's idle
// timer; otherwise it leaves the context alone. It never refuses a request: authorization is the
// handlers' business. A request with an Authorization header is never cookie-authenticated (the
// bearer-token middleware owns it), and neither is one that already carries an authenticated
// principal, so the token middleware may run before this one. Requests to the embedded provider
// (under /idp/ on the node's origin) are left alone.
func (a *Authenticator) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.Header.Get("Authorization") != "" || PrincipalFrom(r.Context()).Authenticated() || a.forProvider(r) {
				return next(c)
			}
			s, ok, err := a.resolveSession(c.Response(), r)
			if err != nil {
				// The store did not answer: the cookie may well be good, so it stays, and the request
				// is neither treated as anonymous nor signed out. The error handler answers 503.
				return err
			}
			if ok {
				ctx := WithPrincipal(r.Context(), s.record.Principal)
				ctx = context.WithValue(ctx, sessionKey{}, s)
				c.SetRequest(r.WithContext(ctx))
			}
			return next(c)
		}
	}
}

// SessionPrincipal returns the principal of r's session cookie, if it names a valid session. It
// only reads: use Middleware to also refresh the idle timer.
func (a *Authenticator) SessionPrincipal(r *http.Request) (practices.Principal, bool) {
	if r.Header.Get("Authorization") != "" {
		return practices.Principal{}, false
	}
	s, ok := a.resolve(nil, r)
	if !ok {
		return practices.Principal{}, false
	}
	return s.record.Principal, true
}

// resolve is resolveSession for callers that treat a store error as no session (they do not clear
// the cookie: only resolveSession with a writer does, and only for a cookie that is dead).
func (a *Authenticator) resolve(w http.ResponseWriter, r *http.Request) (*session, bool) {
	s, ok, err := a.resolveSession(w, r)
	return s, ok && err == nil
}

// resolveSession reads, opens and checks r's session cookie and loads its record. With w non-nil it
// also re-issues the cookie when its idle timer is due for a refresh, and clears a dead cookie. An
// error is the store's (transient): the cookie is left alone.
func (a *Authenticator) resolveSession(w http.ResponseWriter, r *http.Request) (*session, bool, error) {
	ck, err := r.Cookie(a.sessionCookie)
	if err != nil {
		return nil, false, nil
	}
	dead := func() (*session, bool, error) {
		if w != nil {
			a.clearCookie(w, a.sessionCookie)
		}
		return nil, false, nil
	}
	pt, err := a.sealer.open(a.sessionCookie, ck.Value)
	if err != nil {
		return dead()
	}
	var sc sessionCookie
	if err := json.Unmarshal(pt, &sc); err != nil || !validID(sc.SID) {
		return dead()
	}
	now := a.now()
	if now.Sub(time.Unix(sc.Seen, 0)) > a.cfg.Session.Idle {
		return dead()
	}
	rec, err := a.loadSession(r.Context(), sc.SID)
	if errors.Is(err, storage.ErrNotFound) {
		return dead()
	}
	if err != nil {
		return nil, false, err
	}
	if !now.Before(rec.Expires) {
		if err := a.bucket.Delete(r.Context(), sessionKeyFor(sc.SID)); err != nil {
			a.logger.Error("delete expired session", "err", err)
		}
		return dead()
	}
	if w != nil && now.Sub(time.Unix(sc.Seen, 0)) >= a.refreshEvery() {
		a.setSessionCookie(w, sc.SID, now, rec.Expires)
	}
	return &session{sid: sc.SID, record: rec, csrf: a.csrfFor(sc.SID)}, true, nil
}

// refreshEvery is how stale the cookie's idle timer may get before it is re-issued: often enough
// that idle expiry stays accurate, rarely enough that most responses set no cookie.
func (a *Authenticator) refreshEvery() time.Duration {
	return min(a.cfg.Session.Idle/10, 5*time.Minute)
}

func (a *Authenticator) setSessionCookie(w http.ResponseWriter, sid string, now, expires time.Time) {
	pt, _ := json.Marshal(sessionCookie{SID: sid, Seen: now.Unix()})
	maxAge := min(a.cfg.Session.Idle, expires.Sub(now))
	a.setCookie(w, a.sessionCookie, a.sealer.seal(a.sessionCookie, pt), maxAge)
}

func (a *Authenticator) loadSession(ctx context.Context, sid string) (sessionRecord, error) {
	var rec sessionRecord
	rc, _, err := a.bucket.Get(ctx, sessionKeyFor(sid))
	if err != nil {
		return rec, fmt.Errorf("session: %w", err)
	}
	defer rc.Close()
	if err := json.NewDecoder(io.LimitReader(rc, 64<<10)).Decode(&rec); err != nil {
		// A record that does not decode is no session (and no outage).
		return rec, fmt.Errorf("session: decode: %v: %w", err, storage.ErrNotFound)
	}
	return rec, nil
}

// startSession stores a new session for p and sets its cookie. The session id is new at every
// sign-in (and any session the browser had is ended), so an id planted before sign-in is worthless.
func (a *Authenticator) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, p practices.Principal, idToken string) error {
	if old, ok := a.resolve(nil, r); ok {
		if err := a.bucket.Delete(ctx, sessionKeyFor(old.sid)); err != nil {
			return fmt.Errorf("end previous session: %w", err)
		}
	}
	now := a.now()
	rec := sessionRecord{Principal: p, Created: now.UTC(), Expires: now.Add(a.cfg.Session.Absolute).UTC(), IDToken: idToken}
	body, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	sid := randomHex(32)
	if _, err := a.bucket.Put(ctx, sessionKeyFor(sid), bytes.NewReader(body), int64(len(body)),
		storage.PutOptions{IfNoneMatch: true, ContentType: "application/json"}); err != nil {
		return fmt.Errorf("store session: %w", err)
	}
	a.setSessionCookie(w, sid, now, rec.Expires)
	return nil
}

// Prune deletes the records of sessions past their absolute expiry and of sign-ins that were never
// finished. Sessions that end by sign-out or expiry are removed as they end; this sweeps the ones
// abandoned in a browser. Call it every hour or so; it is safe on several replicas at once.
func (a *Authenticator) Prune(ctx context.Context) error {
	now := a.now()
	for _, p := range []struct {
		prefix string
		ttl    time.Duration
	}{{sessionPrefix, a.cfg.Session.Absolute}, {loginPrefix, loginTTL}} {
		after := ""
		for {
			page, err := a.bucket.List(ctx, storage.ListOptions{Prefix: p.prefix, StartAfter: after, Limit: 1000})
			if err != nil {
				return fmt.Errorf("prune %s: %w", p.prefix, err)
			}
			for _, o := range page {
				if now.Sub(o.ModTime) > p.ttl {
					if err := a.bucket.Delete(ctx, o.Key); err != nil {
						return fmt.Errorf("prune %s: %w", o.Key, err)
					}
				}
			}
			if len(page) < 1000 {
				break
			}
			after = page[len(page)-1].Key
		}
	}
	return nil
}

// csrfFor is the CSRF token of session sid: an HMAC of the id, so it needs no storage, changes with
// every sign-in, and reveals nothing about the id.
func (a *Authenticator) csrfFor(sid string) string {
	m := hmac.New(sha256.New, a.csrfKey)
	m.Write([]byte(sid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	return s
}

// CSRFToken returns the CSRF token page templates put into every form of a cookie-authenticated
// page, as a hidden field named "csrf_token" (or, for scripts, the X-CSRF-Token header). It is
// empty when the request has no session (Middleware did not find one).
func CSRFToken(c echo.Context) string {
	if s := sessionFrom(c.Request().Context()); s != nil {
		return s.csrf
	}
	return ""
}

func trimSlash(s string) string { return strings.TrimSuffix(s, "/") }
