package web

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/search"
)

// The teacher's pages: search (the home page), a practice, a collection. Every page is complete
// without JavaScript; static/search.js only applies filters as soon as they change. The search form
// is a GET form whose fields are exactly the search API's parameters, so the URL holds the whole
// query and can be shared.

// ---- Search ----

type searchView struct {
	Text       string
	Error      string // a refused query, in words
	Searched   bool   // the request asked for something (text or a filter), not just the home page
	Result     search.Result
	Hits       []hitView
	Facets     []facetView
	Evidence   []choiceView // "at least" radio buttons
	More       []facetView  // design, decision, kind: checkboxes without counts
	HasResults bool
	MoreOpen   bool // a filter under "More filters" is set
	Standard   string
	Sorts      []choiceView
	PerPage    string
	Page, Last int
	Prev, Next string // URLs of the neighbouring pages
	ClearURL   string // the same text without filters, when any filter is set
	Filtered   bool
}

type hitView struct {
	search.Hit
	URL          string
	DistrictName string
	Local        bool
}

type facetView struct {
	Param  string
	Legend string
	Values []choiceView
}

type choiceView struct {
	ID, Value, Label string
	Count            int
	ShowCount        bool
	Checked          bool
}

func (s *Server) searchPage(c echo.Context) error {
	params := s.standardURIQuery(c.Request().Context(), c.QueryParams())
	v := searchView{Text: params.Get("q"), Standard: strings.Join(params["standard"], ", "), PerPage: params.Get("per_page")}
	status := http.StatusOK
	q, err := search.ParseQuery(params)
	var qe *search.QueryError
	switch {
	case errors.As(err, &qe):
		// A hand-edited or stale URL: show the form with what was wrong, not a bare error.
		status = http.StatusBadRequest
		v.Error = qe.Error()
		q = search.Query{}
	case err != nil:
		return err
	}
	for name := range params {
		if name != "page" && name != "per_page" && name != "sort" {
			v.Searched = true
		}
		if name != "q" && name != "page" && name != "per_page" && name != "sort" {
			v.Filtered = true
		}
	}
	q.Audience = search.AudienceOf(principal(c))
	if err := s.resolveAimFilter(c.Request().Context(), principal(c), &q); err != nil {
		return err
	}
	if v.Error == "" {
		v.Result, err = s.index.Search(c.Request().Context(), q)
		if err != nil {
			return searchProblem(err)
		}
		if err := s.disjunctiveFacets(c.Request().Context(), q, &v.Result); err != nil {
			return searchProblem(err)
		}
	}
	names := s.districtNames()
	for _, h := range v.Result.Hits {
		hv := hitView{Hit: h, DistrictName: names[h.District], Local: h.Origin == s.cfg.Node.URL}
		if hv.DistrictName == "" {
			hv.DistrictName = h.District
		}
		hv.URL = "/" + h.Kind.Plural() + "/" + url.PathEscape(h.RecordID)
		v.Hits = append(v.Hits, hv)
	}
	v.buildFacets(q, params, names)
	v.buildPager(q, params)
	if v.Filtered {
		clear := url.Values{}
		if q.Text != "" {
			clear.Set("q", q.Text)
		}
		v.ClearURL = "/search?" + clear.Encode()
	}
	title := "Search practices"
	if q.Text != "" {
		title = q.Text + " – search"
	}
	return s.render(c, status, "search", title, v)
}

// districtName is a node's display name (a peer's, or this node's), or its id when it has none.
func (s *Server) districtName(id string) string {
	if n := s.districtNames()[id]; n != "" {
		return n
	}
	return id
}

