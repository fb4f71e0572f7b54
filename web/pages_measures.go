package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/web/auth"
)

// The workspace's "Measures over time" section of a test page: the published charts, a form per
// measure (its definition, a small table for typing aggregate points, the team's notes), a score
// file upload with a template, and a form to add a measure.

// measuresSection is the view of the section.
type measuresSection struct {
	Figures []MeasureView
	Forms   []*measureForm
	New     *measureForm
	MinN    int
	Notice  string
	Problem bool
}

type measureForm struct {
	TestID, CSRF  string
	Version       int
	ID            string // "" for a new measure
	Key           string // element id prefix
	Name, Type    string
	Kind, Dir     string
	Definition    string
	ScoreMin      string
	ScoreMax      string
	Cut, Baseline string
	Target        string
	Rows          []pointRow
	Notes         []noteRow
	Errors        []string          // messages not about one field
	FieldErrors   map[string]string // field name → message
	UploadError   string
	Small         int // points below the minimum n
	Open          bool
}

type pointRow struct {
	Num                   int
	Date, N, Value, Error string
	Small                 bool
}

type noteRow struct {
	Num               int
	Date, Text, Error string
}

const blankPointRows, blankNoteRows = 3, 1

func fmtOptional(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// formOf fills a measure's form from the team's view.
func formOf(t *practices.Test, m *evidence.Measure, minN int) *measureForm {
	f := &measureForm{TestID: t.ID, Version: t.Version, Key: "m-new", FieldErrors: map[string]string{}, Type: "outcome", Kind: "mean", Dir: "up"}
	if m != nil {
		f.ID, f.Key, f.Name, f.Type, f.Kind, f.Dir, f.Definition = m.ID, "m-"+m.ID, m.Name, m.Type, m.Kind, m.Direction, m.Definition
		f.ScoreMin, f.ScoreMax, f.Cut, f.Target = fmtOptional(m.ScoreMin), fmtOptional(m.ScoreMax), fmtOptional(m.Cut), fmtOptional(m.Target)
		if m.Baseline != nil {
			f.Baseline = strconv.Itoa(*m.Baseline)
		}
		for _, p := range m.Points {
			small := !evidence.Publishable(m.Kind, p, minN)
			f.Rows = append(f.Rows, pointRow{Date: p.Date, N: strconv.Itoa(p.N), Value: strconv.FormatFloat(p.Value, 'f', -1, 64), Small: small})
			if small {
				f.Small++
			}
		}
		for _, n := range m.Notes {
			f.Notes = append(f.Notes, noteRow{Date: n.Date, Text: n.Text})
		}
	}
	f.pad()
	return f
}

// pad adds blank rows for typing new points and notes, and numbers the rows.
func (f *measureForm) pad() {
	for i := 0; i < blankPointRows; i++ {
		f.Rows = append(f.Rows, pointRow{})
	}
	for i := 0; i < blankNoteRows; i++ {
		f.Notes = append(f.Notes, noteRow{})
	}
	for i := range f.Rows {
		f.Rows[i].Num = i + 1
	}
	for i := range f.Notes {
		f.Notes[i].Num = i + 1
	}
}

// measuresSectionFor builds the section of a local test's page.
func (s *Server) measuresSectionFor(ctx context.Context, c echo.Context, t *practices.Test, keep *measuresSection) (*measuresSection, error) {
	sec := keep
	if sec == nil {
		sec = &measuresSection{}
	}
	sec.MinN = s.cfg.Privacy.MinN
	sec.Figures = measureViews(t)
	if sec.Forms == nil {
		team, err := s.repo.TeamMeasures(ctx, t)
		if err != nil {
			return nil, err
		}
		for i := range team {
			sec.Forms = append(sec.Forms, formOf(t, &team[i], sec.MinN))
		}
	}
	if sec.New == nil {
		sec.New = formOf(t, nil, sec.MinN)
	}
	csrf := auth.CSRFToken(c)
	for _, f := range append(sec.Forms, sec.New) {
		f.CSRF, f.TestID, f.Version = csrf, t.ID, t.Version
	}
	return sec, nil
}

// measureFromForm reads a posted measure form. Rows left blank are skipped; rowOf maps the index
// of each point and note kept to its row in the form, so that refusals land next to the row.
func measureFromForm(v url.Values) (evidence.Measure, *measureForm, []int, []int) {
	f := &measureForm{ID: v.Get("measure_id"), Name: v.Get("name"), Type: v.Get("type"), Kind: v.Get("kind"), Dir: v.Get("direction"),
		Definition: v.Get("definition"), ScoreMin: v.Get("score_min"), ScoreMax: v.Get("score_max"), Cut: v.Get("cut"),
		Baseline: v.Get("baseline"), Target: v.Get("target"), FieldErrors: map[string]string{}, Open: true}
	f.Key = "m-new"
	if f.ID != "" {
		f.Key = "m-" + f.ID
	}
	m := evidence.Measure{ID: strings.TrimSpace(f.ID), Name: strings.TrimSpace(f.Name), Type: f.Type, Kind: f.Kind, Direction: f.Dir,
		Definition: strings.TrimSpace(f.Definition), Points: []evidence.MeasurePoint{}}
	num := func(field, s string) *float64 {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			f.FieldErrors[field] = "Must be a number."
			return nil
		}
		return &x
	}
	m.ScoreMin, m.ScoreMax, m.Cut, m.Target = num("score_min", f.ScoreMin), num("score_max", f.ScoreMax), num("cut", f.Cut), num("target", f.Target)
	if b := strings.TrimSpace(f.Baseline); b != "" {
		n, err := strconv.Atoi(b)
		if err != nil {
			f.FieldErrors["baseline"] = "Must be a whole number of points."
		} else {
			m.Baseline = &n
		}
	}
	dates, ns, values := v["points.date"], v["points.n"], v["points.value"]
	var pointRows, noteRows []int
	for i := range dates {
		r := pointRow{Date: strings.TrimSpace(dates[i])}
		if i < len(ns) {
			r.N = strings.TrimSpace(ns[i])
		}
		if i < len(values) {
			r.Value = strings.TrimSpace(values[i])
		}
		f.Rows = append(f.Rows, r)
		if r.Date == "" && r.N == "" && r.Value == "" {
			continue
		}
		n, errN := strconv.Atoi(r.N)
		x, errV := strconv.ParseFloat(r.Value, 64)
		switch {
		case errN != nil:
			f.Rows[len(f.Rows)-1].Error = "Students must be a whole number."
		case errV != nil:
			f.Rows[len(f.Rows)-1].Error = "The value must be a number."
		default:
			m.Points = append(m.Points, evidence.MeasurePoint{Date: r.Date, N: n, Value: x})
			pointRows = append(pointRows, len(f.Rows)-1)
		}
	}
	nd, nt := v["notes.date"], v["notes.text"]
	for i := range nd {
		r := noteRow{Date: strings.TrimSpace(nd[i])}
		if i < len(nt) {
			r.Text = strings.TrimSpace(nt[i])
		}
		f.Notes = append(f.Notes, r)
		if r.Date == "" && r.Text == "" {
			continue
		}
		m.Notes = append(m.Notes, evidence.MeasureNote{Date: r.Date, Text: r.Text})
		noteRows = append(noteRows, len(f.Notes)-1)
	}
	return m, f, pointRows, noteRows
}

