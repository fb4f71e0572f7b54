package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/web/auth"
)

// The HTML pages: server-rendered with html/template (which escapes every value by context), one
// small stylesheet, and a little progressive-enhancement JavaScript from /static only (the CSP allows
// no inline script). Every page works without JavaScript.
//
// Layout: templates/layout.html defines the page frame and calls the blocks "title" and "main" that
// each page file (templates/{name}.html) defines. Page handlers call s.render with the page name.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageFuncs are available in every template: all of them are listed here, defined beside the pages
// that use them most.
var pageFuncs = template.FuncMap{
	"subjectLabel": func(code string) string {
		if l, ok := practices.Subjects[code]; ok {
			return l
		}
		return code
	},
	"gradeLabel":    practices.GradeLabel,
	"evidenceLabel": evidenceLabel,
	"gradeName":     practices.GradeName,
	"evidenceMeaning": func(level string) string {
		if m, ok := practices.EvidenceLevelMeanings[level]; ok {
			return m
		}
		return practices.EvidenceLevelMeanings[practices.LevelDescribed]
	},
	"durationLabel": practices.DurationLabel,
	"effectWords":   effectWords,
	"hitEffect":     hitEffect,
	"date":          func(t time.Time) string { return t.Format("2 Jan 2006") },
	"datePtr": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format("2 Jan 2006")
	},
	// Feeds, JSON-LD and the standards picker (harvest_feeds.go, harvest_jsonld.go, harvest_standards.go).
	"feedLinks":        feedLinks,
	"teamFeed":         teamFeedHref,
	"collectionJSONLD": collectionJSONLD,
	"aimJSONLD":        AimJSONLD,
	"testJSONLD":       testJSONLD,
	"statementShort":   statementShort,
	"join":             strings.Join,
	"hasPrefix":        strings.HasPrefix,
	"pct":              func(f float64) string { return fmt.Sprintf("%.0f%%", f) },
	"num":              func(f float64) string { return fmt.Sprintf("%.2f", f) },
	"add":              func(a, b int) int { return a + b },
	"contains":         slices.Contains[[]string],
	"query":            func(v url.Values) string { return v.Encode() },
	"fixed":            func(f float64, places int) string { return strconv.FormatFloat(f, 'f', places, 64) },
	"deref": func(f *float64) float64 {
		if f == nil {
			return math.NaN()
		}
		return *f
	},

	// Search and reading pages (pages_search.go).
	"designLabel":   designLabel,
	"decisionLabel": decisionLabel,
	"gradeList":     gradeList,
	"subjectList":   subjectList,

	// Editing forms (pages_workspace_forms.go, pages_workspace.go).
	"field":       formField,
	"typed":       typedField,
	"fid":         fieldID,
	"optionLabel": optionLabel,
	"bytes":       fileSize,

	// Results (the results-table partial).
	"groupLabel": evidence.GroupLabel,

	// Measures over time (the _measures.html partials, measures_view.go).
	"measureTypes":        measureTypes,
	"measureKinds":        measureKinds,
	"measureDirections":   measureDirections,
	"measureNumberFields": measureNumberFields,
	"measureField":        measureField,
	"measureValue":        evidence.FormatValue,
	"measureDate":         measureDate,

	// Network aims (the aim form's partials, pages_aims_form.go).
	"aimField":        aimField,
	"aimVisibilities": aimVisibilities,
}

// evidenceLabel is the display name of an evidence level (practices.EvidenceLevelLabels).
func evidenceLabel(level string) string {
	if l, ok := practices.EvidenceLevelLabels[level]; ok {
		return l
	}
	return practices.EvidenceLevelLabels[practices.LevelDescribed]
}

// effectSize is the one place an effect size becomes words: the value as it is printed (two
// decimals) and its size, judged on that printed value, so a page never shows "0.50" beside the
// label of 0.49. The reference points are conventions, not pass marks: a pre/post gain includes
// ordinary growth.
func effectSize(g float64) (printed, size string) {
	printed = strconv.FormatFloat(g, 'f', 2, 64)
	if printed == "-0.00" {
		printed = "0.00"
	}
	shown, _ := strconv.ParseFloat(printed, 64)
	switch a := math.Abs(shown); {
	case a >= 0.8:
		size = "large"
	case a >= 0.5:
		size = "moderate"
	case a >= 0.2:
		size = "small"
	default:
		size = "very small"
	}
	return printed, size
}

// effectWords puts a pooled effect size into plain words for teachers.
func effectWords(g *float64) string {
	if g == nil {
		return "no pooled result yet"
	}
	printed, size := effectSize(*g)
	dir := "improvement"
	if printed == "0.00" {
		dir = "change"
	} else if *g < 0 {
		dir = "decline"
	}
	return fmt.Sprintf("a %s %s (g = %s)", size, dir, printed)
}