// disjunctiveFacets recounts each facet that has a value ticked without that facet's own filter:
// values within a facet are alternatives (OR), so ticking "K-2" must leave "3-5" and its count in
// view, counted as if it were ticked instead. Other facets' filters still apply. One extra search
// per facet in use, counting only (search.Query.CountOnly: nothing scored).
func (s *Server) disjunctiveFacets(ctx context.Context, q search.Query, res *search.Result) error {
	type facet struct {
		name  string
		clear func(*search.Query)
		used  bool
	}
	facets := []facet{
		{search.FacetSubject, func(q *search.Query) { q.Subjects = nil }, len(q.Subjects) > 0},
		{search.FacetGradeBand, func(q *search.Query) { q.GradeBands, q.Grades = nil, nil }, len(q.GradeBands)+len(q.Grades) > 0},
		{search.FacetDistrict, func(q *search.Query) { q.Districts = nil }, len(q.Districts) > 0},
	}
	for _, f := range facets {
		if !f.used {
			continue
		}
		others := q
		f.clear(&others)
		others.CountOnly = true
		r, err := s.index.Search(ctx, others)
		if err != nil {
			return err
		}
		if res.Facets == nil {
			res.Facets = search.Facets{}
		}
		res.Facets[f.name] = r.Facets[f.name]
	}
	return nil
}

// districtNames maps node ids to display names: this node and its peers.
func (s *Server) districtNames() map[string]string {
	m := map[string]string{s.cfg.Node.ID: s.cfg.Node.Name}
	for _, p := range s.fed.Peers() {
		if p.Name != "" {
			m[p.ID] = p.Name
		} else {
			m[p.ID] = p.ID
		}
	}
	return m
}

func (v *searchView) buildFacets(q search.Query, params url.Values, names map[string]string) {
	f := v.Result.Facets
	type spec struct {
		facet, param, legend string
		selected             []string
		label                func(string) string
		order                []string
	}
	specs := []spec{
		{search.FacetSubject, "subject", "Subject", q.Subjects, subjectLabel, practices.SubjectCodes},
		{search.FacetGradeBand, "grade", "Grades", append(slices.Clone(q.GradeBands), q.Grades...), gradeFilterLabel, practices.GradeBands},
		{search.FacetDistrict, "district", "District", q.Districts, func(id string) string {
			if n := names[id]; n != "" {
				return n
			}
			return id
		}, nil},
	}
	for _, sp := range specs {
		fv := facetView{Param: sp.param, Legend: sp.legend}
		seen := map[string]bool{}
		add := func(value string, count int) {
			if seen[value] {
				return
			}
			seen[value] = true
			fv.Values = append(fv.Values, choiceView{
				Value: value, Label: sp.label(value), Count: count, ShowCount: true,
				Checked: slices.Contains(sp.selected, value),
			})
		}
		vals := slices.Clone(f[sp.facet])
		if sp.order != nil { // a vocabulary's own order reads better than counts for grades
			slices.SortStableFunc(vals, func(a, b search.FacetValue) int {
				return slices.Index(sp.order, a.Value) - slices.Index(sp.order, b.Value)
			})
		}
		for _, fvv := range vals {
			add(fvv.Value, fvv.Count)
		}
		for _, sel := range sp.selected { // a chosen value with no hits stays visible, so it can be unchecked
			add(sel, f.Count(sp.facet, sel))
		}
		for i := range fv.Values {
			fv.Values[i].ID = fmt.Sprintf("f-%s-%d", sp.param, i)
		}
		if len(fv.Values) > 0 {
			v.Facets = append(v.Facets, fv)
		}
	}
	// Evidence is "at least this level": one choice, with the count of hits at or above it.
	v.Evidence = append(v.Evidence, choiceView{ID: "f-evidence-any", Value: "", Label: "Any", Checked: q.MinEvidence == ""})
	for i, level := range practices.EvidenceLevels[1:] {
		n := 0
		for _, fvv := range f[search.FacetEvidence] {
			if practices.EvidenceRank(fvv.Value) >= practices.EvidenceRank(level) {
				n += fvv.Count
			}
		}
		v.Evidence = append(v.Evidence, choiceView{ID: fmt.Sprintf("f-evidence-%d", i), Value: level,
			Label: evidenceLabel(level) + " or stronger", Count: n, ShowCount: true, Checked: q.MinEvidence == level})
	}
	v.Evidence[len(v.Evidence)-1].Label = evidenceLabel(practices.LevelNetworkConfirmed)
	more := func(param, legend string, values []string, selected []string, label func(string) string) {
		fv := facetView{Param: param, Legend: legend}
		for i, val := range values {
			fv.Values = append(fv.Values, choiceView{ID: fmt.Sprintf("f-%s-%d", param, i), Value: val, Label: label(val), Checked: slices.Contains(selected, val)})
		}
		v.More = append(v.More, fv)
	}
	more("design", "Test design", practices.Designs, q.Designs, designLabel)
	more("decision", "Decision after testing", practices.Decisions, q.Decisions, decisionLabel)
	kinds := make([]string, len(q.Kinds))
	for i, k := range q.Kinds {
		kinds[i] = string(k)
	}
	more("kind", "Show", []string{"practice", "collection"}, kinds, func(k string) string {
		if k == "collection" {
			return "Collections"
		}
		return "Practices"
	})
	v.HasResults = q.HasResults != nil && *q.HasResults
	v.MoreOpen = q.HasResults != nil || len(q.Standards) > 0 || len(q.Designs) > 0 || len(q.Decisions) > 0 || len(q.Kinds) > 0
	// The form sends the sort the person chose, never the default of the page it came from: the
	// home page lists the newest practices, but words typed there must be sorted by best match, as
	// /search?q= is. "Best match" is what an unsorted search asks for, and means newest without words.
	sort := q.Sort
	if sort == "" {
		sort = search.SortRelevance
	}
	best := "Best match"
	if q.Text == "" && sort == search.SortRelevance {
		best = "Best match (newest until you search)"
	}
	for _, o := range []struct {
		value search.Sort
		label string
	}{{search.SortRelevance, best}, {search.SortNewest, "Newest"}, {search.SortEffect, "Largest pooled effect"}} {
		v.Sorts = append(v.Sorts, choiceView{Value: string(o.value), Label: o.label, Checked: sort == o.value})
	}
}

