package web

import (
	"errors"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
)

// Undo in the pages: withdraw a published practice, test or collection, delete one that is not
// published, remove a material from a practice. They make the same repository calls as the API
// (Withdraw, Delete, a new version without the file), and each needs the second, explicit button of
// its confirmation step: a form posted without confirm=<action> changes nothing.

// undoTarget is where a kind's editing page lives and where its deletion lands.
type undoTarget struct {
	kind     practices.Kind
	edit     func(id string) string
	afterDel string
}

var undoTargets = map[practices.Kind]undoTarget{
	practices.KindPractice:   {practices.KindPractice, func(id string) string { return "/workspace/practices/" + id + "/edit" }, "/workspace"},
	practices.KindTest:       {practices.KindTest, func(id string) string { return "/workspace/tests/" + id }, "/workspace"},
	practices.KindCollection: {practices.KindCollection, func(id string) string { return "/collections/" + id + "/edit" }, "/collections"},
}

// confirmed reports whether the form came from the confirmation step's own button; otherwise the
// caller sends the person back to the page, where the step explains what would happen.
func confirmed(c echo.Context, action string) bool { return c.FormValue("confirm") == action }

func (s *Server) withdrawPage(kind practices.Kind) echo.HandlerFunc {
	t := undoTargets[kind]
	return func(c echo.Context) error {
		rec, err := s.writable(c.Request().Context(), principal(c), kind, c.Param("id"))
		if err != nil {
			return err
		}
		id := rec.RecordMeta().ID
		if !confirmed(c, "withdraw") {
			return seeOther(c, t.edit(id), nil)
		}
		if _, err := s.repo.Withdraw(c.Request().Context(), principal(c), kind, id, versionOf(c)); err != nil {
			return s.undoRefused(c, t, id, err)
		}
		return seeOther(c, t.edit(id), url.Values{"withdrawn": {"1"}})
	}
}

func (s *Server) deletePage(kind practices.Kind) echo.HandlerFunc {
	t := undoTargets[kind]
	return func(c echo.Context) error {
		rec, err := s.writable(c.Request().Context(), principal(c), kind, c.Param("id"))
		if err != nil {
			return err
		}
		m := rec.RecordMeta()
		if !confirmed(c, "delete") {
			return seeOther(c, t.edit(m.ID), nil)
		}
		if m.Status == practices.StatusPublished {
			// The pages delete only what no one outside the team is reading: withdraw first.
			return seeOther(c, t.edit(m.ID), url.Values{"refused": {"published"}})
		}
		if err := s.repo.Delete(c.Request().Context(), principal(c), kind, m.ID, versionOf(c)); err != nil {
			return s.undoRefused(c, t, m.ID, err)
		}
		return seeOther(c, t.afterDel, url.Values{"deleted": {recordTitle(rec)}})
	}
}

// recordTitle is how a deleted record is named in the notice of the page the person lands on.
func recordTitle(rec practices.Record) string {
	switch r := rec.(type) {
	case *practices.Practice:
		return r.Title
	case *practices.Test:
		if r.Title != "" {
			return r.Title
		}
		return "the test"
	case *practices.Collection:
		return r.Title
	}
	return "the record"
}

// undoRefused answers a withdraw or delete the repository refused (a stale version, a state that
// does not allow it) with the editing page again and why (savedNotice words it), so nothing is lost.
func (s *Server) undoRefused(c echo.Context, t undoTarget, id string, err error) error {
	var se *practices.StateError
	switch {
	case errors.Is(err, practices.ErrStale):
		return seeOther(c, t.edit(id), url.Values{"refused": {"stale"}})
	case errors.As(err, &se):
		return seeOther(c, t.edit(id), url.Values{"refused": {"state"}})
	}
	return err
}

// removeMaterialPage removes one file from a practice's materials (a new version without it; the
// file itself stays in the store while another version or practice refers to it).
func (s *Server) removeMaterialPage(c echo.Context) error {
	pr, err := s.writablePractice(c)
	if err != nil {
		return err
	}
	sum := c.Param("sha256")
	name := ""
	for _, m := range pr.Materials {
		if m.SHA256 == sum {
			name = m.Name
		}
	}
	if name == "" {
		return practices.ErrNotFound
	}
	edit := "/workspace/practices/" + pr.ID + "/edit"
	if !confirmed(c, "remove") {
		return seeOther(c, edit, nil)
	}
	_, err = s.repo.Mutate(c.Request().Context(), principal(c), practices.KindPractice, pr.ID, func(cur practices.Record) error {
		cp := cur.(*practices.Practice)
		kept := cp.Materials[:0]
		for _, m := range cp.Materials {
			if m.SHA256 != sum {
				kept = append(kept, m)
			}
		}
		cp.Materials = kept
		return nil
	})
	if err != nil {
		return err
	}
	return seeOther(c, edit, url.Values{"removed": {name}})
}

// undoRoutes registers the undo forms beside the editing pages they belong to.
func (s *Server) undoRoutes(e *echo.Echo) {
	e.POST("/workspace/practices/:id/withdraw", s.withdrawPage(practices.KindPractice))
	e.POST("/workspace/practices/:id/delete", s.deletePage(practices.KindPractice))
	e.POST("/workspace/practices/:id/materials/:sha256/remove", s.removeMaterialPage)
	e.POST("/workspace/tests/:id/withdraw", s.withdrawPage(practices.KindTest))
	e.POST("/workspace/tests/:id/delete", s.deletePage(practices.KindTest))
	e.POST("/collections/:id/withdraw", s.withdrawPage(practices.KindCollection))
	e.POST("/collections/:id/delete", s.deletePage(practices.KindCollection))
}
