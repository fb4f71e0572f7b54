// Package auth resolves who is calling: browser sessions from OpenID Connect sign-in, CSRF
// protection for cookie-authenticated forms, and the request principal every handler authorizes
// against (WithPrincipal, PrincipalFrom). It also holds the page security headers, the rate
// limiter and the client-address rule they share.
//
// # Sign-in
//
// An Authenticator is the node's OpenID Connect relying party (go-oidc and golang.org/x/oauth2),
// the same code whether the provider is the district's (Google, Entra ID, Keycloak …) or the
// embedded one in web/idp. GET /login starts the authorization code flow with PKCE (S256), a state
// and a nonce; those three and the page to return to are kept in the bucket under
// node/logins/{id}.json, behind a sealed, ten-minute __Host-bs_login cookie holding only the id.
// GET /auth/callback takes that record exactly once — across replicas, by a create-only marker
// node/logins/{id}.used — compares state, exchanges the code with the PKCE verifier, and verifies
// the ID token with go-oidc: signature by a key from the provider's JWKS with an asymmetric
// algorithm, issuer exactly as configured, audience our client id (and azp when there are several
// audiences), expiry; then the nonce. Claims become a principal through the configured mapping
// (claims.go); allowed_domains is enforced there. Discovery happens on first use and is retried
// until it works, so the node starts while its provider is down.
//
// # Sessions
//
// A session is a record in the bucket, node/sessions/{sid}.json (principal, absolute expiry, the ID
// token for the logout hint), and a cookie __Host-bs_session sealed with AES-256-GCM holding the
// session id and when the browser last used it. The id is 256 random bits and new at every sign-in
// (any earlier session of the browser is ended). Each cookie-authenticated request reads the record
// once, so deleting it — POST /logout does — ends the session on every replica at once. Idle expiry
// lives in the cookie (re-issued every min(idle/10, 5m) of use); absolute expiry in the record.
// Prune removes records of abandoned sessions and sign-ins. The cookie key is derived from a master
// key kept at node/auth/master-key.json, created on first start; rotating it signs everyone out.
// Cookie naming (__Host- and Secure) follows the rule in cookie.go.
//
// # Wiring
//
// Middleware order for the server (outermost first): recover, request id, logging,
// SecurityHeaders, body limits, the bearer-token middleware, Authenticator.Middleware,
// Authenticator.CSRF, RateLimit. Set e.IPExtractor from IPExtractor(trusted proxies) first.
// Authenticator.Register adds GET /login, GET /auth/callback and POST /logout.
package auth
