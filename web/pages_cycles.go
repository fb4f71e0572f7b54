package web

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// Pages of cycles that travel: the page of a test (local or mirrored) with its ramp, the form that
// adapts a practice, and the activity panel of the workspace. Registered by cyclePages.

// testPublicView is the page of one test for every reader who may see it.
type testPublicView struct {
	T             *practices.Test
	Local         bool
	DistrictName  string
	Practice      *practices.Practice // nil when the viewer cannot see it
	PracticeURL   string
	Adapts        *lineageView // the practice tested is an adaptation of this one
	Cycle, Design string
	Prediction    string
	PredictionMet string
	Assessment    string
	Cohort        []string
	Dates         string
	Dosage        string
	Fidelity      string
	Adaptations   []textBlock
	Deviations    []textBlock
	Learnings     []textBlock
	ResultsChart  template.URL
	ResultsAlt    string
	EffectNote    string
	Decision      string
	Ramp          []rampStep
	// Measures are the test's measures over time as the "measure-figures" partial shows them
	// (measures_view.go): the same charts for a local and a mirrored test.
	Measures []MeasureView
	// CanEdit: the viewer's team owns this (local) test; EditURL opens it in the workspace.
	CanEdit  bool
	EditURL  string
	NextURL  string // "start the next cycle", for publishers
	Printing bool
}

// rampStep is one cycle of a ramp.
type rampStep struct {
	Number   int
	Title    string
	URL      string
	District string
	Decision string
	Changed  string // what the team changed in this cycle (its adaptations), shortened
	Current  bool
}

func (s *Server) testPublicPage(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	rec, err := s.findRecord(ctx, p, practices.KindTest, c.Param("id"))
	if err != nil {
		return notFoundOrSignIn(p, err)
	}
	t := rec.(*practices.Test)
	names := s.districtNames()
	district := func(id string) string {
		if n := names[id]; n != "" {
			return n
		}
		return id
	}
	v := testPublicView{
		Measures: measureViews(t),
		T:        t, Local: t.Origin == s.cfg.Node.URL, DistrictName: district(t.OriginID),
		Cycle: cycleLabel(t.Cycle), Design: designLabel(t.Design), Decision: decisionLabel(t.Decision),
		PredictionMet: predictionMetLabel(t.PredictionMet),
		Adaptations:   textBlocks(t.Adaptations), Deviations: textBlocks(t.Deviations), Learnings: textBlocks(t.Learnings),
	}
	if pr, err := s.repo.LoadPractice(ctx, p, t.Practice.URI); err == nil {
		v.Practice, v.PracticeURL = pr, s.practiceLink(pr)
		for _, b := range pr.BasedOn {
			if b.Relation != "adaptation_of" {
				continue
			}
			if orig, err := s.repo.LoadPractice(ctx, p, b.URI); err == nil {
				v.Adapts = &lineageView{Relation: "Adapted from", Title: orig.Title, URL: s.practiceLink(orig), District: district(orig.OriginID), Changes: b.Changes}
			}
		}
	}
	if pr := t.Prediction; pr != nil {
		v.Prediction = fmt.Sprintf("%s (%s %s %s)", pr.Text, metricLabel(pr.Metric), pr.Operator, strconv.FormatFloat(pr.Value, 'f', -1, 64))
	}
	if a := t.Assessment; a != nil {
		v.Assessment = fmt.Sprintf("%s, scored %s to %s", a.Name, strconv.FormatFloat(a.ScoreMin, 'f', -1, 64), strconv.FormatFloat(a.ScoreMax, 'f', -1, 64))
		if a.ProficiencyCut != nil {
			v.Assessment += fmt.Sprintf(", proficient from %s", strconv.FormatFloat(*a.ProficiencyCut, 'f', -1, 64))
		}
		if a.Kind != "" {
			v.Assessment += " (" + a.Kind + ")"
		}
	}
	if co := t.Cohort; co != nil {
		if len(co.GradeLevels) > 0 {
			v.Cohort = append(v.Cohort, gradeList(co.GradeLevels))
		}
		if len(co.Subjects) > 0 {
			v.Cohort = append(v.Cohort, subjectList(co.Subjects))
		}
		if co.Classrooms > 0 {
			v.Cohort = append(v.Cohort, plural(co.Classrooms, "classroom", "classrooms"))
		}
		if co.StudentsPlanned > 0 {
			v.Cohort = append(v.Cohort, plural(co.StudentsPlanned, "student planned", "students planned"))
		}
		if len(co.ContextTags) > 0 {
			v.Cohort = append(v.Cohort, "context: "+strings.Join(co.ContextTags, ", "))
		}
	}
	switch {
	case t.StartDate != "" && t.EndDate != "":
		v.Dates = humanDate(t.StartDate) + " to " + humanDate(t.EndDate)
	case t.StartDate != "":
		v.Dates = "from " + humanDate(t.StartDate)
	}
	if d := t.Dosage; d != nil {
		var parts []string
		if d.SessionsDelivered > 0 || d.SessionsPlanned > 0 {
			parts = append(parts, fmt.Sprintf("%d of %d planned sessions delivered", d.SessionsDelivered, d.SessionsPlanned))
		}
		if d.MinutesPerSession > 0 {
			parts = append(parts, plural(d.MinutesPerSession, "minute", "minutes")+" each")
		}
		v.Dosage = strings.Join(parts, ", ")
	}
	if f := t.Fidelity; f != nil {
		var parts []string
		if f.AdherencePct != nil {
			parts = append(parts, fmt.Sprintf("%.0f%% of key moves followed", *f.AdherencePct))
		}
		if f.Method != "" {
			parts = append(parts, "checked by "+fidelityLabel(f.Method))
		}
		v.Fidelity = strings.Join(parts, ", ")
	}
	if r := t.Results; r != nil {
		// The published view only: suppressed and coarsened as it left the district.
		v.ResultsChart = template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(evidence.RenderResultsSVG(r)))
		v.ResultsAlt = "Chart of mean scores before and after. Every figure is in the table that follows."
		if r.Effect == nil && r.EffectNote != "" {
			v.EffectNote = r.EffectNote
		}
	}
	ramp, err := s.repo.Ramp(ctx, p, t)
	if err != nil {
		return err
	}
	v.Ramp = rampSteps(ramp, t.URI, district)
	if v.Local && practices.CanWrite(p, &t.Meta) == nil {
		v.CanEdit, v.EditURL = true, "/workspace/tests/"+t.ID
	}
	if p.Has(practices.RolePublisher) && t.Status == practices.StatusPublished {
		v.NextURL = "/workspace/tests/new?" + url.Values{"practice": {t.Practice.URI}, "follows": {t.URI}}.Encode()
	}
	title := t.Title
	if title == "" {
		title = "Test"
	}
	return s.render(c, http.StatusOK, "test_public", title, v)
}

