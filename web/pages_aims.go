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
	"time"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/web/auth"
)

// Network aim pages (docs/aims.md): the list of the network's
// aims with their latest value against the target, the aim form for coordinators (create, edit,
// publish, and withdraw or delete after a confirmation), the dashboard every node that can see the
// aim shows, with its charts, and the progress form a district's coordinators and admins report with.

// ---- the dashboard ----

// dashboardOf builds the dashboard of the aim with id (local or mirrored) as the caller sees it.
func (s *Server) dashboardOf(c echo.Context, id string) (*practices.Dashboard, error) {
	return s.AimDashboard(c.Request().Context(), principal(c), id)
}

func (s *Server) aimPage(c echo.Context) error {
	d, err := s.dashboardOf(c, c.Param("id"))
	if err != nil {
		return err
	}
	p := principal(c)
	v := buildAimDashboard(d, s.districtNames())
	v.CanEdit = d.Aim.Origin == s.cfg.Node.URL && s.canWriteAim(c.Request().Context(), p, d.Aim.ID)
	v.CanReport = practices.CanCreateSome(p, practices.KindProgress) == nil
	return s.render(c, http.StatusOK, "aim", d.Aim.Title, v)
}

func (s *Server) canWriteAim(ctx context.Context, p practices.Principal, id string) bool {
	_, err := s.writable(ctx, p, practices.KindAim, id)
	return err == nil
}