func (v *searchView) buildPager(q search.Query, params url.Values) {
	v.Page = q.PageNumber()
	per := q.Limit()
	v.Last = max(1, (v.Result.Total+per-1)/per)
	if max := search.MaxWindow / per; v.Last > max {
		v.Last = max
	}
	link := func(page int) string {
		u := url.Values{}
		for k, vals := range params {
			if k != "page" {
				u[k] = vals
			}
		}
		if page > 1 {
			u.Set("page", strconv.Itoa(page))
		}
		return "/search?" + u.Encode()
	}
	if v.Page > 1 {
		v.Prev = link(min(v.Page-1, v.Last))
	}
	if v.Page < v.Last {
		v.Next = link(v.Page + 1)
	}
}

func subjectLabel(code string) string {
	if l, ok := practices.Subjects[code]; ok {
		return l
	}
	return code
}

func gradeFilterLabel(g string) string {
	if practices.ValidGrade(g) {
		return practices.GradeName(g)
	}
	return "Grades " + g
}

func subjectList(codes []string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = subjectLabel(c)
	}
	return strings.Join(out, ", ")
}

// gradeList is grades in words: "Grade 4", "Grades 3, 4, 5", "Kindergarten and grades 1, 2".
func gradeList(codes []string) string {
	var parts, nums []string
	for _, c := range codes {
		if c == "PK" || c == "KG" {
			parts = append(parts, practices.GradeName(c))
		} else {
			nums = append(nums, practices.GradeLabel(c))
		}
	}
	switch len(nums) {
	case 0:
	case 1:
		parts = append(parts, "grade "+nums[0])
	default:
		parts = append(parts, "grades "+strings.Join(nums, ", "))
	}
	s := strings.Join(parts, " and ")
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func designLabel(d string) string {
	switch d {
	case "single_group_pre_post":
		return "One group, pre/post"
	case "pre_post_with_comparison":
		return "Pre/post with a comparison group"
	case "post_only_comparison":
		return "Post-test against a comparison group"
	}
	return d
}

func decisionLabel(d string) string {
	switch d {
	case "adopt":
		return "Adopt"
	case "adapt":
		return "Adapt"
	case "abandon":
		return "Abandon"
	case "":
		return "Not recorded"
	}
	return d
}

// ---- Finding a record by id: local, or mirrored from a peer ----

// findRecord returns the record of kind with id that p may see: this node's own, or a copy mirrored
// from one of the peers (looked up at every peer at once; ids are UUIDs, so at most one matches).
func (s *Server) findRecord(ctx context.Context, p practices.Principal, kind practices.Kind, id string) (practices.Record, error) {
	rec, err := s.repo.Get(ctx, p, kind, id)
	if err == nil || !errors.Is(err, practices.ErrNotFound) {
		return rec, err
	}
	peers := s.fed.Peers()
	found := make([]practices.Record, len(peers))
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, peer := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, gone, err := s.repo.Load(ctx, peer.URL, kind, id)
			if err != nil {
				errs[i] = err
				return
			}
			if !gone && practices.CanRead(p, r.RecordMeta(), s.repo.Node()) {
				found[i] = r
			}
		}()
	}
	wg.Wait()
	for _, r := range found {
		if r != nil {
			return r, nil
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return nil, practices.ErrNotFound
}

// loadURI returns the record a URI names if p may see it (local or mirrored), or nil.
func (s *Server) loadURI(ctx context.Context, p practices.Principal, uri string) practices.Record {
	origin, kind, id, ok := practices.ParseURI(uri)
	if !ok {
		return nil
	}
	rec, gone, err := s.repo.Load(ctx, origin, kind, id)
	if err != nil || gone || !practices.CanRead(p, rec.RecordMeta(), s.repo.Node()) {
		return nil
	}
	return rec
}

// notFoundOrSignIn: a record an anonymous visitor cannot see may be one they could after signing
// in. Sending every anonymous miss to sign-in (whether the record exists or not) leaks nothing.
func notFoundOrSignIn(p practices.Principal, err error) error {
	if errors.Is(err, practices.ErrNotFound) && !p.Authenticated() {
		return practices.ErrUnauthenticated
	}
	return err
}

// ---- Practice page ----

type practiceView struct {
	P            *practices.Practice
	DistrictName string
	Local        bool
	Description  []textBlock
	ContextNotes []textBlock
	Time         string
	Materials    []materialView
	License      linkView
	Standards    []standardView
	Evidence     evidenceView
	BasedOn      []lineageView
	AdaptedBy    []lineageView
	CanTest      bool
	TestURL      string
	JSONLD       map[string]any
	Measures     []MeasureMultiples // measures over time across the tests (measures_view.go)
	Ramps        [][]rampStep       // ramps of two or more cycles among the practice's tests
	AdaptURL     string             // "adapt this practice", for publishers
	Aims         []practiceAim      // the network aims whose change ideas use the practice (pages_aims.go)
}

type linkView struct{ Label, URL string }

type standardView struct {
	Code, Framework, Alignment, URL string
}

type materialView struct {
	Name, URL, Kind, Size string
}

type lineageView struct {
	Relation, Title, URL, District, Changes string
}

type evidenceView struct {
	Level     string
	Tests     int
	Districts int
	MinimumN  int
	Pools     []poolView
	NotPooled []rowView
}

type poolView struct {
	ID       string
	Heading  string
	Plain    []string
	Chart    template.URL  // data: URI of the evidence package's SVG, shown as an image
	ChartSVG template.HTML // the same plot inline, its row labels linking to each test's page
	// ChartSVGNarrow is the plot laid out for a phone (labels above intervals); the stylesheet
	// shows one of the two by the screen's width, and the wide one in print.
	ChartSVGNarrow template.HTML
	ChartAlt       string
	Rows           []rowView
	Result         evidence.DL
}

type rowView struct {
	Label, District, Design, Decision string
	URL                               string // the test's page on this node
	N                                 int
	Effect, CI, Weight                string
	Adapted                           bool
	Why                               string // for tests that are not pooled
}

func (s *Server) practicePage(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	rec, err := s.findRecord(ctx, p, practices.KindPractice, c.Param("id"))
	if err != nil {
		return notFoundOrSignIn(p, err)
	}
	pr := rec.(*practices.Practice)
	names := s.districtNames()
	v := practiceView{
		P: pr, Local: pr.Origin == s.cfg.Node.URL, DistrictName: names[pr.OriginID],
		Description: textBlocks(pr.Description), ContextNotes: textBlocks(pr.ContextNotes),
		Time: durationWords(pr.TimeRequired), License: licenseLink(pr.License),
	}
	if v.DistrictName == "" {
		v.DistrictName = pr.OriginID
	}
	for _, st := range pr.Standards {
		v.Standards = append(v.Standards, standardView{Code: st.Code, Framework: st.Framework, Alignment: st.Alignment, URL: httpURL(st.URI)})
	}
	for _, m := range pr.Materials {
		v.Materials = append(v.Materials, materialView{
			Name: m.Name, URL: "/api/v1/artifacts/" + url.PathEscape(m.SHA256), Kind: mediaLabel(m.MediaType), Size: byteSize(m.Size),
		})
	}
	for _, b := range pr.BasedOn {
		lv := lineageView{Relation: relationLabel(b.Relation), URL: httpURL(b.URI), Title: b.URI, Changes: b.Changes}
		if r := s.loadURI(ctx, p, b.URI); r != nil {
			if bp, ok := r.(*practices.Practice); ok {
				lv.Title, lv.URL, lv.District = bp.Title, "/practices/"+bp.ID, names[bp.OriginID]
			}
		}
		v.BasedOn = append(v.BasedOn, lv)
	}
	sum, tests, err := s.repo.EvidenceWithTests(ctx, p, pr.URI, s.cfg.Privacy.MinN)
	if err != nil {
		return err
	}
	v.Evidence = buildEvidence(sum, tests, names)
	v.Measures = measureMultiples(tests, names)
	// Adapted by: every practice the viewer may see that says it adapts this one, tested or not.
	adaptations, err := s.repo.Adaptations(ctx, p, pr.URI)
	if err != nil {
		return err
	}
	for _, ap := range adaptations {
		v.AdaptedBy = append(v.AdaptedBy, lineageView{Relation: "Adaptation", Title: ap.Title, URL: "/practices/" + ap.ID, District: names[ap.OriginID]})
	}
	v.CanTest = p.Has(practices.RolePublisher)
	v.TestURL = "/workspace/tests/new?" + url.Values{"practice": {pr.URI}}.Encode()
	if v.Ramps, err = s.practiceRamps(ctx, p, pr, names); err != nil {
		return err
	}
	if p.Has(practices.RolePublisher) && pr.Status == practices.StatusPublished {
		v.AdaptURL = "/workspace/practices/" + pr.ID + "/adapt"
	}
	if v.Aims, err = s.practiceAims(ctx, p, pr.URI, names); err != nil {
		return err
	}
	v.JSONLD = withAlignments(learningResource(pr, v.DistrictName), pr)
	return s.render(c, http.StatusOK, "practice", pr.Title, v)
}

func buildEvidence(sum evidence.Summary, tests []*practices.Test, names map[string]string) evidenceView {
	ev := evidenceView{Level: sum.Level, Tests: sum.Tests, Districts: sum.Districts, MinimumN: sum.MinimumN}
	byURI := map[string]*practices.Test{}
	for _, t := range tests {
		byURI[t.URI] = t
	}
	district := func(id string) string {
		if n := names[id]; n != "" {
			return n
		}
		return id
	}
	pooled := map[string]bool{}
	for _, pool := range sum.Pools {
		pv := poolView{ID: "pool-" + string(pool.Family), Result: pool.Result}
		d := pool.Result
		plural := func(n int, one, many string) string {
			if n == 1 {
				return "1 " + one
			}
			return strconv.Itoa(n) + " " + many
		}
		if pool.Family == evidence.FamilyComparison {
			pv.Heading = "Tests with a comparison group"
		} else {
			pv.Heading = "One-group tests (before and after)"
		}
		est := d.Estimate
		pv.Plain = append(pv.Plain, fmt.Sprintf("Across %s from %s, the pooled effect is %s.",
			plural(d.K, "test", "tests"), plural(pool.Districts, "district", "districts"), effectWords(&est)))
		ci := fmt.Sprintf("The 95%% confidence interval runs from %.2f to %.2f: ", d.CILower, d.CIUpper)
		switch {
		case d.CILower > 0:
			ci += "it is entirely above zero, so these tests agree that students did better with the practice."
		case d.CIUpper < 0:
			ci += "it is entirely below zero, so students did worse with the practice."
		default:
			ci += "it includes zero, so these tests cannot yet rule out that the practice made no difference."
		}
		pv.Plain = append(pv.Plain, ci)
		if d.PILower != nil && d.PIUpper != nil {
			pv.Plain = append(pv.Plain, fmt.Sprintf("In another classroom like these, expect an effect between %.2f and %.2f (the prediction interval).", *d.PILower, *d.PIUpper))
		}
		if d.K > 1 {
			spread := "little"
			switch {
			case d.I2 >= 50:
				spread = "a lot"
			case d.I2 >= 25:
				spread = "moderately"
			}
			pv.Plain = append(pv.Plain, fmt.Sprintf("Results vary %s from test to test (I² = %.0f%%).", spread, d.I2))
		}
		if pool.Family == evidence.FamilyComparison {
			pv.Plain = append(pv.Plain, "These tests compare students who had the practice with similar students who did not.")
		} else {
			pv.Plain = append(pv.Plain, "A before-and-after gain includes the growth students make over the same weeks anyway. The dashed line at 0.40 (Hattie's average effect) is a reference point, not a pass mark.")
		}
		pv.Chart = template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(evidence.RenderForestSVG(pool)))
		testLink := func(r evidence.ForestRow) string {
			if t := byURI[r.Test]; t != nil {
				return "/tests/" + t.ID
			}
			return ""
		}
		// The plots name districts as people know them, not by their node ids.
		named := pool
		named.Rows = slices.Clone(pool.Rows)
		for i := range named.Rows {
			named.Rows[i].District = district(named.Rows[i].District)
		}
		pv.ChartSVG = template.HTML(evidence.RenderForestSVGLinked(named, pv.ID+"-plot", testLink))
		pv.ChartSVGNarrow = template.HTML(evidence.RenderForestSVGNarrow(named, pv.ID+"-plot-narrow", testLink))
		pv.ChartAlt = fmt.Sprintf("Forest plot of %s and the pooled effect. The table that follows gives the same numbers.", plural(d.K, "test", "tests"))
		for _, r := range pool.Rows {
			pooled[r.Test] = true
			rv := rowView{Label: r.Label, District: district(r.District), Design: designLabel(string(r.Design)), N: r.N,
				Effect: fmt.Sprintf("%.2f", r.G), CI: fmt.Sprintf("%.2f to %.2f", r.CILower, r.CIUpper), Weight: fmt.Sprintf("%.0f%%", r.Weight), Adapted: r.Adapted}
			if t := byURI[r.Test]; t != nil {
				rv.Decision = decisionLabel(t.Decision)
				rv.URL = "/tests/" + t.ID
			}
			pv.Rows = append(pv.Rows, rv)
		}
		ev.Pools = append(ev.Pools, pv)
	}
	for _, t := range tests {
		if pooled[t.URI] {
			continue
		}
		rv := rowView{Label: t.Title, URL: "/tests/" + t.ID, District: district(t.OriginID), Design: designLabel(t.Design), Decision: decisionLabel(t.Decision),
			Why: fmt.Sprintf("A group had fewer than %d students, so no effect is published.", sum.MinimumN)}
		if rv.Label == "" {
			rv.Label = t.Team
		}
		ev.NotPooled = append(ev.NotPooled, rv)
	}
	return ev
}

