package auth

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/labstack/echo/v4"
)

// CSRF protection.
//
// Every state-changing request (any method but GET, HEAD, OPTIONS) that is authenticated by the
// session cookie must carry the session's token (CSRFToken): in the X-CSRF-Token header, or in a
// form field "csrf_token" of an application/x-www-form-urlencoded body, or — for multipart uploads,
// whose bodies are streamed to storage and must not be read whole here — in a "csrf_token" field that
// is the body's first part (the forms put the hidden field before the file input; browsers send fields
// in document order). Only that first part is read, at most csrfPeekLimit bytes, and every byte read
// is handed back to the handler. Never in the URL: a token in the query string ends up in the
// address bar, the history and access logs. Requests with an Authorization header are bearer-token calls: the session cookie
// is not used for them (see Middleware), so they need no token. On top of the token, as defence in
// depth, cross-origin browser requests are refused by their Sec-Fetch-Site and Origin headers
// (net/http.CrossOriginProtection), with or without a session. The embedded provider's paths
// (/idp/ on the node's origin) are exempt: its sign-in form is not a node form, and it makes the
// same origin checks itself.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// CSRF returns the middleware that enforces the rules above. Install it after Middleware.
func (a *Authenticator) CSRF() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if safeMethod(r.Method) || r.Header.Get("Authorization") != "" || a.forProvider(r) {
				return next(c)
			}
			if err := a.checkCSRF(r, sessionFrom(r.Context())); err != nil {
				return err
			}
			return next(c)
		}
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

var errCSRF = echo.NewHTTPError(http.StatusForbidden, "This form has expired or did not come from this site. Reload the page and try again.")

// checkCSRF checks an unsafe request: origin headers always, and the token when s (the request's
// session) is not nil.
func (a *Authenticator) checkCSRF(r *http.Request, s *session) error {
	if err := a.crossOrigin.Check(r); err != nil {
		return errCSRF.WithInternal(err)
	}
	if s == nil {
		return nil
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch mt {
		case "application/x-www-form-urlencoded":
			got = r.PostFormValue(CSRFField)
		case "multipart/form-data":
			got = peekMultipartToken(r)
		}
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) != 1 {
		return errCSRF.WithInternal(errBadCSRFToken)
	}
	return nil
}

var errBadCSRFToken = errors.New("auth: missing or wrong CSRF token")

// csrfPeekLimit bounds what the middleware reads of a multipart body to find the token: the
// multipart reader's look-ahead and one short first part fit well inside it.
const csrfPeekLimit = 16 << 10

// peekMultipartToken returns the value of a "csrf_token" field that is the first part of r's
// multipart body, or "" when the first part is anything else. The bytes it reads are put back in
// front of the rest of the body, so the handler streams the whole body as sent.
func peekMultipartToken(r *http.Request) string {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" || r.Body == nil {
		return ""
	}
	var seen bytes.Buffer
	body := r.Body
	defer func() {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(seen.Bytes()), body), body}
	}()
	mr := multipart.NewReader(io.TeeReader(io.LimitReader(body, csrfPeekLimit), &seen), params["boundary"])
	part, err := mr.NextPart()
	if err != nil || part.FormName() != CSRFField || part.FileName() != "" {
		return ""
	}
	// A token is 43 characters; anything much longer is not one.
	value, err := io.ReadAll(io.LimitReader(part, 256))
	if err != nil {
		return ""
	}
	if _, err := part.Read(make([]byte, 1)); err != io.EOF {
		return "" // longer than any token, or cut off by the peek limit
	}
	return string(value)
}