// aimChart draws one series of the dashboard: network.svg, or d-{district id}.svg. Every chart of
// an aim shares one value axis, computed here from the whole dashboard so URLs carry no axis.
func (s *Server) aimChart(c echo.Context) error {
	d, err := s.dashboardOf(c, c.Param("id"))
	if err != nil {
		return err
	}
	names := s.districtNames()
	lo, hi := sharedAxis(d, names)
	var m evidence.Measure
	opts := evidence.ChartOptions{Small: true, YMin: lo, YMax: hi}
	file := c.Param("file")
	switch {
	case file == networkChartFile:
		if len(d.Network) == 0 {
			return practices.ErrNotFound
		}
		// The network's chart is the large one, with its labels (median, target); same axis.
		m, opts.ID, opts.Small = networkMeasure(d), "aim-network", false
	default:
		found := false
		for _, dp := range d.Districts {
			if districtChartFile(dp.District.ID) == url.PathEscape(file) || districtChartFile(dp.District.ID) == file {
				m, found, opts.ID = districtMeasure(d, dp, names), true, "aim-d-"+dp.District.ID
			}
		}
		if !found {
			return practices.ErrNotFound
		}
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=60")
	return c.Blob(http.StatusOK, "image/svg+xml", evidence.RenderMeasureSVG(m, opts))
}

// ---- the list of aims ----

type aimRow struct {
	ID, Title, Statement, District string
	Status                         string
	Target, Latest                 string
	Mine                           bool
}

type aimsView struct {
	Aims      []aimRow
	CanCreate bool
	Notice    string
}

// aimsPage lists the aims this node can see (its own, any status its coordinators may edit, and
// the published ones mirrored from peers), each with its latest network value against the target.
func (s *Server) aimsPage(c echo.Context) error {
	p := principal(c)
	if !p.Authenticated() {
		return practices.ErrNotFound
	}
	rows, err := s.aimRows(c)
	if err != nil {
		return err
	}
	v := aimsView{Aims: rows, CanCreate: mayCreate(p, practices.KindAim) == nil}
	switch c.QueryParam("done") {
	case "withdrawn":
		v.Notice = "The aim was withdrawn: it is no longer shown anywhere in the network. Progress reported towards it remains, marked as referring to a withdrawn aim."
	case "deleted":
		v.Notice = "The draft aim was deleted."
	}
	return s.render(c, http.StatusOK, "aims", "Network aims", v)
}

func (s *Server) aimRows(c echo.Context) ([]aimRow, error) {
	ctx := c.Request().Context()
	p := principal(c)
	recs, err := s.listUpTo(ctx, p, practices.KindAim, practices.ListFilter{}, 200)
	if err != nil {
		return nil, err
	}
	names := s.districtNames()
	var rows []aimRow
	for i := len(recs) - 1; i >= 0; i-- {
		a := recs[i].(*practices.Aim)
		mine := a.Origin == s.cfg.Node.URL
		if mine && a.Status != practices.StatusPublished && practices.CanWrite(p, &a.Meta) != nil {
			continue
		}
		if a.Status == practices.StatusWithdrawn {
			continue
		}
		row := aimRow{ID: a.ID, Title: a.Title, Statement: a.Statement, District: names[a.OriginID], Status: string(a.Status), Mine: mine}
		if row.District == "" {
			row.District = a.OriginID
		}
		da := practices.DashboardAim{OutcomeMeasure: a.OutcomeMeasure, Target: a.Target}
		row.Target = targetWords(da)
		if a.Status == practices.StatusPublished {
			if d, err := s.AimDashboard(ctx, p, a.ID); err == nil {
				row.Latest = latestWords(d)
			}
		}
		rows = append(rows, row)
	}
	// Aims mirrored from peers are not in this node's own records: the search index has them.
	q, err := search.ParseQuery(url.Values{"kind": {string(practices.KindAim)}, "per_page": {"50"}})
	if err != nil {
		return nil, err
	}
	q.Audience = search.AudienceOf(p)
	res, err := s.index.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	for _, h := range res.Hits {
		if h.Origin == s.cfg.Node.URL {
			continue
		}
		d, err := s.AimDashboard(ctx, p, h.RecordID)
		if errors.Is(err, practices.ErrNotFound) {
			continue // withdrawn since it was indexed, or no longer shared with this district
		} else if err != nil {
			return nil, err
		}
		rows = append(rows, aimRow{ID: d.Aim.ID, Title: d.Aim.Title, Statement: d.Aim.Statement, District: districtLabel(d.Aim.District, names),
			Status: string(practices.StatusPublished), Target: targetWords(d.Aim), Latest: latestWords(d)})
	}
	return rows, nil
}

// ---- the aim form ----

func (s *Server) newAimPage(c echo.Context) error {
	p := principal(c)
	if err := mayCreate(p, practices.KindAim); err != nil {
		return err
	}
	f := newAimForm()
	f.Curator = displayName(p)
	f.Drivers = []driverRow{{Level: practices.DriverPrimary}, {Level: practices.DriverSecondary}}
	f.Ideas = []ideaRow{{}}
	return s.renderAimForm(c, http.StatusOK, f)
}

func (s *Server) editAimPage(c echo.Context) error {
	a, err := writableRecord[*practices.Aim](s, c, practices.KindAim)
	if err != nil {
		return err
	}
	f := aimFormOf(a)
	switch {
	case c.QueryParam("saved") == "created":
		f.Notice = "Created as a draft. Only your district's coordinators see it until it is published."
	case c.QueryParam("saved") == "1":
		f.Notice = "Saved."
	case c.QueryParam("published") == "1":
		f.Notice = "Published: every district the aim is shared with can see it and report progress towards it."
	}
	return s.renderAimForm(c, http.StatusOK, f)
}

// renderAimForm resolves the practices picked (titles, districts), runs the searches asked for,
// lists the collections that can be linked, and renders the form.
func (s *Server) renderAimForm(c echo.Context, status int, f *aimForm) error {
	ctx := c.Request().Context()
	p := principal(c)
	f.CSRF = auth.CSRFToken(c)
	names := s.districtNames()
	f.assignIDs()
	f.prepare()
	for i := range f.Ideas {
		row := &f.Ideas[i]
		for j := range row.Practices {
			pp := &row.Practices[j]
			if pr, err := s.lookupPractice(ctx, p, pp.URI); err == nil {
				pp.Title, pp.District = pr.Title, names[pr.OriginID]
			} else {
				pp.Title, pp.District = "A practice this node cannot show", ""
			}
		}
		if row.Query == "" || i != f.SearchRow {
			continue
		}
		row.Searched = true
		q, err := search.ParseQuery(url.Values{"q": {row.Query}, "kind": {"practice"}, "per_page": {"8"}})
		var qe *search.QueryError
		if errors.As(err, &qe) {
			row.SearchNote = "The search could not be run: " + qe.Param + " must be " + qe.Rule + "."
			continue
		} else if err != nil {
			return err
		}
		q.Audience = search.AudienceOf(p)
		res, err := s.index.Search(ctx, q)
		if err != nil {
			return err
		}
		for _, h := range res.Hits {
			if picked(row.Practices, h.URI) {
				continue
			}
			district := names[h.District]
			if district == "" {
				district = h.District
			}
			row.Hits = append(row.Hits, pickedPractice{URI: h.URI, Title: h.Title, District: district})
		}
		if len(row.Hits) == 0 {
			row.SearchNote = "No other practice matches “" + row.Query + "”."
		}
	}
	cols, err := s.listUpTo(ctx, p, practices.KindCollection, practices.ListFilter{}, 200)
	if err != nil {
		return err
	}
	for _, r := range cols {
		col := r.(*practices.Collection)
		if col.Status != practices.StatusPublished && !contains(f.Collections, col.URI) {
			continue
		}
		f.CollectionOpt = append(f.CollectionOpt, aimOption{Value: col.URI, Label: col.Title, Checked: contains(f.Collections, col.URI)})
	}
	if f.ID != "" && f.Status == string(practices.StatusPublished) {
		f.Link = "/aims/" + f.ID
	}
	title := "New network aim"
	if f.ID != "" {
		title = "Edit: " + f.Title
	}
	return s.render(c, status, "aim_edit", title, f)
}

func picked(ps []pickedPractice, uri string) bool {
	for _, p := range ps {
		if p.URI == uri {
			return true
		}
	}
	return false
}

// createAimPage handles the new aim's form: a row button re-renders it; "save" creates the aim.
func (s *Server) createAimPage(c echo.Context) error {
	p := principal(c)
	if err := mayCreate(p, practices.KindAim); err != nil {
		return err
	}
	posted, err := c.FormParams()
	if err != nil {
		return err
	}
	f := aimFormFrom(posted)
	if f.rowAction(posted.Get("op")) {
		return s.renderAimForm(c, http.StatusOK, f)
	}
	f.assignIDs()
	a, driverRows, ideaRows := f.aim(nil)
	var problems []practices.FieldError
	var ve *practices.ValidationError
	if err := practices.CheckAimTarget(a, time.Now()); errors.As(err, &ve) {
		problems = append(problems, ve.Problems...)
	}
	if f.hasErrors() {
		// Number fields that did not parse: validate the rest too, so everything is marked at once.
		if err := practices.Validate(a, practices.LevelCreate); errors.As(err, &ve) {
			problems = append(problems, ve.Problems...)
		}
		f.place(problems, driverRows, ideaRows)
		return s.refuseAim(c, f)
	}
	out, problems, err := s.createFromForm(c, p, a, problems)
	if err != nil {
		return err
	}
	if out == nil {
		f.place(problems, driverRows, ideaRows)
		return s.refuseAim(c, f)
	}
	return seeOther(c, "/aims/"+out.RecordMeta().ID+"/edit", url.Values{"saved": {"created"}})
}

func (s *Server) refuseAim(c echo.Context, f *aimForm) error {
	f.Notice, f.Problem = "The aim was not saved: correct what is marked below. Everything you typed is kept.", true
	return s.renderAimForm(c, http.StatusUnprocessableEntity, f)
}

func (s *Server) saveAimPage(c echo.Context) error {
	cur, err := writableRecord[*practices.Aim](s, c, practices.KindAim)
	if err != nil {
		return err
	}
	posted, err := c.FormParams()
	if err != nil {
		return err
	}
	f := aimFormFrom(posted)
	f.ID, f.Status = cur.ID, string(cur.Status)
	if f.rowAction(posted.Get("op")) {
		return s.renderAimForm(c, http.StatusOK, f)
	}
	f.assignIDs()
	a, driverRows, ideaRows := f.aim(cur)
	if f.hasErrors() {
		var ve *practices.ValidationError
		if err := practices.Validate(a, practices.LevelCreate); errors.As(err, &ve) {
			f.place(ve.Problems, driverRows, ideaRows)
		}
		return s.refuseAim(c, f)
	}
	_, err = s.repo.Update(c.Request().Context(), principal(c), practices.KindAim, cur.ID, f.Version, a)
	var ve *practices.ValidationError
	switch {
	case errors.As(err, &ve):
		f.place(ve.Problems, driverRows, ideaRows)
		return s.refuseAim(c, f)
	case errors.Is(err, practices.ErrStale):
		f.Notice, f.Problem = "Not saved: another coordinator changed this aim after you opened the page. Your entries are below; save again to apply them to the latest version.", true
		f.Version = cur.Version
		return s.renderAimForm(c, http.StatusConflict, f)
	case err != nil:
		return err
	}
	return seeOther(c, "/aims/"+cur.ID+"/edit", url.Values{"saved": {"1"}})
}

func (s *Server) publishAimPage(c echo.Context) error {
	a, err := writableRecord[*practices.Aim](s, c, practices.KindAim)
	if err != nil {
		return err
	}
	_, err = s.repo.Publish(c.Request().Context(), principal(c), practices.KindAim, a.ID, versionOf(c))
	if err == nil {
		return seeOther(c, "/aims/"+a.ID+"/edit", url.Values{"published": {"1"}})
	}
	f := aimFormOf(a)
	var ve *practices.ValidationError
	var se *practices.StateError
	switch {
	case errors.As(err, &ve):
		f.Notice = "Not published yet: a published aim needs what is marked below."
		d, i := indexRows(len(f.Drivers)), indexRows(len(f.Ideas))
		f.place(ve.Problems, d, i)
		f.Problem = true
		return s.renderAimForm(c, http.StatusUnprocessableEntity, f)
	case errors.Is(err, practices.ErrStale):
		f.Notice, f.Problem = "Not published: another coordinator changed this aim after you opened the page. Check it below, then publish again.", true
		return s.renderAimForm(c, http.StatusConflict, f)
	case errors.As(err, &se):
		f.Notice, f.Problem = "Not published: "+se.Msg+".", true
		return s.renderAimForm(c, http.StatusConflict, f)
	}
	return err
}

func indexRows(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// confirmView is the confirmation step before an irreversible change.
type confirmView struct {
	Title, Question, Consequence string
	Action, Button, Back         string
	Version                      int
}

// confirmAimPage asks before withdrawing (the aim disappears from every node) or deleting (a draft).
func (s *Server) confirmAimPage(c echo.Context) error {
	a, err := writableRecord[*practices.Aim](s, c, practices.KindAim)
	if err != nil {
		return err
	}
	v := confirmView{Title: a.Title, Back: "/aims/" + a.ID + "/edit", Version: a.Version}
	switch c.Param("verb") {
	case "withdraw":
		v.Question = "Withdraw “" + a.Title + "”?"
		v.Consequence = "The aim and its dashboard disappear from this node and from every district that mirrors it. Districts keep the progress they reported, marked as referring to a withdrawn aim. You can publish it again later."
		v.Action, v.Button = "/aims/"+a.ID+"/withdraw", "Withdraw the aim"
	case "delete":
		v.Question = "Delete “" + a.Title + "”?"
		v.Consequence = "The aim is removed for good. This cannot be undone."
		v.Action, v.Button = "/aims/"+a.ID+"/delete", "Delete the aim"
	default:
		return practices.ErrNotFound
	}
	return s.render(c, http.StatusOK, "aim_confirm", v.Question, v)
}

func (s *Server) withdrawAimPage(c echo.Context) error {
	a, err := writableRecord[*practices.Aim](s, c, practices.KindAim)
	if err != nil {
		return err
	}
	if _, err := s.repo.Withdraw(c.Request().Context(), principal(c), practices.KindAim, a.ID, versionOf(c)); err != nil {
		return s.aimTransitionRefused(c, a, err)
	}
	return seeOther(c, "/aims", url.Values{"done": {"withdrawn"}})
}

func (s *Server) deleteAimPage(c echo.Context) error {
	a, err := writableRecord[*practices.Aim](s, c, practices.KindAim)
	if err != nil {
		return err
	}
	if err := s.repo.Delete(c.Request().Context(), principal(c), practices.KindAim, a.ID, versionOf(c)); err != nil {
		return s.aimTransitionRefused(c, a, err)
	}
	return seeOther(c, "/aims", url.Values{"done": {"deleted"}})
}

func (s *Server) aimTransitionRefused(c echo.Context, a *practices.Aim, err error) error {
	var se *practices.StateError
	f := aimFormOf(a)
	f.Problem = true
	switch {
	case errors.Is(err, practices.ErrStale):
		f.Notice = "Nothing was changed: another coordinator changed this aim after you opened the page. Check it below and try again."
	case errors.As(err, &se):
		f.Notice = "Nothing was changed: " + se.Msg + "."
	default:
		return err
	}
	return s.renderAimForm(c, http.StatusConflict, f)
}

// ---- the progress form ----

type progressView struct {
	Aim         practices.DashboardAim
	District    string
	About       string
	CSRF        string
	Rows        []pointRow
	Notes       []noteRow
	PhaseDate   string
	PhaseScore  string
	PhaseError  string
	Errors      []string
	Notice      string
	Problem     bool
	UploadError string
	MinN        int
	Scores      []aimOption
}

func (s *Server) progressAim(c echo.Context) (*practices.Dashboard, error) {
	if err := mayCreate(principal(c), practices.KindProgress); err != nil {
		return nil, err
	}
	return s.dashboardOf(c, c.Param("id"))
}

func (s *Server) newProgressView(c echo.Context, d *practices.Dashboard) *progressView {
	v := &progressView{Aim: d.Aim, District: s.cfg.Node.Name, CSRF: auth.CSRFToken(c), MinN: s.cfg.Privacy.MinN, PhaseDate: time.Now().Format(time.DateOnly)}
	if om := d.Aim.OutcomeMeasure; om != nil {
		v.About = outcomeAbout(om)
	}
	return v
}

func (v *progressView) pad() {
	for i := 0; i < blankPointRows; i++ {
		v.Rows = append(v.Rows, pointRow{})
	}
	if len(v.Notes) == 0 {
		v.Notes = append(v.Notes, noteRow{})
	}
	for i := range v.Rows {
		v.Rows[i].Num = i + 1
	}
	for i := range v.Notes {
		v.Notes[i].Num = i + 1
	}
	v.Scores = []aimOption{{Value: "", Label: "Not this time"}}
	for _, sc := range []struct{ v, l string }{{"0.5", "0.5"}, {"1", "1 — forming"}, {"1.5", "1.5"}, {"2", "2 — planning"}, {"2.5", "2.5"},
		{"3", "3 — changes tested"}, {"3.5", "3.5"}, {"4", "4 — improvement"}, {"4.5", "4.5"}, {"5", "5 — outstanding sustainable results"}} {
		v.Scores = append(v.Scores, aimOption{Value: sc.v, Label: sc.l, Checked: sc.v == v.PhaseScore})
	}
}

func (s *Server) progressPage(c echo.Context) error {
	d, err := s.progressAim(c)
	if err != nil {
		return err
	}
	v := s.newProgressView(c, d)
	if c.QueryParam("published") == "1" {
		v.Notice = "Progress published. The dashboard shows it now; other districts see it at their next sync."
	}
	v.pad()
	return s.render(c, http.StatusOK, "aim_progress", "Report progress: "+d.Aim.Title, v)
}

// publishProgressPage creates the district's progress record from the typed points and publishes it.
func (s *Server) publishProgressPage(c echo.Context) error {
	d, err := s.progressAim(c)
	if err != nil {
		return err
	}
	posted, err := c.FormParams()
	if err != nil {
		return err
	}
	v := s.newProgressView(c, d)
	pr := &practices.Progress{Aim: practices.AimRef{URI: d.Aim.URI, Version: d.Aim.Version}, Points: []evidence.MeasurePoint{}}
	pr.Visibility = practices.VisibilityNetwork
	var pointRows []int
	dates, ns, values := posted["points.date"], posted["points.n"], posted["points.value"]
	bad := false
	for i := range dates {
		r := pointRow{Date: strings.TrimSpace(dates[i])}
		if i < len(ns) {
			r.N = strings.TrimSpace(ns[i])
		}
		if i < len(values) {
			r.Value = strings.TrimSpace(values[i])
		}
		v.Rows = append(v.Rows, r)
		if r.Date == "" && r.N == "" && r.Value == "" {
			continue
		}
		n, errN := strconv.Atoi(r.N)
		x, errV := strconv.ParseFloat(r.Value, 64)
		switch {
		case errN != nil:
			v.Rows[len(v.Rows)-1].Error, bad = "Students must be a whole number.", true
		case errV != nil:
			v.Rows[len(v.Rows)-1].Error, bad = "The value must be a number.", true
		default:
			pr.Points = append(pr.Points, evidence.MeasurePoint{Date: r.Date, N: n, Value: x})
			pointRows = append(pointRows, len(v.Rows)-1)
		}
	}
	var noteRows []int
	nd, nt := posted["notes.date"], posted["notes.text"]
	for i := range nd {
		r := noteRow{Date: strings.TrimSpace(nd[i])}
		if i < len(nt) {
			r.Text = strings.TrimSpace(nt[i])
		}
		v.Notes = append(v.Notes, r)
		if r.Date == "" && r.Text == "" {
			continue
		}
		pr.Notes = append(pr.Notes, evidence.MeasureNote{Date: r.Date, Text: r.Text})
		noteRows = append(noteRows, len(v.Notes)-1)
	}
	v.PhaseDate, v.PhaseScore = strings.TrimSpace(posted.Get("phase.date")), strings.TrimSpace(posted.Get("phase.score"))
	if v.PhaseScore != "" {
		x, err := strconv.ParseFloat(v.PhaseScore, 64)
		if err != nil {
			v.PhaseError, bad = "Choose a score from the list.", true
		} else {
			pr.PhaseScore = []practices.PhaseScore{{Date: v.PhaseDate, Score: x}}
		}
	}
	if len(pr.Points) == 0 && !bad {
		v.Errors = append(v.Errors, "Type at least one point, or compute them from a score file.")
		bad = true
	}
	refuse := func(status int) error {
		v.Notice, v.Problem = "The progress was not published: correct what is marked below. Everything you typed is kept.", true
		v.pad()
		return s.render(c, status, "aim_progress", "Report progress: "+d.Aim.Title, v)
	}
	if bad {
		return refuse(http.StatusUnprocessableEntity)
	}
	ctx := c.Request().Context()
	p := principal(c)
	out, problems, err := s.createFromForm(c, p, pr, nil)
	if err == nil && out != nil {
		_, err = s.repo.Publish(ctx, p, practices.KindProgress, out.RecordMeta().ID, out.RecordMeta().Version)
		var ve *practices.ValidationError
		if errors.As(err, &ve) {
			problems, err = ve.Problems, nil
			_ = s.repo.Delete(ctx, p, practices.KindProgress, out.RecordMeta().ID, out.RecordMeta().Version)
		}
	}
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		v.placeProblems(problems, pointRows, noteRows)
		return refuse(http.StatusUnprocessableEntity)
	}
	return seeOther(c, "/aims/"+d.Aim.ID+"/progress", url.Values{"published": {"1"}})
}

// placeProblems puts the API's problems (points[i].n, notes[i].date, phase_score[0].score) next to
// the rows they are about.
func (v *progressView) placeProblems(problems []practices.FieldError, pointRows, noteRows []int) {
	for _, p := range problems {
		msg := sentence(p.Message)
		var i int
		var rest string
		switch {
		case scanIndexed(p.Field, "points", &i, &rest) && i < len(pointRows):
			// The row already says "Point n:"; the API's own prefix would repeat it.
			v.Rows[pointRows[i]].Error = sentence(progressPointPrefix.ReplaceAllString(p.Message, ""))
		case scanIndexed(p.Field, "notes", &i, &rest) && i < len(noteRows):
			v.Notes[noteRows[i]].Error = msg
		case strings.HasPrefix(p.Field, "phase_score"):
			v.PhaseError = msg
		default:
			v.Errors = append(v.Errors, msg)
		}
	}
}

var progressPointPrefix = regexp.MustCompile(`^(?i)point \d+( \([^)]*\))?: `)

// scanIndexed reads "name[i]…" into i and the rest.
func scanIndexed(field, name string, i *int, rest *string) bool {
	after, ok := strings.CutPrefix(field, name+"[")
	if !ok {
		return false
	}
	num, r, ok := strings.Cut(after, "]")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return false
	}
	*i, *rest = n, r
	return true
}