// textBlock is a paragraph or a list of a markdown field. Only this much markdown is understood;
// everything else shows as the text it is (html/template escapes it).
type textBlock struct {
	List  string // "", "ul" or "ol"
	Text  string
	Items []string
}

var orderedItem = regexp.MustCompile(`^\d{1,3}[.)]\s+`)

func textBlocks(md string) []textBlock {
	var out []textBlock
	for _, para := range regexp.MustCompile(`\n\s*\n`).Split(strings.ReplaceAll(strings.TrimSpace(md), "\r\n", "\n"), -1) {
		lines := strings.Split(strings.TrimSpace(para), "\n")
		if len(lines) == 0 || lines[0] == "" {
			continue
		}
		bullet, ordered := true, true
		for _, l := range lines {
			l = strings.TrimSpace(l)
			if !strings.HasPrefix(l, "- ") && !strings.HasPrefix(l, "* ") {
				bullet = false
			}
			if !orderedItem.MatchString(l) {
				ordered = false
			}
		}
		switch {
		case bullet || ordered:
			b := textBlock{List: "ul"}
			if ordered {
				b.List = "ol"
			}
			for _, l := range lines {
				l = strings.TrimSpace(l)
				if ordered {
					l = orderedItem.ReplaceAllString(l, "")
				} else {
					l = strings.TrimSpace(l[2:])
				}
				b.Items = append(b.Items, l)
			}
			out = append(out, b)
		default:
			for i := range lines {
				lines[i] = strings.TrimSpace(lines[i])
			}
			out = append(out, textBlock{Text: strings.Join(lines, " ")})
		}
	}
	return out
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// durationWords turns an ISO 8601 duration (PT15M, PT1H30M) into words; anything else as it is.
func durationWords(d string) string {
	if _, ok := practices.DurationMinutes(d); ok {
		return practices.DurationLabel(d) + " per session"
	}
	m := isoDuration.FindStringSubmatch(d)
	if m == nil || d == "P" || d == "PT" {
		return d
	}
	var parts []string
	for i, unit := range []string{"day", "hour", "minute", "second"} {
		if m[i+1] == "" {
			continue
		}
		n, _ := strconv.Atoi(m[i+1])
		if n == 1 {
			parts = append(parts, "1 "+unit)
		} else {
			parts = append(parts, strconv.Itoa(n)+" "+unit+"s")
		}
	}
	return strings.Join(parts, " ") + " per session"
}

func licenseLink(u string) linkView {
	known := map[string]string{
		"creativecommons.org/licenses/by/4.0":       "Creative Commons Attribution 4.0 (CC BY 4.0)",
		"creativecommons.org/licenses/by-sa/4.0":    "Creative Commons Attribution-ShareAlike 4.0 (CC BY-SA 4.0)",
		"creativecommons.org/licenses/by-nc/4.0":    "Creative Commons Attribution-NonCommercial 4.0 (CC BY-NC 4.0)",
		"creativecommons.org/licenses/by-nc-sa/4.0": "Creative Commons Attribution-NonCommercial-ShareAlike 4.0 (CC BY-NC-SA 4.0)",
		"creativecommons.org/publicdomain/zero/1.0": "Public domain (CC0 1.0)",
	}
	if u == "" {
		return linkView{}
	}
	key := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://"), "/")
	if l, ok := known[key]; ok {
		return linkView{Label: l, URL: httpURL(u)}
	}
	return linkView{Label: u, URL: httpURL(u)}
}

// httpURL returns u when it is an absolute http(s) URL, "" otherwise (html/template would also
// refuse a javascript: URL; this keeps odd values from becoming links at all).
func httpURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return ""
	}
	return u
}

