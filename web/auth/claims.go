package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/brightspots-nic/brightspots/practices"
)

// ErrNotAllowed: the provider vouched for the user, but this node's configuration does not admit
// them (their domain is not an allowed one, or no auth.require rule matches).
var ErrNotAllowed = errors.New("auth: user not allowed to sign in here")

// Limits on what a provider's claims may put into a principal.
const (
	maxClaimString = 320
	maxTeams       = 200
)

// principal maps verified ID-token claims to the session principal. Deny by default: every member
// is a teacher, and every other role comes from a configured rule that matches.
func (c *Config) principal(claims map[string]any) (practices.Principal, error) {
	sub, _ := claims["sub"].(string)
	if sub == "" || len(sub) > 255 {
		return practices.Principal{}, errors.New("auth: ID token has no usable sub claim")
	}
	email, _ := claims["email"].(string)
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > maxClaimString || strings.Count(email, "@") != 1 {
		email = ""
	}
	// An email counts unless the provider marks it unverified. Providers that never send
	// email_verified (Entra ID) issue addresses only from the tenant's own domains.
	if v, present := claims["email_verified"]; present && !truthy(v) {
		email = ""
	}
	domain := ""
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		domain = email[at+1:]
	}

	if len(c.OIDC.AllowedDomains) > 0 {
		hd, _ := claims["hd"].(string)
		hd = strings.ToLower(hd)
		ok := false
		if hd != "" {
			ok = slices.Contains(c.OIDC.AllowedDomains, hd)
		} else {
			ok = domain != "" && slices.Contains(c.OIDC.AllowedDomains, domain)
		}
		if !ok {
			return practices.Principal{}, fmt.Errorf("%w: domain not in auth.oidc.allowed_domains", ErrNotAllowed)
		}
	}

	matches := func(claim, value string) bool {
		var values []string
		fold := true
		switch claim {
		case "email":
			values = nonEmpty(email)
		case "email_domain":
			values = nonEmpty(domain)
		default:
			values, fold = stringValues(claims[claim]), false
		}
		for _, v := range values {
			if v == value || (fold && strings.EqualFold(v, value)) {
				return true
			}
		}
		return false
	}
	if len(c.Require) > 0 && !slices.ContainsFunc(c.Require, func(r ClaimRule) bool { return matches(r.Claim, r.Value) }) {
		return practices.Principal{}, fmt.Errorf("%w: no auth.require rule matches", ErrNotAllowed)
	}

	p := practices.Principal{Kind: "session", Subject: sub, Email: email, Name: displayName(claims)}
	roles := []practices.Role{practices.RoleTeacher}
	for _, rule := range c.Roles {
		if matches(rule.Claim, rule.Value) {
			roles = append(roles, rule.Role)
		}
	}
	if c.Teams.Claim != "" {
		for _, t := range stringValues(claims[c.Teams.Claim]) {
			if strings.HasPrefix(t, c.Teams.Prefix) && practices.CheckTeam(t) == nil && len(p.Teams) < maxTeams {
				p.Teams = append(p.Teams, t)
			}
		}
		slices.Sort(p.Teams)
		p.Teams = slices.Compact(p.Teams)
		if c.Teams.Publish && len(p.Teams) > 0 {
			roles = append(roles, practices.RolePublisher)
		}
	}
	slices.Sort(roles)
	p.Roles = slices.Compact(roles)
	return p, nil
}

func displayName(claims map[string]any) string {
	for _, k := range []string{"name", "preferred_username"} {
		if s, ok := claims[k].(string); ok && s != "" && len(s) <= maxClaimString {
			return s
		}
	}
	return ""
}

// stringValues returns the strings in a claim that is a string or an array; other values (numbers,
// objects, booleans) match nothing.
func stringValues(v any) []string {
	switch v := v.(type) {
	case string:
		return nonEmpty(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	case []string: // claims built in Go rather than decoded from JSON
		return slices.DeleteFunc(slices.Clone(v), func(s string) bool { return s == "" })
	}
	return nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string: // some providers send "true"
		return strings.EqualFold(v, "true")
	}
	return false
}
