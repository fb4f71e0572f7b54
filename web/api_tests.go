package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
)

// The API of cycles that travel: a practice's tests from every district, adapting a practice,
// and the activity of a team's work elsewhere (docs/cycles.md).

// cycleRoutes registers the routes of this file on the /api/v1 group.
func (s *Server) cycleRoutes(api *echo.Group) {
	api.GET("/practices/:id/tests", s.practiceTests)
	api.POST("/practices/:id/adapt", s.adaptPractice)
	api.GET("/activity", s.activity)
}

// mirroredVersion answers GET …/versions/{v} for a mirrored record: only the version this node
// holds can be served (earlier versions stay at the origin).
func (s *Server) mirroredVersion(ctx context.Context, p practices.Principal, kind practices.Kind, id string, v int) (practices.Record, error) {
	rec, err := s.findRecord(ctx, p, kind, id)
	if err != nil {
		return nil, err
	}
	if rec.RecordMeta().Version != v {
		return nil, practices.ErrNotFound
	}
	return rec, nil
}

// readOnlyIfMirrored turns the "not found" of a write to a record this node only mirrors (and the
// caller may see) into a clear refusal: the record is changed at its origin.
func (s *Server) readOnlyIfMirrored(c echo.Context, kind practices.Kind, err error) error {
	if !errors.Is(err, practices.ErrNotFound) {
		return err
	}
	rec, ferr := s.findRecord(c.Request().Context(), principal(c), kind, c.Param("id"))
	if ferr != nil || rec.RecordMeta().Origin == s.cfg.Node.URL {
		return err
	}
	return problem(http.StatusConflict, "mirrored", "this record is mirrored from "+rec.RecordMeta().Origin+
		"; it can only be changed there (its origin)")
}

// testItem is one test in GET /api/v1/practices/{id}/tests.
type testItem struct {
	ID            string             `json:"id"`
	URI           string             `json:"uri"`
	Origin        string             `json:"origin"`
	Title         string             `json:"title"`
	Status        practices.Status   `json:"status"`
	District      string             `json:"district"`
	Team          string             `json:"team"`
	Practice      string             `json:"practice"` // the practice the test names (an adaptation when via_adaptation)
	ViaAdaptation bool               `json:"via_adaptation"`
	StartDate     string             `json:"start_date,omitempty"`
	EndDate       string             `json:"end_date,omitempty"`
	Cycle         string             `json:"cycle"`
	Design        string             `json:"design"`
	N             *int               `json:"n"`
	Effect        *effectItem        `json:"effect"`
	PredictionMet string             `json:"prediction_met,omitempty"`
	Decision      string             `json:"decision,omitempty"`
	Learnings     string             `json:"learnings,omitempty"`
	Adaptations   string             `json:"adaptations,omitempty"`
	Follows       *practices.TestRef `json:"follows,omitempty"`
}

type effectItem struct {
	G      float64 `json:"g"`
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
}

func newTestItem(t *practices.Test, via bool) testItem {
	it := testItem{
		ID: t.ID, URI: t.URI, Origin: t.Origin, Title: t.Title, Status: t.Status, District: t.OriginID, Team: t.Team,
		Practice: t.Practice.URI, ViaAdaptation: via, StartDate: t.StartDate, EndDate: t.EndDate,
		Cycle: t.Cycle, Design: t.Design, PredictionMet: t.PredictionMet, Decision: t.Decision,
		Learnings: t.Learnings, Adaptations: t.Adaptations, Follows: t.Follows,
	}
	if r := t.Results; r != nil {
		n := 0
		for _, g := range r.Groups {
			if g.N != nil {
				n += *g.N
			}
		}
		if n > 0 {
			it.N = &n
		}
		if e := r.Effect; e != nil {
			it.Effect = &effectItem{G: e.G, CILow: e.CILower, CIHigh: e.CIUpper}
		}
	}
	return it
}

// practiceTests lists every test of a practice the caller may see: local and mirrored, with the
// tests of its adaptations marked via_adaptation. Newest first.
func (s *Server) practiceTests(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	rec, err := s.findRecord(ctx, p, practices.KindPractice, c.Param("id"))
	if err != nil {
		return err
	}
	tests, err := s.repo.TestsOf(ctx, p, rec.RecordMeta().URI)
	if err != nil {
		return err
	}
	items := make([]testItem, 0, len(tests))
	for _, t := range tests {
		items = append(items, newTestItem(t.Test, t.ViaAdaptation))
	}
	return c.JSON(http.StatusOK, map[string]any{"practice": rec.RecordMeta().URI, "items": items})
}

// adaptRequest is the body of POST /api/v1/practices/{id}/adapt.
type adaptRequest struct {
	Team       string               `json:"team"`
	Title      string               `json:"title"`
	Changes    string               `json:"changes"`
	Visibility practices.Visibility `json:"visibility"`
	SharedWith []string             `json:"shared_with"`
}

// adaptPractice creates a draft adaptation of a practice (local or mirrored) in the caller's team.
// A practice the caller cannot see is 404, whatever the body says.
func (s *Server) adaptPractice(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	if !p.Authenticated() {
		return practices.ErrUnauthenticated
	}
	rec, err := s.findRecord(ctx, p, practices.KindPractice, c.Param("id"))
	if err != nil {
		return err
	}
	var req adaptRequest
	if err := decodeJSON(c, s.cfg.Limits.MaxJSONBytes, &req); err != nil {
		return err
	}
	if req.Team == "" {
		req.Team = someTeam(p)
	}
	out, err := s.repo.Adapt(ctx, p, rec.RecordMeta().URI, practices.Adaptation{
		Team: req.Team, Title: req.Title, Changes: req.Changes, Visibility: req.Visibility, SharedWith: req.SharedWith,
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(out.Version))
	c.Response().Header().Set("Location", "/api/v1/practices/"+out.ID)
	return c.JSON(http.StatusCreated, out)
}

// activity answers what other teams did with the caller's teams' published work.
func (s *Server) activity(c echo.Context) error {
	p := principal(c)
	if !p.Authenticated() {
		return practices.ErrUnauthenticated
	}
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return fieldProblem(http.StatusBadRequest, "query", "limit", "range", "must be a whole number from 1 to 200")
		}
		limit = n
	}
	items, err := s.repo.Activity(c.Request().Context(), p, limit)
	if err != nil {
		return err
	}
	out := make([]activityItem, 0, len(items))
	for _, it := range items {
		out = append(out, s.newActivityItem(it))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

// activityItem is practices.ActivityItem with the links a client follows on this node.
type activityItem struct {
	practices.ActivityItem
	URL        string `json:"url"`         // the record's page on this node
	SubjectURL string `json:"subject_url"` // the team's own record's page
}

func (s *Server) newActivityItem(it practices.ActivityItem) activityItem {
	return activityItem{ActivityItem: it,
		URL:        "/" + it.RecordKind.Plural() + "/" + it.RecordID,
		SubjectURL: "/" + it.SubjectKind.Plural() + "/" + it.SubjectID,
	}
}