// rampSteps numbers the cycles of a ramp and marks the one the page is about.
func rampSteps(ramp []*practices.Test, current string, district func(string) string) []rampStep {
	if len(ramp) < 2 {
		return nil
	}
	out := make([]rampStep, len(ramp))
	for i, t := range ramp {
		out[i] = rampStep{Number: i + 1, Title: t.Title, URL: "/tests/" + t.ID, District: district(t.OriginID),
			Decision: decisionLabel(t.Decision), Changed: shorten(t.Adaptations, 160), Current: t.URI == current}
	}
	return out
}

// shorten cuts s to at most n characters at a word boundary, with an ellipsis.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndex(cut, " "); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func humanDate(d string) string {
	if t, err := time.Parse(time.DateOnly, d); err == nil {
		return t.Format("2 Jan 2006")
	}
	return d
}

func cycleLabel(c string) string {
	switch c {
	case "step":
		return "STEP (Seek, Discover, Confirm, Share): a Confirm test"
	case "pdsa":
		return "PDSA (Plan, Do, Study, Act)"
	}
	return c
}

func predictionMetLabel(m string) string {
	switch m {
	case "yes":
		return "Yes, the prediction was met"
	case "partly":
		return "Partly met"
	case "no":
		return "No, the prediction was not met"
	}
	return "Not recorded"
}

func metricLabel(m string) string {
	switch m {
	case "mean_gain":
		return "mean gain"
	case "pct_proficient_post":
		return "% proficient after"
	case "effect_size":
		return "effect size g"
	}
	return m
}

func fidelityLabel(m string) string {
	switch m {
	case "self_report":
		return "self-report"
	case "peer_observation":
		return "peer observation"
	case "coach_observation":
		return "coach observation"
	}
	return m
}

// ---- adapting a practice ----

type adaptView struct {
	Original   *practices.Practice
	District   string
	Teams      []string
	FreeTeam   bool
	KnownTeams []string // with FreeTeam: the node's teams, offered as suggestions
	Team       string
	Title      string
	Changes    string
	Errors     map[string]string
	Problems   []string
}

func (s *Server) adaptable(c echo.Context) (*practices.Practice, error) {
	p := principal(c)
	if err := mayCreate(p, practices.KindPractice); err != nil {
		return nil, err
	}
	rec, err := s.findRecord(c.Request().Context(), p, practices.KindPractice, c.Param("id"))
	if err != nil {
		return nil, err
	}
	return rec.(*practices.Practice), nil
}

func (s *Server) adaptPracticePage(c echo.Context) error {
	orig, err := s.adaptable(c)
	if err != nil {
		return err
	}
	p := principal(c)
	v := adaptView{Original: orig, Teams: p.Teams, FreeTeam: len(p.Teams) == 0, Team: someTeam(p), Title: orig.Title, Errors: map[string]string{}}
	return s.renderAdapt(c, http.StatusOK, &v)
}

