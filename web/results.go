package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// uploadResults computes a test's results from a de-identified score table (text/csv) or from
// per-group summary statistics (application/json). Rows are parsed as they stream, checked against
// the privacy rules, used, and dropped; only aggregates are kept.
func (s *Server) uploadResults(c echo.Context) error {
	p := principal(c)
	ctx := c.Request().Context()
	id := c.Param("id")
	rec, err := s.writable(ctx, p, practices.KindTest, id)
	if err != nil {
		return err
	}
	t := rec.(*practices.Test)
	opts, err := practices.ResultsOptions(t, s.cfg.Privacy.MinN)
	if err != nil {
		return err
	}
	var analysis *evidence.Analysis
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	switch mt {
	case "text/csv":
		// One byte over the limit lets the parser say "too large" rather than see a truncated file.
		body := io.LimitReader(c.Request().Body, evidence.MaxFileBytes+1)
		analysis, err = evidence.AnalyzeCSV(body, opts)
	case "application/json":
		var in evidence.SummaryInput
		if err := decodeJSON(c, s.cfg.Limits.MaxJSONBytes, &in); err != nil {
			return err
		}
		analysis, err = evidence.AnalyzeSummary(in, opts)
	default:
		return fieldProblem(http.StatusUnsupportedMediaType, "content-type", "Content-Type", "one_of",
			"must be text/csv (a de-identified score table) or application/json (summary statistics)")
	}
	if err != nil {
		return s.resultsProblem(c, err)
	}
	updated, err := s.repo.RecordResults(ctx, p, id, analysis)
	if err != nil {
		return err
	}
	s.logger.Info("results recorded", append(logAttrs(c), "test", id, "source", analysis.Source,
		"rows_used", analysis.RowsUsed, "rows_dropped", analysis.RowsDropped, "shareable", analysis.Shareable())...)
	c.Response().Header().Set("ETag", etag(updated.Version))
	return c.JSON(http.StatusOK, map[string]any{"test": updated, "analysis": analysis, "results": updated.Results})
}

// resultsProblem turns a refused upload into a problem naming the column, row and rule. The log
// gets only the rule and position: an error message may repeat a header a district typed.
func (s *Server) resultsProblem(c echo.Context, err error) error {
	var ie *evidence.InputError
	if !errors.As(err, &ie) {
		return err
	}
	s.logger.Info("results refused", append(logAttrs(c), "rule", ie.Rule, "line", ie.Line, "row", ie.Row, "field", ie.Field)...)
	field := ie.Field
	switch {
	case ie.Column != "" && ie.Row > 0:
		field = fmt.Sprintf("row %d, column %s", ie.Row, ie.Column)
	case ie.Column != "":
		field = "column " + ie.Column
	case ie.Row > 0:
		field = "row " + strconv.Itoa(ie.Row)
	case field == "":
		field = "file"
	}
	status := http.StatusUnprocessableEntity
	if ie.Rule == evidence.RuleTooLarge {
		status = http.StatusRequestEntityTooLarge
	}
	return problem(status, "results", ie.Message, practices.FieldError{Field: field, Rule: ie.Rule, Message: ie.Message})
}

// getResults answers the published results to anyone who may see the test, and the team's
// unsuppressed view in addition to those who may edit it.
func (s *Server) getResults(c echo.Context) error {
	p := principal(c)
	rec, err := s.findRecord(c.Request().Context(), p, practices.KindTest, c.Param("id"))
	if err != nil {
		return err
	}
	t := rec.(*practices.Test)
	if t.Results == nil {
		return problem(http.StatusNotFound, "no-results", "this test has no results yet")
	}
	out := map[string]any{"results": t.Results}
	if t.Origin == s.cfg.Node.URL && practices.CanWrite(p, &t.Meta) == nil {
		if in, err := s.repo.InternalResults(c.Request().Context(), t.ID); err == nil {
			out["analysis"] = in.Analysis
		}
	}
	return c.JSON(http.StatusOK, out)
}

// resultsSVG is the published results card as a picture with its own text alternative.
func (s *Server) resultsSVG(c echo.Context) error {
	rec, err := s.findRecord(c.Request().Context(), principal(c), practices.KindTest, c.Param("id"))
	if err != nil {
		return err
	}
	t := rec.(*practices.Test)
	if t.Results == nil {
		return problem(http.StatusNotFound, "no-results", "this test has no results yet")
	}
	return c.Blob(http.StatusOK, "image/svg+xml", evidence.RenderResultsSVG(t.Results))
}

// practiceEvidence pools every published test of the practice the caller may see.
func (s *Server) practiceEvidence(c echo.Context) error {
	p := principal(c)
	rec, err := s.findRecord(c.Request().Context(), p, practices.KindPractice, c.Param("id"))
	if err != nil {
		return err
	}
	sum, err := s.repo.Evidence(c.Request().Context(), p, rec.RecordMeta().URI, s.cfg.Privacy.MinN)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sum)
}

// evidenceSVG is a practice's forest plot for one design family (?family=single_group|comparison).
func (s *Server) evidenceSVG(c echo.Context) error {
	p := principal(c)
	rec, err := s.findRecord(c.Request().Context(), p, practices.KindPractice, c.Param("id"))
	if err != nil {
		return err
	}
	sum, err := s.repo.Evidence(c.Request().Context(), p, rec.RecordMeta().URI, s.cfg.Privacy.MinN)
	if err != nil {
		return err
	}
	family := c.QueryParam("family")
	for _, pool := range sum.Pools {
		if family == "" || string(pool.Family) == family {
			return c.Blob(http.StatusOK, "image/svg+xml", evidence.RenderForestSVG(pool))
		}
	}
	return problem(http.StatusNotFound, "no-evidence", "no pooled evidence for this practice and design family yet")
}
