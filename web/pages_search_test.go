package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/brightspots-nic/brightspots/internal/testenv"
	"github.com/brightspots-nic/brightspots/web/idp"
)

// Tests of the teacher's pages (pages_search.go): over HTTP for what the server sends, and in
// Chromium for what a teacher does with it.

const tpXSSTitle = `<script>alert(1)</script> Number line estimates`

// tpPublish creates and publishes a practice as the math-4 team; edit changes practiceJSON's fields.
func tpPublish(n *testNode, title string, edit func(map[string]any)) (id, uri string) {
	n.t.Helper()
	p := practiceJSON(title)
	if edit != nil {
		edit(p)
	}
	r := n.doJSON("math", "POST", "/api/v1/practices", p)
	if r.status != 201 {
		n.t.Fatalf("create %q: %d %s", title, r.status, r.body)
	}
	rec := r.json(n.t)
	id, uri = rec["id"].(string), rec["uri"].(string)
	if r := n.doJSON("math", "POST", "/api/v1/practices/"+id+"/publish", nil); r.status != 200 {
		n.t.Fatalf("publish %q: %d %s", title, r.status, r.body)
	}
	return id, uri
}

// tpAttach uploads a material to a draft practice.
func tpAttach(n *testNode, id, name string, content []byte) {
	n.t.Helper()
	if r := n.do("math", "POST", "/api/v1/practices/"+id+"/artifacts?name="+url.QueryEscape(name), bytes.NewReader(content), "Content-Type", "application/pdf"); r.status != 201 {
		n.t.Fatalf("upload: %d %s", r.status, r.body)
	}
}

// tpTestedPractice publishes a practice with a material and two published tests with results
// (District A's score table, and District B's summary statistics), like a PLC would.
func tpTestedPractice(n *testNode, title string, edit func(map[string]any)) (id, uri string) {
	n.t.Helper()
	p := practiceJSON(title)
	if edit != nil {
		edit(p)
	}
	r := n.doJSON("math", "POST", "/api/v1/practices", p)
	if r.status != 201 {
		n.t.Fatalf("create: %d %s", r.status, r.body)
	}
	rec := r.json(n.t)
	id, uri = rec["id"].(string), rec["uri"].(string)
	tpAttach(n, id, "lesson plan.pdf", pdfBytes)
	if r := n.doJSON("math", "POST", "/api/v1/practices/"+id+"/publish", nil); r.status != 200 {
		n.t.Fatalf("publish: %d %s", r.status, r.body)
	}
	tpPublishTest(n, uri, "Spring cycle 1", "text/csv", scoreCSV(districtAPre, districtAPost), "adopt")
	tpPublishTest(n, uri, "Spring cycle 2", "application/json", `{"groups":[{"n":25,"mean_pre":48.2,"sd_pre":10.5,"mean_post":53.9,"sd_post":10.5,"r":0.78}]}`, "adapt")
	return id, uri
}

// tpPublishTest runs a single-group test of the practice at uri with results and a decision, and publishes it.
func tpPublishTest(n *testNode, uri, title, ctype, results, decision string) {
	n.t.Helper()
	tid := n.plannedTest(uri)
	r := n.do("math", "POST", "/api/v1/tests/"+tid+"/results", strings.NewReader(results), "Content-Type", ctype)
	if r.status != 200 {
		n.t.Fatalf("results: %d %s", r.status, r.body)
	}
	t := r.json(n.t)["test"].(map[string]any)
	t["learnings"], t["decision"], t["title"] = "Students explained their placements.", decision, title
	if r := n.doJSON("math", "PUT", "/api/v1/tests/"+tid, t, "If-Match", r.header.Get("ETag")); r.status != 200 {
		n.t.Fatalf("decision: %d %s", r.status, r.body)
	}
	if r := n.doJSON("math", "POST", "/api/v1/tests/"+tid+"/publish", nil); r.status != 200 {
		n.t.Fatalf("publish test: %d %s", r.status, r.body)
	}
}

// tpPage fetches a page as a browser would (Accept: text/html), as a token holder or anonymously.
func tpPage(n *testNode, who, path string) response {
	n.t.Helper()
	return n.do(who, "GET", path, nil, "Accept", "text/html")
}