func relationLabel(r string) string {
	switch r {
	case "adaptation_of":
		return "Adapted from"
	case "inspired_by":
		return "Inspired by"
	}
	return "Based on"
}

func mediaLabel(mt string) string {
	switch mt {
	case "application/pdf":
		return "PDF"
	case "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/msword":
		return "Word document"
	case "application/vnd.openxmlformats-officedocument.presentationml.presentation", "application/vnd.ms-powerpoint":
		return "Slides"
	case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.ms-excel", "text/csv":
		return "Spreadsheet"
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return "Image"
	case "text/plain":
		return "Text"
	}
	return mt
}

func byteSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d bytes", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.0f KB", math.Ceil(float64(n)/1000))
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// learningResource is the practice as schema.org LearningResource JSON-LD (LRMI), for search
// engines and harvesters. html/template escapes it for the script element it goes in.
func learningResource(p *practices.Practice, district string) map[string]any {
	ld := map[string]any{
		"@context":             "https://schema.org",
		"@type":                "LearningResource",
		"@id":                  p.URI,
		"url":                  p.URI,
		"name":                 p.Title,
		"learningResourceType": "activity plan",
		"inLanguage":           "en",
		"publisher":            map[string]any{"@type": "Organization", "name": district, "url": p.Origin},
		"dateModified":         p.UpdatedAt.UTC().Format("2006-01-02"),
	}
	if p.Summary != "" {
		ld["description"] = p.Summary
	}
	if p.PublishedAt != nil {
		ld["datePublished"] = p.PublishedAt.UTC().Format("2006-01-02")
	}
	if p.License != "" {
		ld["license"] = p.License
	}
	if p.TimeRequired != "" {
		ld["timeRequired"] = p.TimeRequired
	}
	var levels []any
	for _, g := range p.GradeLevels {
		levels = append(levels, map[string]any{"@type": "DefinedTerm", "termCode": g, "name": gradeFilterLabel(g)})
	}
	if levels != nil {
		ld["educationalLevel"] = levels
	}
	var about []string
	for _, s := range p.Subjects {
		about = append(about, subjectLabel(s))
	}
	if about != nil {
		ld["about"] = about
	}
	var teaches, assesses []any
	for _, st := range p.Standards {
		term := map[string]any{"@type": "DefinedTerm", "termCode": st.Code, "name": st.Code}
		if st.Framework != "" {
			term["inDefinedTermSet"] = st.Framework
		}
		if st.URI != "" {
			term["url"] = st.URI
		}
		if st.Alignment == "assesses" {
			assesses = append(assesses, term)
		} else {
			teaches = append(teaches, term)
		}
	}
	if teaches != nil {
		ld["teaches"] = teaches
	}
	if assesses != nil {
		ld["assesses"] = assesses
	}
	var based []string
	for _, b := range p.BasedOn {
		based = append(based, b.URI)
	}
	if based != nil {
		ld["isBasedOn"] = based
	}
	return ld
}

