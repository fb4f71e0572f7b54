package auth

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// SecurityHeaders returns middleware that sets the security headers of every page:
//
//   - Content-Security-Policy: scripts, styles, images, fonts and connections only from this site,
//     no inline script or style, no plugins, no <base>, forms only to this site (and to
//     formActionOrigins: pass the provider's origin, Authenticator.IssuerOrigin, because sign-out
//     posts a form whose answer redirects there), and no framing (frame-ancestors 'none');
//   - X-Frame-Options DENY and X-Content-Type-Options nosniff for older browsers;
//   - Referrer-Policy same-origin, so URLs (with their query strings) never leak to other sites;
//   - Cross-Origin-Opener-Policy same-origin;
//   - Strict-Transport-Security for two years, only when httpsOnly (the node is served over https).
func SecurityHeaders(httpsOnly bool, formActionOrigins ...string) echo.MiddlewareFunc {
	formAction := "'self'"
	for _, o := range formActionOrigins {
		if o != "" && !strings.ContainsAny(o, " ;,'\"") {
			formAction += " " + o
		}
	}
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action " + formAction + "; frame-ancestors 'none'"
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Frame-Options", "DENY")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			if httpsOnly {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			return next(c)
		}
	}
}
