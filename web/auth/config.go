package auth

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
)

// Config is the auth section of the server configuration (YAML key "auth").
//
//	auth:
//	  oidc:
//	    issuer: https://accounts.google.com      # empty: the embedded provider at <public URL>/idp
//	    client_id: 1234.apps.googleusercontent.com
//	    client_secret: ...                        # from the environment, not the file
//	    scopes: [openid, email, profile]          # the default
//	    allowed_domains: [district.example.org]   # optional
//	  roles:                                      # claim value → role; every member is a teacher
//	    - {claim: groups, value: nic-coordinators, role: coordinator}
//	    - {claim: email, value: it@district.example.org, role: admin}
//	    - {claim: email_domain, value: district.example.org, role: publisher}
//	  teams: {claim: groups, prefix: plc-, publish: true}
//	  session: {idle: 2h, absolute: 12h}
type Config struct {
	OIDC OIDC `yaml:"oidc"`
	// Require, when not empty, admits only users matching at least one rule (claim and value as in
	// roles; the role is ignored). A district IdP also signs in students: require a staff group, an
	// organisational unit claim, or Clever's user_type teacher/district_admin, so that only staff
	// become members of the node.
	Require []ClaimRule `yaml:"require"`
	Roles   []RoleRule  `yaml:"roles"`
	Teams   Teams       `yaml:"teams"`
	Session Session     `yaml:"session"`
	// PublicURL is the node's public URL (the server's public_url, not a key of this section): the
	// base of the redirect URI (<PublicURL>/auth/callback), the cookie rule and the origin checks.
	PublicURL string `yaml:"-"`
}

// OIDC is the relying-party configuration for the district's OpenID provider.
type OIDC struct {
	// Issuer is the provider's issuer URL, matched exactly against discovery and every ID token.
	Issuer       string `yaml:"issuer"`
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// Scopes requested; default openid, email, profile ("openid" is always added).
	Scopes []string `yaml:"scopes"`
	// AllowedDomains, when not empty, admits only users of these domains: the hd claim when the
	// provider sends one (Google Workspace), otherwise the domain of the email, which must not be
	// marked unverified.
	AllowedDomains []string `yaml:"allowed_domains"`
}

// ClaimRule matches a user whose Claim has Value (see RoleRule for how claims are compared).
type ClaimRule struct {
	Claim string `yaml:"claim"`
	Value string `yaml:"value"`
}

// RoleRule grants Role to a user whose Claim has Value.
//
// Claim is "email" (the user's email, case-insensitive), "email_domain" (the part after @,
// case-insensitive) or the name of any claim holding a string or an array of strings, compared
// exactly (for example "groups", or "roles" from the embedded provider). email and email_domain
// match only an email the provider has not marked unverified (email_verified false).
type RoleRule struct {
	Claim string         `yaml:"claim"`
	Value string         `yaml:"value"`
	Role  practices.Role `yaml:"role"`
}

// Teams says where a user's PLC teams come from.
type Teams struct {
	// Claim holding the teams (a string or an array of strings), e.g. "groups". Empty: no teams.
	Claim string `yaml:"claim"`
	// Prefix, when set, keeps only values starting with it (e.g. "plc-" keeps plc-math-4 and drops
	// nic-coordinators). The team is the whole value.
	Prefix string `yaml:"prefix"`
	// Publish makes every member of at least one team a publisher.
	Publish bool `yaml:"publish"`
}

// Session sets the lifetime of a signed-in session.
type Session struct {
	Idle     time.Duration `yaml:"idle"`     // signed out after this long without a request; default 2h
	Absolute time.Duration `yaml:"absolute"` // signed out this long after sign-in whatever happens; default 12h
}

// Defaults.
const (
	DefaultIdle     = 2 * time.Hour
	DefaultAbsolute = 12 * time.Hour
)

// Paths the Authenticator registers.
const (
	LoginPath    = "/login"
	CallbackPath = "/auth/callback"
	LogoutPath   = "/logout"
)

// EmbeddedClaims are the claim names of the embedded provider (web/idp), repeated here so this
// package does not import it; the end-to-end test proves they agree.
const (
	embeddedRolesClaim = "roles"
	embeddedTeamsClaim = "teams"
)