// progressScoresPage turns a de-identified score file into points, exactly as for a measure (the
// same strict columns, identifier and cell checks; the rows are discarded), and puts them in the
// form for the coordinator to check and publish. Nothing is stored.
func (s *Server) progressScoresPage(c echo.Context) error {
	d, err := s.progressAim(c)
	if err != nil {
		return err
	}
	v := s.newProgressView(c, d)
	refuse := func(status int, msg string) error {
		v.UploadError, v.Notice, v.Problem = msg, "The score file was refused; nothing was changed. "+msg, true
		v.pad()
		return s.render(c, status, "aim_progress", "Report progress: "+d.Aim.Title, v)
	}
	opts := evidence.MeasureScoreOptions{Kind: evidence.MeasureMean}
	if om := d.Aim.OutcomeMeasure; om != nil {
		opts.Kind, opts.Cut = om.Kind, om.Cut
		if om.ScoreMin != nil && om.ScoreMax != nil {
			opts.ScoreMin, opts.ScoreMax = *om.ScoreMin, *om.ScoreMax
		}
	}
	ms, status, msg, err := s.pageScoreFile(c, "progress scores", opts)
	if err != nil {
		return err
	}
	if ms == nil {
		return refuse(status, msg)
	}
	for _, pt := range ms.Points {
		small := !evidence.Publishable(opts.Kind, pt, v.MinN)
		v.Rows = append(v.Rows, pointRow{Date: pt.Date, N: strconv.Itoa(pt.N), Value: strconv.FormatFloat(pt.Value, 'f', -1, 64), Small: small})
	}
	s.logger.Info("progress scores read", append(logAttrs(c), "aim", d.Aim.ID, "rows", ms.Read, "dates", len(ms.Points))...)
	v.Notice = fmt.Sprintf("Score file read: points for %s computed and put in the table below; the rows were used and discarded. Check them, then publish.", plural(len(ms.Points), "date", "dates"))
	v.pad()
	return s.render(c, http.StatusOK, "aim_progress", "Report progress: "+d.Aim.Title, v)
}

// ---- a practice's aims ----

// practiceAim is an aim a practice belongs to, with the change ideas that use it.
type practiceAim struct {
	Title, Link, District string
	ChangeIdeas           []string
}

// practiceAims lists the published aims p can see whose change ideas link the practice.
func (s *Server) practiceAims(ctx context.Context, p practices.Principal, practiceURI string, names map[string]string) ([]practiceAim, error) {
	aims, err := s.repo.AimsOf(ctx, p, practiceURI)
	if err != nil {
		return nil, err
	}
	var out []practiceAim
	for _, a := range aims {
		pa := practiceAim{Title: a.Title, Link: "/aims/" + url.PathEscape(a.ID), District: names[a.OriginID]}
		if pa.District == "" {
			pa.District = a.OriginID
		}
		for _, ci := range a.ChangeIdeasOf(practiceURI) {
			pa.ChangeIdeas = append(pa.ChangeIdeas, ci.Text)
		}
		out = append(out, pa)
	}
	return out, nil
}