// hitEffect is a search card's evidence line: what the pooled effect pools (so many tests of one
// design family) apart from how many tests the practice has in all.
func hitEffect(h search.Hit) string {
	tests := func(n int) string { return plural(n, "test", "tests") }
	all := fmt.Sprintf("%s in %s", tests(h.TestCount), plural(h.DistrictCount, "district", "districts"))
	if h.PooledEffect == nil {
		if h.TestCount == 0 {
			return "Not tested yet."
		}
		return fmt.Sprintf("%s, too small to pool yet.", all)
	}
	kind := "comparison "
	if h.PooledFamily == "single_group" {
		kind = "single-group pre/post "
	}
	if h.PooledFamily == "" {
		kind = ""
	}
	pooled := h.PooledTests
	if pooled == 0 { // a document indexed before pools were counted
		return fmt.Sprintf("Pooled effect: %s; %s.", effectWords(h.PooledEffect), all)
	}
	what := "pooled from " + plural(pooled, kind+"test", kind+"tests")
	if pooled == 1 {
		what = "from 1 " + kind + "test"
	}
	return fmt.Sprintf("Effect: %s, %s; %s.", effectWords(h.PooledEffect), what, all)
}

// pages holds one parsed template set per page.
type pages struct {
	sets map[string]*template.Template
}

func loadPages() (*pages, error) {
	layout, err := template.New("layout.html").Funcs(pageFuncs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := layout.Clone()
		if err != nil {
			return nil, err
		}
		partials, _ := fs.Glob(templateFS, "templates/_*.html")
		files := append([]string{n}, partials...)
		if _, err := t.ParseFS(templateFS, files...); err != nil {
			return nil, fmt.Errorf("page %s: %w", base, err)
		}
		p.sets[strings.TrimSuffix(base, ".html")] = t
	}
	return p, nil
}

// PageData is what every page template receives: the caller, the node, the CSRF token for its forms,
// and the page's own data in .Data.
type PageData struct {
	Title     string
	Principal practices.Principal
	SignedIn  bool
	CSRF      string
	Node      Identity
	Path      string
	Query     url.Values
	RequestID string
	Data      any
}

// render writes the page name with data, in the layout, as HTML.
func (s *Server) render(c echo.Context, status int, name, title string, data any) error {
	t, ok := s.pages.sets[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	p := principal(c)
	pd := PageData{
		Title: title, Principal: p, SignedIn: p.Authenticated(), CSRF: auth.CSRFToken(c), Node: s.cfg.Node,
		Path: c.Request().URL.Path, Query: c.QueryParams(), RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
		Data: data,
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", pd); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// wantsHTML reports whether an error on this request should be an HTML page rather than a problem
// document: page routes, asked for by a browser.
func wantsHTML(c echo.Context) bool {
	p := c.Request().URL.Path
	if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/federation/") || strings.HasPrefix(p, "/.well-known/") ||
		strings.HasPrefix(p, "/idp/") || strings.HasPrefix(p, "/static/") || p == "/metrics" || p == "/healthz" || p == "/readyz" {
		return false
	}
	return strings.Contains(c.Request().Header.Get("Accept"), "text/html") || c.Request().Header.Get("Accept") == ""
}

// errorPage renders a problem as a page: 401 sends the browser to sign in; others show what happened
// and, for server errors, the request id to quote to IT.
func (s *Server) errorPage(c echo.Context, p *Problem) {
	if p.Status == http.StatusUnauthorized {
		next := c.Request().URL.RequestURI()
		_ = c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(next))
		return
	}
	title := map[int]string{
		http.StatusNotFound:  "Page not found",
		http.StatusForbidden: "Not allowed",
	}[p.Status]
	if title == "" {
		title = http.StatusText(p.Status)
		if p.Status >= 500 {
			title = "Something went wrong"
		}
	}
	if err := s.render(c, p.Status, "error", title, p); err != nil {
		s.logger.Error("render error page", "err", err)
		_ = c.String(p.Status, title)
	}
}

// staticHandler serves the embedded stylesheet, scripts and images.
func staticHandler() echo.HandlerFunc {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return func(c echo.Context) error {
		// Files only: a folder (the bare /static/ included) would be listed by http.FileServer.
		name := strings.TrimPrefix(c.Request().URL.Path, "/static/")
		if st, err := fs.Stat(sub, name); name == "" || strings.HasSuffix(name, "/") || err != nil || st.IsDir() {
			return echo.ErrNotFound
		}
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
