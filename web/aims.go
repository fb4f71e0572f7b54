package web

import (
	"context"
	"errors"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/search"
)

// Network aims (docs/aims.md): the API around aims and
// progress beyond the record contract every kind shares (/api/v1/aims, /api/v1/progress): the
// aim's dashboard, whether a progress record's aim is still there, the district's own view of its
// points, and a score file turned into progress points.

func (s *Server) aimRoutes(api *echo.Group) {
	api.GET("/aims/:id/dashboard", s.aimDashboardJSON)
	api.GET("/progress/:id/aim-status", s.progressAimStatus)
	api.GET("/progress/:id/points", s.progressPoints)
	api.POST("/progress/:id/scores", s.uploadProgressScores)
}

// districtLabel names a district by node URL: this node, or the configured peer (never a label
// inside a record: docs/protocol.md, "Who a record comes from").
func (s *Server) districtLabel(origin string) practices.DistrictLabel {
	if origin == s.cfg.Node.URL {
		return practices.DistrictLabel{ID: s.cfg.Node.ID, Name: s.cfg.Node.Name, Origin: origin}
	}
	if s.fed != nil {
		for _, p := range s.fed.Peers() {
			if p.URL == origin {
				return practices.DistrictLabel{ID: p.ID, Name: p.Name, Origin: origin}
			}
		}
	}
	return practices.DistrictLabel{}
}

// networkDistricts lists this node and its peers.
func (s *Server) networkDistricts() []practices.DistrictLabel {
	out := []practices.DistrictLabel{s.districtLabel(s.cfg.Node.URL)}
	if s.fed != nil {
		for _, p := range s.fed.Peers() {
			out = append(out, practices.DistrictLabel{ID: p.ID, Name: p.Name, Origin: p.URL})
		}
	}
	return out
}

// AimDashboard builds the dashboard of the aim with id (local or mirrored) as p sees it, with
// districts named by this node's configuration: what the dashboard page and its JSON show.
func (s *Server) AimDashboard(ctx context.Context, p practices.Principal, id string) (*practices.Dashboard, error) {
	rec, err := s.findRecord(ctx, p, practices.KindAim, id)
	if err != nil {
		return nil, err
	}
	return s.repo.AimDashboard(ctx, p, rec.RecordMeta().URI, practices.DashboardOptions{
		Today: s.repo.Now(), District: s.districtLabel, Network: s.networkDistricts(),
	})
}

// aimDashboardJSON answers GET /api/v1/aims/{id}/dashboard.
func (s *Server) aimDashboardJSON(c echo.Context) error {
	d, err := s.AimDashboard(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return c.JSON(http.StatusOK, d)
}

// progressAimStatus answers whether the aim a progress record refers to is still there: a progress
// record stays when its aim is withdrawn, marked as referring to a withdrawn aim.
func (s *Server) progressAimStatus(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	rec, err := s.findRecord(ctx, p, practices.KindProgress, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.repo.AimProgressOf(ctx, p, rec.(*practices.Progress)))
}

// progressPoints answers a progress record's published points to anyone who may see it and, to
// those who may edit a local record, the district's own points (those below the minimum n
// included) with their analysis.
func (s *Server) progressPoints(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	rec, err := s.findRecord(ctx, p, practices.KindProgress, c.Param("id"))
	if err != nil {
		return err
	}
	pr := rec.(*practices.Progress)
	out := map[string]any{"progress": pr.URI, "version": pr.Version, "minimum_n": s.cfg.Privacy.MinN,
		"points": pr.Points, "withheld": pr.Withheld, "analysis": pr.Analysis}
	if pr.Origin == s.cfg.Node.URL && practices.CanWrite(p, &pr.Meta) == nil {
		team, err := s.repo.TeamProgress(ctx, pr)
		if err != nil {
			return err
		}
		kind := ""
		if aim, err := s.repo.LoadAim(ctx, p, pr.Aim.URI); err == nil && aim.OutcomeMeasure != nil {
			kind = aim.OutcomeMeasure.Kind
		}
		out["team"] = map[string]any{"points": team, "analysis": evidence.AnalyzeMeasure(kind, 0, team)}
	}
	return c.JSON(http.StatusOK, out)
}

// uploadProgressScores turns a de-identified score file (text/csv: date,score, one row per student
// per occasion) into progress points, read by the same code and under the same rules as a
// measure's score file. The rows are aggregated per date as they stream and then dropped.
func (s *Server) uploadProgressScores(c echo.Context) error {
	p := principal(c)
	ctx := c.Request().Context()
	id := c.Param("id")
	rec, err := s.writable(ctx, p, practices.KindProgress, id)
	if err != nil {
		return err
	}
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mt != "text/csv" {
		return fieldProblem(http.StatusUnsupportedMediaType, "content-type", "Content-Type", "one_of",
			"must be text/csv (a de-identified score file with the columns date and score)")
	}
	pr := rec.(*practices.Progress)
	aim, err := s.repo.LoadAim(ctx, p, pr.Aim.URI)
	if err != nil {
		return fieldProblem(http.StatusUnprocessableEntity, "validation", "aim.uri", "not_found", "names no aim you can see")
	}
	if aim.OutcomeMeasure == nil {
		return fieldProblem(http.StatusUnprocessableEntity, "validation", "aim.uri", "no_outcome_measure", "names an aim without an outcome measure")
	}
	m := practices.ProgressMeasure(aim.OutcomeMeasure, nil, nil)
	ms, err := s.readScoreFile(c, m, c.Request().Body)
	if err != nil {
		return err
	}
	updated, err := s.repo.RecordProgressPoints(ctx, p, id, ms.Points)
	if err != nil {
		return err
	}
	if err := s.repo.AuditProgressUpload(ctx, p, id, ms); err != nil {
		return err
	}
	s.logger.Info("progress scores recorded", append(logAttrs(c), "progress", id, "rows", ms.Read, "dates", len(ms.Points))...)
	c.Response().Header().Set("ETag", etag(updated.Version))
	return c.JSON(http.StatusOK, map[string]any{"progress": updated, "dates": len(ms.Points), "rows_read": ms.Read})
}

// resolveAimFilter turns a search's aim=<uri> into the practices that aim's change ideas link, as
// p sees the aim: an aim p may not see, or one withdrawn, links nothing (search.Query.Aim).
func (s *Server) resolveAimFilter(ctx context.Context, p practices.Principal, q *search.Query) error {
	q.AimPractices = nil
	if q.Aim == "" || s.repo == nil {
		return nil
	}
	aim, err := s.repo.LoadAim(ctx, p, q.Aim)
	if errors.Is(err, practices.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if aim.Status != practices.StatusPublished {
		return nil
	}
	seen := map[string]bool{}
	for _, ci := range aim.ChangeIdeas {
		for _, u := range ci.Practices {
			if !seen[u] {
				seen[u] = true
				q.AimPractices = append(q.AimPractices, u)
			}
		}
	}
	return nil
}