func (s *Server) renderAdapt(c echo.Context, status int, v *adaptView) error {
	v.KnownTeams = s.teamSuggestions(c.Request().Context(), principal(c))
	v.District = s.districtNames()[v.Original.OriginID]
	if v.District == "" {
		v.District = v.Original.OriginID
	}
	return s.render(c, status, "practice_adapt", "Adapt "+v.Original.Title, v)
}

func (s *Server) createAdaptationPage(c echo.Context) error {
	orig, err := s.adaptable(c)
	if err != nil {
		return err
	}
	p := principal(c)
	v := adaptView{Original: orig, Teams: p.Teams, FreeTeam: len(p.Teams) == 0, Errors: map[string]string{},
		Team: strings.TrimSpace(c.FormValue("team")), Title: strings.TrimSpace(c.FormValue("title")),
		Changes: strings.TrimSpace(strings.ReplaceAll(c.FormValue("changes"), "\r\n", "\n"))}
	out, err := s.repo.Adapt(c.Request().Context(), p, orig.URI, practices.Adaptation{Team: v.Team, Title: v.Title, Changes: v.Changes})
	if err == nil {
		return seeOther(c, "/workspace/practices/"+out.ID+"/edit", url.Values{"saved": {"created"}})
	}
	problems, ok := fieldProblems(err)
	if !ok {
		return err
	}
	labels := map[string]string{"changes": "What your team changed", "title": "Title", "team": "PLC team"}
	for _, fe := range problems {
		name := fe.Field
		if _, known := labels[name]; !known {
			name = "changes"
			if strings.HasPrefix(fe.Field, "title") {
				name = "title"
			}
		}
		if _, dup := v.Errors[name]; !dup {
			v.Errors[name] = labels[name] + " " + fe.Message + "."
			v.Problems = append(v.Problems, v.Errors[name])
		}
	}
	return s.renderAdapt(c, http.StatusUnprocessableEntity, &v)
}

// fieldProblems returns the field errors of a validation error.
func fieldProblems(err error) ([]practices.FieldError, bool) {
	var ve *practices.ValidationError
	if !errors.As(err, &ve) {
		return nil, false
	}
	return ve.Problems, true
}

// ---- the activity panel of the workspace ----

// activityRow is one line of the workspace's activity panel.
type activityRow struct {
	Text         string
	URL          string
	Title        string
	SubjectURL   string
	SubjectTitle string
	District     string
	Team         string
	When         string
	Learnings    string
}

// activityRows is what the workspace shows of the caller's activity (at most 20 items).
func (s *Server) activityRows(ctx context.Context, p practices.Principal) []activityRow {
	items, err := s.repo.Activity(ctx, p, 20)
	if err != nil {
		s.logger.Warn("activity", "err", err)
		return nil
	}
	names := s.districtNames()
	var out []activityRow
	for _, it := range items {
		d := names[it.District]
		if d == "" {
			d = it.District
		}
		row := activityRow{URL: "/" + it.RecordKind.Plural() + "/" + it.RecordID, Title: it.Title,
			SubjectURL: "/" + it.SubjectKind.Plural() + "/" + it.SubjectID, SubjectTitle: it.SubjectTitle,
			District: d, Team: it.Team, When: it.At.Format("2 Jan 2006"), Learnings: shorten(it.Learnings, 200)}
		switch it.Kind {
		case "test":
			row.Text = "tested your practice"
			if it.ViaAdaptation {
				row.Text = "tested an adaptation of your practice"
			}
		case "adaptation":
			row.Text = "adapted your practice"
		case "follow":
			row.Text = "ran a cycle that follows your test"
		}
		out = append(out, row)
	}
	return out
}

// practiceRamps finds the ramps among a practice's published tests (and its adaptations' tests):
// each chain of two or more cycles, from its first cycle.
func (s *Server) practiceRamps(ctx context.Context, p practices.Principal, pr *practices.Practice, names map[string]string) ([][]rampStep, error) {
	tests, err := s.repo.TestsOf(ctx, p, pr.URI)
	if err != nil {
		return nil, err
	}
	district := func(id string) string {
		if n := names[id]; n != "" {
			return n
		}
		return id
	}
	covered := map[string]bool{}
	var out [][]rampStep
	// TestsOf is newest first; walk oldest first so each ramp is found from its earliest cycle.
	for i := len(tests) - 1; i >= 0; i-- {
		t := tests[i].Test
		if covered[t.URI] || t.Status != practices.StatusPublished {
			continue
		}
		ramp, err := s.repo.Ramp(ctx, p, t)
		if err != nil {
			return nil, err
		}
		var published []*practices.Test
		for _, c := range ramp {
			covered[c.URI] = true
			if c.Status == practices.StatusPublished {
				published = append(published, c)
			}
		}
		if steps := rampSteps(published, "", district); steps != nil {
			out = append(out, steps)
		}
	}
	return out, nil
}