func (f *measureForm) hasErrors() bool {
	if len(f.FieldErrors) > 0 || len(f.Errors) > 0 {
		return true
	}
	for _, r := range f.Rows {
		if r.Error != "" {
			return true
		}
	}
	return false
}

var measureMessagePrefix = regexp.MustCompile(`^measure "[^"]*"(, (point|note) \d+( \([^)]*\))?)?: `)

var measureProblemField = regexp.MustCompile(`^measures\[(\d+)\](?:\.(points|notes)\[(\d+)\])?(?:\.([a-z_]+))?`)

// place puts validation problems of the measure at index i next to its fields and rows.
func (f *measureForm) place(problems []practices.FieldError, i int, pointRows, noteRows []int) {
	for _, p := range problems {
		m := measureProblemField.FindStringSubmatch(p.Field)
		// The form shows the message next to the measure's field or row: the API's prefix naming
		// the measure and the point would only repeat it.
		msg := sentence(measureMessagePrefix.ReplaceAllString(p.Message, ""))
		if m == nil {
			f.Errors = append(f.Errors, msg)
			continue
		}
		if idx, _ := strconv.Atoi(m[1]); idx != i {
			continue // another measure's problem: it was saved before and is not this form's to fix
		}
		j, _ := strconv.Atoi(m[3])
		switch {
		case m[2] == "points" && j < len(pointRows):
			f.Rows[pointRows[j]].Error = msg
		case m[2] == "notes" && j < len(noteRows):
			f.Notes[noteRows[j]].Error = msg
		case m[2] == "" && m[4] != "" && m[4] != "points" && m[4] != "notes":
			f.FieldErrors[m[4]] = msg
		default:
			f.Errors = append(f.Errors, msg)
		}
	}
}