// tpCheckPageSafety checks what every page must hold: no inline script or style (the CSP would
// block them), every script from /static or a JSON-LD data block, and a CSRF token in every POST form.
func tpCheckPageSafety(t *testing.T, name string, r response) {
	t.Helper()
	body := string(r.body)
	csp := r.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: CSP %q", name, csp)
	}
	for _, m := range regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(body, -1) {
		attrs, content := m[1], m[2]
		switch {
		case strings.Contains(attrs, `type="application/ld+json"`):
		case strings.Contains(attrs, `src="/static/`) && strings.TrimSpace(content) == "":
		default:
			t.Errorf("%s: inline or foreign script: %.200s", name, m[0])
		}
	}
	if regexp.MustCompile(`(?i)<[a-z][^>]*\sstyle=`).MatchString(body) || regexp.MustCompile(`(?i)<style`).MatchString(body) {
		t.Errorf("%s: inline style", name)
	}
	if regexp.MustCompile(`(?i)\son[a-z]+=`).MatchString(body) {
		t.Errorf("%s: inline event handler", name)
	}
	for _, f := range regexp.MustCompile(`(?is)<form[^>]*>.*?</form>`).FindAllString(body, -1) {
		if strings.Contains(strings.ToLower(f[:strings.Index(f, ">")]), `method="post"`) && !strings.Contains(f, `name="csrf_token" value="`) {
			t.Errorf("%s: POST form without a CSRF token: %.200s", name, f)
		}
	}
}

