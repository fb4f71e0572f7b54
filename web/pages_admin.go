package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/web/tokens"
)

// Admin pages: API tokens (list, create — the secret is shown once, on the answer to the create
// form and never again — and revoke). Only admins, as for `brightspots token`.

// kindToken names the token form's fields (it edits no record).
const kindToken practices.Kind = "token"

type tokensPageData struct {
	*EditPage
	Tokens  []tokens.Token
	Secret  string       // the new token's secret: shown once
	Created tokens.Token // the new token
	// KnownTeams are the teams the team picker offers (KnownTeams): a new one is typed on purpose,
	// in its own field, as `brightspots token create` asks for --new-team.
	KnownTeams []string
}

func (s *Server) tokensPage(c echo.Context) error {
	if err := practices.CanManageTokens(principal(c)); err != nil {
		return err
	}
	ep := newEditPage(kindToken, url.Values{"role": {"publisher"}}, 0)
	if id := c.QueryParam("revoked"); id != "" {
		ep.Notice = "Revoked token " + id + ". Scripts using it are refused from now on."
	}
	return s.renderTokens(c, http.StatusOK, &tokensPageData{EditPage: ep})
}

func (s *Server) renderTokens(c echo.Context, status int, data *tokensPageData) error {
	all, err := s.tokens.List(c.Request().Context())
	if err != nil {
		return err
	}
	data.Tokens = all
	sortTokens(data.Tokens)
	if data.KnownTeams, err = s.teams(c.Request().Context()); err != nil {
		return err
	}
	return s.render(c, status, "admin_tokens", "API tokens", data)
}

// sortTokens orders active tokens newest first, then revoked ones newest first.
func sortTokens(ts []tokens.Token) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && tokenBefore(ts[j], ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

func tokenBefore(a, b tokens.Token) bool {
	if (a.RevokedAt == nil) != (b.RevokedAt == nil) {
		return a.RevokedAt == nil
	}
	return a.CreatedAt.After(b.CreatedAt)
}

func (s *Server) createTokenPage(c echo.Context) error {
	if err := practices.CanManageTokens(principal(c)); err != nil {
		return err
	}
	posted, err := c.FormParams()
	if err != nil {
		return err
	}
	v := canonical(posted, []string{"name", "role", "team", "new_team"})
	name, role, team := strings.TrimSpace(v.Get("name")), v.Get("role"), strings.TrimSpace(v.Get("team"))
	newTeam := strings.TrimSpace(v.Get("new_team"))
	ctx := c.Request().Context()
	known, err := s.teams(ctx)
	if err != nil {
		return err
	}
	refuse := func(field, msg string) error {
		ep := newEditPage(kindToken, v, 0)
		ep.addError(field, msg)
		return s.renderTokens(c, http.StatusUnprocessableEntity, &tokensPageData{EditPage: ep})
	}
	switch {
	case team != "" && newTeam != "":
		return refuse("new_team", "choose a team from the list or type a new one, not both")
	case team != "" && !slices.Contains(known, team):
		return refuse("team", "is not a team this node knows: choose one from the list")
	case newTeam != "" && slices.Contains(known, newTeam):
		team = newTeam // typed, but it exists: no harm
	case newTeam != "":
		team = newTeam
	}
	secret, tok, err := s.tokens.Create(ctx, name, role, team)
	if err != nil {
		// The store names the bad input as its command-line flag ("--name: …").
		flag, msg, ok := strings.Cut(err.Error(), ": ")
		field := strings.TrimPrefix(flag, "--")
		if !ok || !strings.HasPrefix(flag, "--") || fieldLabels[kindToken][field] == "" {
			return err
		}
		ep := newEditPage(kindToken, v, 0)
		ep.addError(field, msg)
		return s.renderTokens(c, http.StatusUnprocessableEntity, &tokensPageData{EditPage: ep})
	}
	if tok.Team != "" && !slices.Contains(known, tok.Team) {
		s.forgetTeams() // the picker offers the new team from now on
	}
	s.logger.Info("api token created", append(logAttrs(c), "token", tok.ID, "role", tok.Role, "team", tok.Team)...)
	ep := newEditPage(kindToken, url.Values{"role": {"publisher"}}, 0)
	return s.renderTokens(c, http.StatusOK, &tokensPageData{EditPage: ep, Secret: secret, Created: tok})
}

func (s *Server) revokeTokenPage(c echo.Context) error {
	if err := practices.CanManageTokens(principal(c)); err != nil {
		return err
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	if !confirmed(c, "revoke") {
		// Only the confirmation step's own button revokes (pages_undo.go).
		return seeOther(c, "/admin/tokens", nil)
	}
	all, err := s.tokens.List(ctx)
	if err != nil {
		return err
	}
	// Revoke by id only: tokens.Store.Revoke also accepts a name, which a form must not rely on.
	found := false
	for _, t := range all {
		found = found || t.ID == id
	}
	if !found {
		return practices.ErrNotFound
	}
	tok, err := s.tokens.Revoke(ctx, id)
	if errors.Is(err, tokens.ErrUnknown) {
		return practices.ErrNotFound
	} else if err != nil {
		return err
	}
	s.logger.Info("api token revoked", append(logAttrs(c), "token", tok.ID)...)
	return seeOther(c, "/admin/tokens", url.Values{"revoked": {tok.ID}})
}