func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// saveMeasurePage adds or replaces one measure of the test.
func (s *Server) saveMeasurePage(c echo.Context) error {
	t, err := s.writableTest(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	posted, err := c.FormParams()
	if err != nil {
		return err
	}
	m, form, pointRows, noteRows := measureFromForm(posted)
	team, err := s.repo.TeamMeasures(ctx, t)
	if err != nil {
		return err
	}
	team = append([]evidence.Measure(nil), team...)
	index := -1
	if form.ID != "" {
		for i := range team {
			if team[i].ID == form.ID {
				index = i
			}
		}
		if index < 0 {
			return practices.ErrNotFound
		}
		team[index] = m
	} else {
		m.ID = uniqueMeasureID(team, m.Name)
		team = append(team, m)
		index = len(team) - 1
	}
	refuse := func(status int, notice string) error {
		form.pad()
		sec := &measuresSection{Notice: notice, Problem: true}
		if form.ID == "" {
			sec.New = form
		} else {
			cur, err := s.repo.TeamMeasures(ctx, t)
			if err != nil {
				return err
			}
			for i := range cur {
				if cur[i].ID == form.ID {
					sec.Forms = append(sec.Forms, form)
				} else {
					sec.Forms = append(sec.Forms, formOf(t, &cur[i], s.cfg.Privacy.MinN))
				}
			}
		}
		return s.renderTestWithMeasures(c, status, t, sec)
	}
	if form.hasErrors() {
		return refuse(http.StatusUnprocessableEntity, "The measure was not saved: correct what is marked below.")
	}
	edit := *t
	edit.Measures = team
	_, err = s.repo.Update(ctx, principal(c), practices.KindTest, t.ID, versionOf(c), &edit)
	var ve *practices.ValidationError
	switch {
	case errors.As(err, &ve):
		form.place(ve.Problems, index, pointRows, noteRows)
		return refuse(http.StatusUnprocessableEntity, "The measure was not saved: correct what is marked below.")
	case errors.Is(err, practices.ErrStale):
		return refuse(http.StatusConflict, "Not saved: another team member changed this test after you opened the page. Your entries are below; save again to apply them to the latest version.")
	case err != nil:
		return err
	}
	return seeOther(c, "/workspace/tests/"+t.ID, url.Values{"measure": {"saved"}})
}

// uniqueMeasureID makes an id for a new measure from its name, unique within the test.
func uniqueMeasureID(team []evidence.Measure, name string) string {
	base := practices.MeasureID(name)
	id := base
	for n := 2; ; n++ {
		if _, taken := practices.FindMeasure(team, id); !taken {
			return id
		}
		id = fmt.Sprintf("%s-%d", base, n)
	}
}

func (s *Server) deleteMeasurePage(c echo.Context) error {
	t, err := s.writableTest(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	team, err := s.repo.TeamMeasures(ctx, t)
	if err != nil {
		return err
	}
	keep := []evidence.Measure{}
	for _, m := range team {
		if m.ID != c.Param("measure") {
			keep = append(keep, m)
		}
	}
	if len(keep) == len(team) {
		return practices.ErrNotFound
	}
	edit := *t
	edit.Measures = keep
	if _, err := s.repo.Update(ctx, principal(c), practices.KindTest, t.ID, versionOf(c), &edit); errors.Is(err, practices.ErrStale) {
		return s.renderTestWithMeasures(c, http.StatusConflict, t, &measuresSection{Notice: "Not removed: another team member changed this test after you opened the page.", Problem: true})
	} else if err != nil {
		return err
	}
	return seeOther(c, "/workspace/tests/"+t.ID, url.Values{"measure": {"removed"}})
}

// uploadMeasureScoresPage turns a score file posted as a multipart form (the CSRF token in its
// first part, read by the middleware) into points of one measure. A refused file is explained next to the file field,
// naming the column, row and rule and never a cell, and changes nothing.
func (s *Server) uploadMeasureScoresPage(c echo.Context) error {
	t, err := s.writableTest(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	measureID := c.Param("measure")
	team, err := s.repo.TeamMeasures(ctx, t)
	if err != nil {
		return err
	}
	m, ok := practices.FindMeasure(team, measureID)
	if !ok {
		return practices.ErrNotFound
	}
	refuse := func(status int, msg string) error {
		sec := &measuresSection{}
		for i := range team {
			f := formOf(t, &team[i], s.cfg.Privacy.MinN)
			if team[i].ID == measureID {
				f.UploadError, f.Open = msg, true
			}
			sec.Forms = append(sec.Forms, f)
		}
		sec.Notice, sec.Problem = "The score file was refused; nothing was changed. "+msg, true
		return s.renderTestWithMeasures(c, status, t, sec)
	}
	opts := evidence.MeasureScoreOptions{Kind: m.Kind, Cut: m.Cut}
	switch {
	case m.ScoreMin != nil && m.ScoreMax != nil:
		opts.ScoreMin, opts.ScoreMax = *m.ScoreMin, *m.ScoreMax
	case t.Assessment != nil:
		opts.ScoreMin, opts.ScoreMax = t.Assessment.ScoreMin, t.Assessment.ScoreMax
	}
	ms, status, msg, err := s.pageScoreFile(c, "measure scores", opts)
	if err != nil {
		return err
	}
	if ms == nil {
		return refuse(status, msg)
	}
	_, err = s.repo.RecordMeasurePoints(ctx, principal(c), t.ID, measureID, ms.Points)
	var ve *practices.ValidationError
	if errors.As(err, &ve) {
		msgs := make([]string, len(ve.Problems))
		for i, p := range ve.Problems {
			msgs[i] = sentence(p.Message)
		}
		return refuse(http.StatusUnprocessableEntity, strings.Join(msgs, " "))
	} else if err != nil {
		return err
	}
	if err := s.repo.AuditMeasureUpload(ctx, principal(c), t.ID, measureID, ms); err != nil {
		return err
	}
	s.logger.Info("measure scores recorded", append(logAttrs(c), "test", t.ID, "measure", measureID, "rows", ms.Read, "dates", len(ms.Points))...)
	return seeOther(c, "/workspace/tests/"+t.ID, url.Values{"measure": {"scores"}, "dates": {strconv.Itoa(len(ms.Points))}})
}

// renderTestWithMeasures renders the workspace test page with a prepared measures section.
func (s *Server) renderTestWithMeasures(c echo.Context, status int, t *practices.Test, sec *measuresSection) error {
	page := s.newTestPageData(t)
	page.Measures = sec
	return s.renderTest(c, status, page)
}

// measureNotice is the status line after a measure was saved, removed or fed a score file.
func measureNotice(q url.Values) string {
	switch q.Get("measure") {
	case "saved":
		return "Measure saved. Points with fewer students than the minimum stay in the district; the charts show what others will see."
	case "removed":
		return "Measure removed."
	case "scores":
		return fmt.Sprintf("Score file read: points for %s dates computed. The rows were used and discarded.", q.Get("dates"))
	}
	return ""
}