func TestTeacherPagesOverHTTP(t *testing.T) {
	n := newTestNode(t)
	ctx := context.Background()
	// A public practice anyone may see, with a title that is an attack; a network practice only
	// members see; a tested practice with evidence and a material; an adaptation of it.
	xssID, _ := tpPublish(n, tpXSSTitle, func(p map[string]any) {
		p["visibility"] = "public"
		p["grade_levels"] = []string{"07"}
		p["summary"] = `Estimate where <b>fractions</b> & "decimals" fall.`
	})
	netID, _ := tpPublish(n, "Members-only number line routine", func(p map[string]any) { p["grade_levels"] = []string{"10"} })
	testedID, testedURI := tpTestedPractice(n, "Fraction number line talks", func(p map[string]any) {
		p["visibility"] = "public"
		p["license"] = "https://creativecommons.org/licenses/by/4.0/"
		p["description"] = "Draw the line.\n\n- Place the cards\n- Justify aloud\n\nClose with an exit ticket."
		p["context_notes"] = "Works best after unit fractions."
		p["standards"] = []map[string]string{{"code": "CCSS.MATH.CONTENT.4.NF.A.2", "framework": "CCSS.MATH", "alignment": "teaches"}}
	})
	adaptedID, adaptedURI := tpPublish(n, "Fraction number line talks for grade 5", func(p map[string]any) {
		p["origin_kind"] = "adapted"
		p["grade_levels"] = []string{"05"}
		p["based_on"] = []map[string]string{{"uri": testedURI, "relation": "adaptation_of", "changes": "Adds mixed numbers."}}
	})
	// A test of the adaptation counts in the original's evidence, marked as adapted.
	tpPublishTest(n, adaptedURI, "Grade 5 cycle", "text/csv", scoreCSV(districtAPre, districtAPost), "adopt")
	draft := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Unpublished draft")).json(t)["id"].(string)
	col := n.doJSON("coordinator", "POST", "/api/v1/collections", map[string]any{
		"title": "Fractions across the network", "aim": "Raise grade 4 fraction proficiency", "visibility": "public",
		"description": "Practices that moved fraction scores.", "curator": "Dana (NIC coordinator)",
		"items": []map[string]any{{"practice_uri": testedURI, "note": "Start here."}, {"practice_uri": n.url + "/practices/" + netID}},
	}).json(t)
	colID := col["id"].(string)
	if r := n.doJSON("coordinator", "POST", "/api/v1/collections/"+colID+"/publish", nil); r.status != 200 {
		t.Fatalf("publish collection: %d %s", r.status, r.body)
	}
	waitFor(t, "the index holds the tested practice with its evidence", func() bool {
		r := n.do("teacher", "GET", "/api/v1/search?q=fraction+number+line+talks&evidence=tested", nil)
		return hasTitle(r.json(t), "Fraction number line talks")
	})
	waitFor(t, "the index holds the adaptation", func() bool { return n.finds("Fraction number line talks for grade 5") })

	t.Run("search page", func(t *testing.T) {
		r := tpPage(n, "teacher", "/search?q=fracton+numbr+line") // two typos
		body := string(r.body)
		if r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("search: %d %s", r.status, r.header.Get("Content-Type"))
		}
		tpCheckPageSafety(t, "search", r)
		for _, want := range []string{
			`href="/practices/` + testedID + `"`, `<mark>`, `value="fracton numbr line"`,
			`name="grade" value="3-5"`, `Evidence: Tested`, // facets, badge
		} {
			if !strings.Contains(body, want) {
				t.Errorf("search page lacks %q", want)
			}
		}
		// The effect in words says what it pools, apart from all the practice's tests (issue 18).
		if m := regexp.MustCompile(`Effect: a [a-z ]+ \(g = -?\d\.\d\d\), (pooled from \d+|from 1) [a-z/ -]*tests?; \d+ tests? in \d+ districts?\.`).FindString(body); m == "" {
			t.Errorf("no evidence line saying what the effect pools: %s", regexp.MustCompile(`<p class="effect">[^<]*`).FindAllString(body, -1))
		}
		// Facet counts are the index's: the subject facet counts every matching practice.
		if !regexp.MustCompile(`name="subject" value="math"> Mathematics <span class="count">[1-9]`).MatchString(body) {
			t.Errorf("no subject facet with a count")
		}
		// Filtering by grade band narrows the hits; the checkbox stays checked; the URL is the state.
		r = tpPage(n, "teacher", "/search?q=number+line&grade=3-5")
		body = string(r.body)
		if !strings.Contains(body, `href="/practices/`+testedID+`"`) || strings.Contains(body, `href="/practices/`+netID+`"`) {
			t.Errorf("grade 3-5 filter: wrong hits")
		}
		if !regexp.MustCompile(`name="grade" value="3-5" checked`).MatchString(body) {
			t.Errorf("grade filter not shown as checked")
		}
		// The other bands stay offered, counted as if they were ticked instead (disjunctive facets):
		// the members-only routine is in grade 10.
		if !regexp.MustCompile(`name="grade" value="9-12"> Grades 9-12 <span class="count">1<`).MatchString(body) {
			t.Errorf("ticking grades 3-5 hid the 9-12 band: %s", regexp.MustCompile(`name="grade" value="[^"]+"[^<]*<span class="count">\d+`).FindAllString(body, -1))
		}
		// Paging keeps the query and the filters.
		r = tpPage(n, "teacher", "/search?q=number+line&per_page=1")
		if m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(string(r.body)); m == nil ||
			!strings.Contains(html.UnescapeString(m[1]), "page=2") || !strings.Contains(html.UnescapeString(m[1]), "q=number+line") || !strings.Contains(html.UnescapeString(m[1]), "per_page=1") {
			t.Errorf("next page link: %v", m)
		}
		// The home page lists the newest, but its form asks for best match: words typed there are
		// sorted as /search?q= sorts them, not by "newest" (issue 18).
		r = tpPage(n, "teacher", "/")
		if body := string(r.body); !strings.Contains(body, `<option value="relevance" selected>`) || strings.Contains(body, `<option value="newest" selected>`) {
			t.Errorf("the home page's form sends a sort other than best match: %s", regexp.MustCompile(`<option[^>]*>`).FindAllString(body, -1))
		}
		// Anonymous visitors see public practices only.
		r = tpPage(n, "", "/")
		tpCheckPageSafety(t, "home", r)
		if r.status != 200 || !bytes.Contains(r.body, []byte(`href="/practices/`+testedID+`"`)) || bytes.Contains(r.body, []byte(netID)) {
			t.Errorf("anonymous home page: %d, public shown %v, members-only shown %v", r.status,
				bytes.Contains(r.body, []byte(testedID)), bytes.Contains(r.body, []byte(netID)))
		}
		// A bad URL is a page that says what is wrong, with the form.
		r = tpPage(n, "teacher", "/search?grade=13&colour=red")
		if r.status != 400 || !bytes.Contains(r.body, []byte(`role="alert"`)) || !bytes.Contains(r.body, []byte(`id="q"`)) {
			t.Errorf("bad query: %d %s", r.status, r.body)
		}
	})

	t.Run("user text is escaped", func(t *testing.T) {
		for _, path := range []string{"/search?q=number+line+estimates", "/practices/" + xssID} {
			r := tpPage(n, "", path)
			if r.status != 200 {
				t.Fatalf("%s: %d", path, r.status)
			}
			tpCheckPageSafety(t, path, r)
			if bytes.Contains(r.body, []byte("<script>alert(1)")) || bytes.Contains(r.body, []byte("<b>fractions")) {
				t.Errorf("%s: user text reached the page unescaped", path)
			}
			if !bytes.Contains(r.body, []byte("&lt;script&gt;alert(1)&lt;/script&gt;")) {
				t.Errorf("%s: the title is not shown as text", path)
			}
		}
	})

	t.Run("practice page", func(t *testing.T) {
		// Public: no sign-in needed; the tests are network-visible, so an anonymous visitor sees
		// the practice without them.
		r := tpPage(n, "", "/practices/"+testedID)
		if r.status != 200 || !bytes.Contains(r.body, []byte("No published test of this practice yet.")) || bytes.Contains(r.body, []byte("Spring cycle")) {
			t.Fatalf("anonymous practice page: %d %s", r.status, r.body)
		}
		tpCheckPageSafety(t, "practice (anonymous)", r)
		r = tpPage(n, "teacher", "/practices/"+testedID)
		body := string(r.body)
		if r.status != 200 {
			t.Fatalf("practice: %d %s", r.status, body)
		}
		tpCheckPageSafety(t, "practice", r)
		for _, want := range []string{
			"<h1>Fraction number line talks</h1>", "What the teacher does", "<li>Justify aloud</li>", "15 minutes per session",
			"Works best after unit fractions.", "CCSS.MATH.CONTENT.4.NF.A.2", "Creative Commons Attribution 4.0",
			`href="/api/v1/artifacts/`, "lesson plan.pdf", "(PDF, ",
			"Evidence level", "Spring cycle 1", "Spring cycle 2", "Adopt", "Adapt", "95% confidence interval runs from",
			"not a pass mark", `<desc id="pool-single_group-plot-desc">Forest plot of 3`, "Grade 5 cycle</a> <span class=\"tag\">adapted version</span>",
			"Adapted by", `href="/practices/` + adaptedID + `"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("practice page lacks %q", want)
			}
		}
		if strings.Contains(strings.ToLower(body), "essa") || strings.Contains(body, "/workspace/tests/new") {
			t.Errorf("practice page for a teacher says ESSA or offers a test")
		}
		// The forest plot is inline SVG with a title and a description, and every row label links to
		// its test's page, as the evidence table's rows do.
		m := regexp.MustCompile(`(?s)<svg [^>]*class="bs-svg".*?</svg>`).FindString(body)
		if m == "" || !strings.Contains(m, "<title") || !strings.Contains(m, "<desc") {
			t.Fatalf("no inline forest plot: %.300s", m)
		}
		plotLinks := regexp.MustCompile(`<a href="(/tests/[0-9a-f-]{36})">`).FindAllStringSubmatch(m, -1)
		if len(plotLinks) != 3 {
			t.Errorf("forest plot links to %d tests, want 3: %v", len(plotLinks), plotLinks)
		}
		for _, l := range plotLinks {
			if !strings.Contains(body, `<th scope="row"><a href="`+l[1]+`">`) {
				t.Errorf("evidence table has no row linking to %s", l[1])
			}
			if r := tpPage(n, "teacher", l[1]); r.status != 200 {
				t.Errorf("%s: %d", l[1], r.status)
			}
		}
		// LRMI JSON-LD.
		ld := tpJSONLD(t, body)
		for k, want := range map[string]any{
			"@type": "LearningResource", "learningResourceType": "activity plan", "name": "Fraction number line talks",
			"license": "https://creativecommons.org/licenses/by/4.0/", "@id": testedURI, "timeRequired": "PT15M",
		} {
			if ld[k] != want {
				t.Errorf("JSON-LD %s = %v, want %v", k, ld[k], want)
			}
		}
		teaches, _ := ld["teaches"].([]any)
		levels, _ := ld["educationalLevel"].([]any)
		if len(teaches) != 1 || teaches[0].(map[string]any)["termCode"] != "CCSS.MATH.CONTENT.4.NF.A.2" || len(levels) != 1 || levels[0].(map[string]any)["name"] != "Grade 4" {
			t.Errorf("JSON-LD teaches %v, educationalLevel %v", ld["teaches"], ld["educationalLevel"])
		}
		// The adaptation names its source, in the page and as isBasedOn.
		r = tpPage(n, "teacher", "/practices/"+adaptedID)
		if !bytes.Contains(r.body, []byte(`Adapted from: <a href="/practices/`+testedID+`">Fraction number line talks</a>`)) || !bytes.Contains(r.body, []byte("Adds mixed numbers.")) {
			t.Errorf("adaptation's lineage missing")
		}
		if based, _ := tpJSONLD(t, string(r.body))["isBasedOn"].([]any); len(based) != 1 || based[0] != testedURI {
			t.Errorf("isBasedOn %v", based)
		}
		// Publishers get the way to start a test of it; teachers do not.
		r = tpPage(n, "math", "/practices/"+testedID)
		if !bytes.Contains(r.body, []byte(`href="/workspace/tests/new?practice=`+url.QueryEscape(testedURI))) {
			t.Errorf("publisher has no 'Start a test' link")
		}
		if r := tpPage(n, "teacher", "/practices/"+testedID); bytes.Contains(r.body, []byte("/workspace/tests/new")) {
			t.Errorf("a teacher is offered to start a test")
		}
		// Members-only practice: anonymous visitors are sent to sign in (as for any id), members see it.
		res := tpNoRedirect(t, n.url+"/practices/"+netID)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
			t.Errorf("anonymous, members-only practice: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if r := tpPage(n, "teacher", "/practices/"+netID); r.status != 200 {
			t.Errorf("teacher, members-only practice: %d", r.status)
		}
		// Drafts and unknown ids are the same 404 page.
		for _, id := range []string{draft, "0190a0a0-0000-7000-8000-000000000000", "not-an-id"} {
			if r := tpPage(n, "teacher", "/practices/"+id); r.status != 404 || !bytes.Contains(r.body, []byte("Page not found")) {
				t.Errorf("teacher, %s: %d", id, r.status)
			}
		}
		if r := tpPage(n, "math", "/practices/"+draft); r.status != 200 {
			t.Errorf("team, own draft: %d", r.status)
		}
	})

	t.Run("collection page", func(t *testing.T) {
		r := tpPage(n, "", "/collections/"+colID)
		body := string(r.body)
		if r.status != 200 {
			t.Fatalf("collection: %d", r.status)
		}
		tpCheckPageSafety(t, "collection", r)
		for _, want := range []string{"<h1>Fractions across the network</h1>", "Raise grade 4 fraction proficiency", "Dana (NIC coordinator)",
			`href="/practices/` + testedID + `"`, "Start here.", "1 more practice is in this collection that you cannot see"} {
			if !strings.Contains(body, want) {
				t.Errorf("collection page lacks %q", want)
			}
		}
		if strings.Contains(body, "Members-only number line routine") {
			t.Errorf("anonymous visitor sees a members-only item")
		}
		if r := tpPage(n, "teacher", "/collections/"+colID); !bytes.Contains(r.body, []byte("Members-only number line routine")) {
			t.Errorf("teacher does not see the members-only item")
		}
	})

	t.Run("a signed-in session's POST forms carry the CSRF token", func(t *testing.T) {
		if _, err := idp.AddUser(ctx, n.srv.Repo().Bucket(), "tess@riverside.example", "teacher", "", "correct horse battery"); err != nil {
			t.Fatal(err)
		}
		c := n.signIn("tess@riverside.example", "correct horse battery")
		for _, path := range []string{"/", "/search?q=fraction", "/practices/" + testedID, "/collections/" + colID} {
			res, err := c.Get(n.url + path)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(res)
			if !strings.Contains(body, `action="/logout"`) {
				t.Fatalf("%s: not signed in: %d", path, res.StatusCode)
			}
			tpCheckPageSafety(t, path, response{res.StatusCode, res.Header, []byte(body)})
		}
	})
}