// WithEmbeddedProvider returns c set up to sign in through the embedded provider at issuer with the
// given client: the provider's "roles" claim maps one-to-one to roles and its "teams" claim gives
// the teams. Role rules and a teams claim already configured are kept.
func (c Config) WithEmbeddedProvider(issuer, clientID, clientSecret string) Config {
	c.OIDC.Issuer, c.OIDC.ClientID, c.OIDC.ClientSecret = issuer, clientID, clientSecret
	c.OIDC.AllowedDomains = nil
	c.Roles = slices.Clone(c.Roles)
	for _, r := range []practices.Role{practices.RolePublisher, practices.RoleCoordinator, practices.RoleAdmin} {
		c.Roles = append(c.Roles, RoleRule{Claim: embeddedRolesClaim, Value: string(r), Role: r})
	}
	if c.Teams.Claim == "" {
		c.Teams = Teams{Claim: embeddedTeamsClaim}
	}
	return c
}

// RedirectURL is the redirect URI to register with the provider: <PublicURL>/auth/callback.
func (c Config) RedirectURL() string { return strings.TrimSuffix(c.PublicURL, "/") + CallbackPath }

// PostLogoutURL is where the provider sends the browser after RP-initiated logout: <PublicURL>/.
func (c Config) PostLogoutURL() string { return strings.TrimSuffix(c.PublicURL, "/") + "/" }

// withDefaults fills defaults and checks c; errors name the configuration key.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	c.OIDC.Scopes = slices.Clone(c.OIDC.Scopes)
	c.OIDC.AllowedDomains = slices.Clone(c.OIDC.AllowedDomains)
	c.Roles = slices.Clone(c.Roles)
	pub, err := url.Parse(c.PublicURL)
	if err != nil || pub.Host == "" || (pub.Scheme != "https" && pub.Scheme != "http") {
		errs = append(errs, fmt.Errorf("public_url %q: must be an absolute http(s) URL", c.PublicURL))
	}
	iss, err := url.Parse(c.OIDC.Issuer)
	if err != nil || iss.Host == "" || (iss.Scheme != "https" && iss.Scheme != "http") {
		errs = append(errs, fmt.Errorf("auth.oidc.issuer %q: must be an absolute http(s) URL", c.OIDC.Issuer))
	}
	if c.OIDC.ClientID == "" {
		errs = append(errs, errors.New("auth.oidc.client_id: required"))
	}
	if len(c.OIDC.Scopes) == 0 {
		c.OIDC.Scopes = []string{"openid", "email", "profile"}
	} else if !slices.Contains(c.OIDC.Scopes, "openid") {
		c.OIDC.Scopes = append([]string{"openid"}, c.OIDC.Scopes...)
	}
	for i, d := range c.OIDC.AllowedDomains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" || strings.ContainsAny(d, "@/ ") {
			errs = append(errs, fmt.Errorf("auth.oidc.allowed_domains[%d] %q: not a domain", i, c.OIDC.AllowedDomains[i]))
		}
		c.OIDC.AllowedDomains[i] = d
	}
	for i, r := range c.Require {
		if r.Claim == "" || r.Value == "" {
			errs = append(errs, fmt.Errorf("auth.require[%d]: claim and value are required", i))
		}
	}
	for i, r := range c.Roles {
		if r.Claim == "" || r.Value == "" {
			errs = append(errs, fmt.Errorf("auth.roles[%d]: claim and value are required", i))
		}
		if _, ok := practices.ParseRole(string(r.Role)); !ok {
			errs = append(errs, fmt.Errorf("auth.roles[%d].role %q: not one of teacher, publisher, coordinator, admin", i, r.Role))
		}
	}
	if c.Session.Idle == 0 {
		c.Session.Idle = DefaultIdle
	}
	if c.Session.Absolute == 0 {
		c.Session.Absolute = DefaultAbsolute
	}
	if c.Session.Idle < time.Minute || c.Session.Absolute < c.Session.Idle {
		errs = append(errs, fmt.Errorf("auth.session: idle (%s) must be at least 1m and no longer than absolute (%s)", c.Session.Idle, c.Session.Absolute))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("auth config: %w", errors.Join(errs...))
	}
	return c, nil
}
