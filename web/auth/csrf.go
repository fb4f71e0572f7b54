package auth

import (
	"crypto/subtle"
	"errors"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"
)

// CSRF protection.
//
// Every state-changing request (any method but GET, HEAD, OPTIONS) that is authenticated by the
// session cookie must carry the session's token (CSRFToken): in the X-CSRF-Token header, or in a
// form field "csrf_token" of an application/x-www-form-urlencoded body, or — for multipart uploads,
// whose bodies are streamed and must not be parsed here — in a "csrf_token" query parameter of the
// form's action. Requests with an Authorization header are bearer-token calls: the session cookie
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
			got = r.URL.Query().Get(CSRFField)
		}
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) != 1 {
		return errCSRF.WithInternal(errBadCSRFToken)
	}
	return nil
}

var errBadCSRFToken = errors.New("auth: missing or wrong CSRF token")