func tpJSONLD(t *testing.T, body string) map[string]any {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no JSON-LD in the page")
	}
	var ld map[string]any
	if err := json.Unmarshal([]byte(m[1]), &ld); err != nil {
		t.Fatalf("JSON-LD: %v: %s", err, m[1])
	}
	return ld
}

func tpNoRedirect(t *testing.T, u string) *http.Response {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept", "text/html")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// ---- In the browser ----

// tpWatch records, for the whole test, what a page must never do: a CSP violation (seen by a
// listener installed before any page script), a console error or an uncaught exception, a dialog.
type tpWatch struct {
	mu       sync.Mutex
	problems []string
}

func tpWatchBrowser(t *testing.T, ctx context.Context) *tpWatch {
	t.Helper()
	w := &tpWatch{}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber));`,
	}); err != nil {
		t.Fatal(err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if strings.HasSuffix(m.URL, "/favicon.ico") {
				continue // the layout links no icon, so the browser asks for one
			}
			if m.Type == "error" || m.IsException() {
				w.add("console: " + m.String())
			}
		}
	}()
	if err := chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			w.add("dialog opened: " + d.Message)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *tpWatch) add(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.problems = append(w.problems, s)
}

// check fails the test for anything recorded so far on the current page.
func (w *tpWatch) check(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	csp, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp || ["CSP listener missing"]`))
	if err != nil {
		t.Fatalf("read CSP violations on %s: %v", name, err)
	}
	for _, v := range csp {
		t.Errorf("%s: CSP violation: %s", name, v)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.problems {
		t.Errorf("%s: %s", name, p)
	}
	w.problems = nil
}