// ---- Collection page ----

type collectionView struct {
	C            *practices.Collection
	DistrictName string
	Description  []textBlock
	Items        []collectionItemView
	Hidden       int // items the viewer may not see (or that are gone)
}

type collectionItemView struct {
	P            *practices.Practice
	URL          string
	DistrictName string
	Note         string
}

func (s *Server) collectionPage(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	rec, err := s.findRecord(ctx, p, practices.KindCollection, c.Param("id"))
	if err != nil {
		return notFoundOrSignIn(p, err)
	}
	col := rec.(*practices.Collection)
	names := s.districtNames()
	v := collectionView{C: col, DistrictName: names[col.OriginID], Description: textBlocks(col.Description)}
	if v.DistrictName == "" {
		v.DistrictName = col.OriginID
	}
	for _, it := range col.Items {
		r := s.loadURI(ctx, p, it.PracticeURI)
		pr, ok := r.(*practices.Practice)
		if !ok {
			v.Hidden++
			continue
		}
		name := names[pr.OriginID]
		if name == "" {
			name = pr.OriginID
		}
		v.Items = append(v.Items, collectionItemView{P: pr, URL: "/practices/" + pr.ID, DistrictName: name, Note: it.Note})
	}
	return s.render(c, http.StatusOK, "collection", col.Title, v)
}

// evidenceLevelView is one evidence level on the help page.
type evidenceLevelView struct{ Code, Label, Meaning string }

// evidenceHelpPage explains each evidence level, weakest first; every badge and the search
// filter link here, so a level is never a bare word.
func (s *Server) evidenceHelpPage(c echo.Context) error {
	var levels []evidenceLevelView
	for _, l := range practices.EvidenceLevels {
		levels = append(levels, evidenceLevelView{Code: l, Label: evidenceLabel(l), Meaning: practices.EvidenceLevelMeanings[l]})
	}
	return s.render(c, http.StatusOK, "help_evidence", "What the evidence levels mean", levels)
}
