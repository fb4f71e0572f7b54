package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// Measures over time (docs/measures.md): the API around a test's measures. The measures themselves
// are edited with the test (PUT /api/v1/tests/{id}); these endpoints read them (local or mirrored),
// draw them, and turn a score file into points.

func (s *Server) measureRoutes(api *echo.Group) {
	api.GET("/tests/:id/measures", s.getMeasures)
	api.GET("/tests/:id/measures/:file", s.measureChart) // {measure_id}.svg
	api.POST("/tests/:id/measures/:measure/scores", s.uploadMeasureScores)
}

// getMeasures answers a test's published measures to anyone who may see the test — this node's
// own or a copy mirrored from a peer — and, to those who may edit a local test, the team's view
// with every point (those below the minimum n included) and its analysis.
func (s *Server) getMeasures(c echo.Context) error {
	p := principal(c)
	ctx := c.Request().Context()
	rec, err := s.findRecord(ctx, p, practices.KindTest, c.Param("id"))
	if err != nil {
		return err
	}
	t := rec.(*practices.Test)
	measures := t.Measures
	if measures == nil {
		measures = []evidence.Measure{}
	}
	out := map[string]any{"test": t.URI, "version": t.Version, "minimum_n": s.cfg.Privacy.MinN, "measures": measures}
	if t.Origin == s.cfg.Node.URL && practices.CanWrite(p, &t.Meta) == nil {
		team, err := s.repo.TeamMeasures(ctx, t)
		if err != nil {
			return err
		}
		out["team"] = teamView(team)
	}
	return c.JSON(http.StatusOK, out)
}

// teamView adds the team's own analysis (all points, exact values) to its measures.
func teamView(team []evidence.Measure) []evidence.Measure {
	out := make([]evidence.Measure, len(team))
	for i, m := range team {
		m.Analysis = evidence.AnalyzeMeasure(m.Kind, m.BaselineLen(), m.Points)
		out[i] = m
	}
	return out
}

// measureChart draws one published measure as SVG: ?chart=control for the Shewhart chart (default:
// run chart), ?size=small for a small-multiples panel, ?ymin=&ymax= to share a value axis.
func (s *Server) measureChart(c echo.Context) error {
	file := c.Param("file")
	measureID, ok := strings.CutSuffix(file, ".svg")
	if !ok {
		return practices.ErrNotFound
	}
	rec, err := s.findRecord(c.Request().Context(), principal(c), practices.KindTest, c.Param("id"))
	if err != nil {
		return err
	}
	m, ok := practices.FindMeasure(rec.(*practices.Test).Measures, measureID)
	if !ok {
		return practices.ErrNotFound
	}
	opts, err := chartOptions(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=60")
	return c.Blob(http.StatusOK, "image/svg+xml", evidence.RenderMeasureSVG(*m, opts))
}

func chartOptions(c echo.Context) (evidence.ChartOptions, error) {
	var opts evidence.ChartOptions
	switch c.QueryParam("chart") {
	case "", "run":
	case "control":
		opts.Control = true
	default:
		return opts, fieldProblem(http.StatusBadRequest, "chart", "chart", "one_of", "must be run or control")
	}
	switch c.QueryParam("size") {
	case "":
	case "small":
		opts.Small = true
	default:
		return opts, fieldProblem(http.StatusBadRequest, "size", "size", "one_of", "must be small, or left out")
	}
	lo, hi := c.QueryParam("ymin"), c.QueryParam("ymax")
	if lo != "" || hi != "" {
		l, err1 := strconv.ParseFloat(lo, 64)
		h, err2 := strconv.ParseFloat(hi, 64)
		if err1 != nil || err2 != nil || !(h > l) || l < -1e6 || h > 1e6 {
			return opts, fieldProblem(http.StatusBadRequest, "axis", "ymin", "range", "ymin and ymax must both be numbers, ymin below ymax")
		}
		opts.YMin, opts.YMax = l, h
	}
	return opts, nil
}

// uploadMeasureScores turns a de-identified score file (text/csv: date,score, one row per student
// per occasion) into points of one measure. The rows are aggregated per date as they stream and then
// dropped; a refused file changes nothing.
func (s *Server) uploadMeasureScores(c echo.Context) error {
	p := principal(c)
	ctx := c.Request().Context()
	id, measureID := c.Param("id"), c.Param("measure")
	rec, err := s.writable(ctx, p, practices.KindTest, id)
	if err != nil {
		return err
	}
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mt != "text/csv" {
		return fieldProblem(http.StatusUnsupportedMediaType, "content-type", "Content-Type", "one_of",
			"must be text/csv (a de-identified score file with the columns date and score)")
	}
	ms, err := s.parseMeasureScores(c, rec.(*practices.Test), measureID, c.Request().Body)
	if err != nil {
		return err
	}
	updated, err := s.repo.RecordMeasurePoints(ctx, p, id, measureID, ms.Points)
	if err != nil {
		return err
	}
	if err := s.repo.AuditMeasureUpload(ctx, p, id, measureID, ms); err != nil {
		return err
	}
	s.logger.Info("measure scores recorded", append(logAttrs(c), "test", id, "measure", measureID, "rows", ms.Read, "dates", len(ms.Points))...)
	c.Response().Header().Set("ETag", etag(updated.Version))
	m, _ := practices.FindMeasure(updated.Measures, measureID)
	return c.JSON(http.StatusOK, map[string]any{"test": updated, "measure": m, "dates": len(ms.Points), "rows_read": ms.Read})
}

// parseMeasureScores reads a score file for the measure of t, mapping a refusal to a problem that
// names the column, row and rule, never a cell.
func (s *Server) parseMeasureScores(c echo.Context, t *practices.Test, measureID string, r io.Reader) (*evidence.MeasureScores, error) {
	team, err := s.repo.TeamMeasures(c.Request().Context(), t)
	if err != nil {
		return nil, err
	}
	m, ok := practices.FindMeasure(team, measureID)
	if !ok {
		return nil, practices.ErrNotFound
	}
	scaled := *m
	if (m.ScoreMin == nil || m.ScoreMax == nil) && t.Assessment != nil {
		scaled.ScoreMin, scaled.ScoreMax = &t.Assessment.ScoreMin, &t.Assessment.ScoreMax
	}
	return s.readScoreFile(c, scaled, r)
}

// readScoreFile reads a de-identified score file for a measure on its own scale (a test's measure,
// or an aim's outcome measure for progress): the one reader of score files for points, mapping a
// refusal to a problem that names the column, row and rule, never a cell.
func (s *Server) readScoreFile(c echo.Context, m evidence.Measure, r io.Reader) (*evidence.MeasureScores, error) {
	opts := evidence.MeasureScoreOptions{Kind: m.Kind, Cut: m.Cut}
	if m.ScoreMin != nil && m.ScoreMax != nil {
		opts.ScoreMin, opts.ScoreMax = *m.ScoreMin, *m.ScoreMax
	}
	// One byte over the limit lets the parser say "too large" rather than see a truncated file.
	ms, err := evidence.ParseMeasureScores(io.LimitReader(r, evidence.MaxFileBytes+1), opts)
	if err != nil {
		var ie *evidence.InputError
		if errors.As(err, &ie) {
			return nil, s.resultsProblem(c, err)
		}
		return nil, err
	}
	return ms, nil
}