// tpCheckReflow checks the page at 360 CSS px (a phone) and at 200 % zoom of a 1280 px window
// (640 CSS px at scale 2): nothing may need horizontal scrolling of the page itself.
func tpCheckReflow(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for _, vp := range []struct {
		label         string
		width, height int64
		scale         float64
	}{{"360 px", 360, 780, 1}, {"200 % zoom", 640, 450, 2}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.width, vp.height, chromedp.EmulateScale(vp.scale))); err != nil {
			t.Fatal(err)
		}
		over, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			const w = document.documentElement.clientWidth;
			if (document.documentElement.scrollWidth <= w) return "";
			const wide = [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > w + 1 && !e.closest(".table-wrap"));
			return document.documentElement.scrollWidth + " > " + w + ": " + wide.slice(0, 3).map(e => e.tagName + "." + e.className).join(", ");
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if over != "" {
			t.Errorf("%s at %s scrolls sideways: %s", name, vp.label, over)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
}

// tpTexts returns the text of every element matching sel.
func tpTexts(t *testing.T, ctx context.Context, sel string) []string {
	t.Helper()
	js, _ := json.Marshal(sel)
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(`+string(js)+`)].map(e => e.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func tpWaitURL(t *testing.T, ctx context.Context, part string) {
	t.Helper()
	js, _ := json.Marshal(part)
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		// Errors while the page navigates are expected: ask again.
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`location.href.includes(`+string(js)+`) && document.readyState === "complete"`))
		if err == nil && ok {
			return
		}
		last, _ = chromedp.Run(ctx, chromedp.Location())
	}
	t.Fatalf("waiting for a URL with %s; at %s", part, last)
}

