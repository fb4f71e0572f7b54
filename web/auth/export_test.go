package auth

import "time"

// SetClock replaces a's clock (session expiry, ID-token expiry checks) for tests.
func SetClock(a *Authenticator, now func() time.Time) { a.now = now }

// SessionCookieName is the session cookie's name for a.
func SessionCookieName(a *Authenticator) string { return a.sessionCookie }