// TestTeacherFindsAPracticeFromAnotherDistrict: a signed-in teacher of Riverside searches with
// typos, filters by grade, opens Lakeview's practice (mirrored here) and downloads its lesson plan.
// Every page type is checked with axe-core, at phone width and 200 % zoom, for CSP violations and
// console errors, and photographed.
func TestTeacherFindsAPracticeFromAnotherDistrict(t *testing.T) {
	nodes := network(t, "riverside", "lakeview")
	a, b := nodes[0], nodes[1]
	lakeID, lakeURI := tpTestedPractice(b, "Fraction number line talks", func(p map[string]any) {
		p["license"] = "https://creativecommons.org/licenses/by/4.0/"
		p["description"] = "Draw a number line on the board.\n\n1. Hand out fraction cards\n2. Students place and justify\n3. Record misconceptions"
	})
	tpPublish(a, tpXSSTitle, func(p map[string]any) { p["grade_levels"] = []string{"07"}; p["visibility"] = "public" })
	tpPublish(a, "Number line warm-ups for algebra", func(p map[string]any) { p["grade_levels"] = []string{"10"} })
	colID := a.doJSON("admin", "POST", "/api/v1/collections", map[string]any{
		"title": "Fractions across the network", "aim": "Raise grade 4 fraction proficiency", "visibility": "network",
		"curator": "Dana", "description": "Fraction practices that replicated.", "items": []map[string]any{{"practice_uri": lakeURI, "note": "Replicated in two cycles."}},
	}).json(t)["id"].(string)
	if r := a.doJSON("admin", "POST", "/api/v1/collections/"+colID+"/publish", nil); r.status != 200 {
		t.Fatalf("publish collection: %d %s", r.status, r.body)
	}
	waitFor(t, "riverside finds lakeview's practice", func() bool { return a.finds("Fraction number line talks") })
	waitFor(t, "riverside holds lakeview's tests", func() bool {
		return bytes.Contains(tpPage(a, "teacher", "/practices/"+lakeID).body, []byte("Spring cycle 2"))
	})
	if _, err := idp.AddUser(context.Background(), a.srv.Repo().Bucket(), "tess@riverside.example", "teacher", "", "correct horse battery"); err != nil {
		t.Fatal(err)
	}

	ctx := browser(t)
	watch := tpWatchBrowser(t, ctx)
	signInBrowser(t, ctx, a.url, "tess@riverside.example", "correct horse battery")
	if err := chromedp.Do(ctx, chromedp.Navigate(a.url+"/"), chromedp.WaitVisible(`#q`)); err != nil {
		t.Fatal(err)
	}
	if who := tpTexts(t, ctx, "header.site .who span"); len(who) != 1 || !strings.Contains(who[0], "tess@riverside.example") {
		t.Fatalf("not signed in: %v", who)
	}
	checkAccessibility(t, ctx, "home")
	tpCheckReflow(t, ctx, "home")
	watch.check(t, ctx, "home")
	screenshot(t, ctx, "search-home")

	// Search with two typos.
	if err := chromedp.Do(ctx, chromedp.SendKeys(`#q`, "numbr line\r")); err != nil {
		t.Fatal(err)
	}
	tpWaitURL(t, ctx, "q=numbr+line")
	titles := tpTexts(t, ctx, ".hit h3")
	if !slices.Contains(titles, "Fraction number line talks") || !slices.Contains(titles, "Number line warm-ups for algebra") {
		t.Fatalf("typo search hits: %q", titles)
	}
	if !slices.Contains(titles, tpXSSTitle) {
		t.Errorf("the practice titled %q is not shown as that text: %q", tpXSSTitle, titles)
	}
	checkAccessibility(t, ctx, "search results")
	tpCheckReflow(t, ctx, "search results")
	watch.check(t, ctx, "search results")
	screenshot(t, ctx, "search-results")

	// Filter by grade 3-5: search.js applies it at once and puts focus back on the checkbox.
	if err := chromedp.Do(ctx, chromedp.Click(`input[name="grade"][value="3-5"]`)); err != nil {
		t.Fatal(err)
	}
	tpWaitURL(t, ctx, "grade=3-5")
	if titles := tpTexts(t, ctx, ".hit h3"); !slices.Equal(titles, []string{"Fraction number line talks"}) {
		t.Fatalf("grade 3-5 hits: %q", titles)
	}
	if f, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.name + "=" + document.activeElement.value + ":" + document.activeElement.checked`)); f != "grade=3-5:true" {
		t.Errorf("focus after filtering is on %q, want the grade checkbox", f)
	}
	watch.check(t, ctx, "filtered results")
	tourScreenshot(t, ctx, "search-filtered") // the README's teacher search (without the XSS probe's title)

	// Open Lakeview's practice.
	if err := chromedp.Do(ctx, chromedp.Click(`.hit h3 a`), chromedp.WaitVisible(`#evidence`)); err != nil {
		t.Fatal(err)
	}
	tpWaitURL(t, ctx, "/practices/"+lakeID)
	if h1 := tpTexts(t, ctx, "h1"); !slices.Equal(h1, []string{"Fraction number line talks"}) {
		t.Fatalf("practice h1 %q", h1)
	}
	if from := tpTexts(t, ctx, ".eyebrow"); len(from) != 1 || !strings.Contains(from[0], "Lakeview (another district)") {
		t.Errorf("practice origin %q", from)
	}
	rows := tpTexts(t, ctx, "#evidence tbody tr")
	if len(rows) != 3 || !strings.Contains(rows[0], "Lakeview") || !strings.Contains(rows[0], "One group, pre/post") || !strings.Contains(rows[0], "12") || !strings.Contains(rows[0], "Adopt") {
		t.Errorf("evidence rows %q", rows)
	}
	// The forest plot is drawn inline (its row labels link to each test's page), with its text
	// alternative in <title> and <desc>.
	if alt, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const s = document.querySelector(".forest-plot svg");
		return s ? s.querySelector("desc").textContent + "|" + Math.round(s.getBoundingClientRect().width) + "|" + s.querySelectorAll("a").length : ""; })()`)); !strings.HasPrefix(alt, "Forest plot of 2") || strings.Contains(alt, "|0|") || !strings.HasSuffix(alt, "|2") {
		t.Errorf("forest plot: %q", alt)
	}
	checkAccessibility(t, ctx, "practice")
	tpCheckReflow(t, ctx, "practice")
	watch.check(t, ctx, "practice")
	screenshot(t, ctx, "practice")
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF())
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Errorf("print the practice: %v", err)
	} else if err := os.WriteFile(filepath.Join(testenv.RepoRoot(), "testdata-out", "screenshots", "practice-print.pdf"), pdf, 0o644); err != nil {
		t.Error(err)
	}

	// Download the lesson plan: the bytes are the ones Lakeview's team uploaded.
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`.materials a`)); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got, err = os.ReadFile(filepath.Join(dir, "lesson plan.pdf")); err == nil && len(got) == len(pdfBytes) {
			break
		}
	}
	if !bytes.Equal(got, pdfBytes) {
		entries, _ := os.ReadDir(dir)
		t.Fatalf("downloaded %q (%d bytes), want the uploaded lesson plan; folder: %v", "lesson plan.pdf", len(got), entries)
	}

	// The collection page, in a fresh tab of the same browser (same cookies, its own watch): the tab
	// whose link started the download can keep that navigation pending, and a Navigate there may wait
	// on it (seen once in a full CI run as a three-minute hang).
	tab, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	ctx, watch = tab, tpWatchBrowser(t, tab)
	if err := chromedp.Do(ctx, chromedp.Navigate(a.url+"/collections/"+colID), chromedp.WaitVisible(`h1`)); err != nil {
		t.Fatal(err)
	}
	if items := tpTexts(t, ctx, ".hit h3"); !slices.Equal(items, []string{"Fraction number line talks"}) {
		t.Errorf("collection items %q", items)
	}
	checkAccessibility(t, ctx, "collection")
	tpCheckReflow(t, ctx, "collection")
	watch.check(t, ctx, "collection")
	screenshot(t, ctx, "collection")

	// The watch itself works: an inline script is blocked by the CSP and reported.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`{ const s = document.createElement("script"); s.textContent = "window.__ran = 1"; document.body.appendChild(s); }`)); err != nil {
		t.Fatal(err)
	}
	caught, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.__csp.length > 0 && window.__ran === undefined`))
	if err != nil || !caught {
		t.Fatalf("the CSP watch did not see a blocked inline script: %v", err)
	}
}

// TestSearchByKeyboardWithoutJavaScript: with scripts off, a teacher uses only the keyboard to
// search, filter by grade, and open a practice; every focused control shows a visible focus ring.
func TestSearchByKeyboardWithoutJavaScript(t *testing.T) {
	n := newTestNode(t)
	id, _ := tpPublish(n, "Fraction number line talks", nil)
	tpPublish(n, "Number line warm-ups for algebra", func(p map[string]any) { p["grade_levels"] = []string{"10"} })
	waitFor(t, "indexed", func() bool {
		return n.finds("Fraction number line talks") && n.finds("Number line warm-ups for algebra")
	})
	if _, err := idp.AddUser(context.Background(), n.srv.Repo().Bucket(), "tess@riverside.example", "teacher", "", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	signInBrowser(t, ctx, n.url, "tess@riverside.example", "correct horse battery")
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(n.url+"/"), chromedp.WaitVisible(`#q`)); err != nil {
		t.Fatal(err)
	}
	if ran, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("auto-hint").hidden === false`)); ran {
		t.Fatal("search.js ran: scripts are not disabled")
	}
	// tab presses Tab until the focused element matches want (a JS expression on el).
	tab := func(what, want string) {
		t.Helper()
		for range 80 {
			if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
				t.Fatal(err)
			}
			state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const el = document.activeElement; const s = getComputedStyle(el);
				const ring = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
				return (`+want+` ? "yes" : "no") + (ring ? "" : " no-ring:" + el.tagName + "#" + el.id + "." + el.className); })()`))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(state, "no-ring") {
				t.Errorf("focus is not visible on %s", strings.SplitN(state, "no-ring:", 2)[1])
			}
			if strings.HasPrefix(state, "yes") {
				return
			}
		}
		t.Fatalf("could not reach %s with Tab", what)
	}
	tab("the search box", `el.id === "q"`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("numbr line"), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	tpWaitURL(t, ctx, "q=numbr+line")
	if titles := tpTexts(t, ctx, ".hit h3"); len(titles) != 2 {
		t.Fatalf("hits %q", titles)
	}
	tab("the grade 3-5 filter", `el.name === "grade" && el.value === "3-5"`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(" ")); err != nil {
		t.Fatal(err)
	}
	tab("the Apply filters button", `el.textContent === "Apply filters"`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	tpWaitURL(t, ctx, "grade=3-5")
	if titles := tpTexts(t, ctx, ".hit h3"); !slices.Equal(titles, []string{"Fraction number line talks"}) {
		t.Fatalf("filtered hits %q", titles)
	}
	tab("the practice link", `el.getAttribute("href") === "/practices/`+id+`"`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	tpWaitURL(t, ctx, "/practices/"+id)
	if h1 := tpTexts(t, ctx, "h1"); !slices.Equal(h1, []string{"Fraction number line talks"}) {
		t.Fatalf("practice h1 %q", h1)
	}
}
