package web_test

import (
	"bytes"
	"context"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/federation"
	"github.com/brightspots-nic/brightspots/node"
	"github.com/brightspots-nic/brightspots/web/idp"
)

// Tests of the workspace, coordinator and admin pages over plain HTTP, as a browser without
// JavaScript uses them: a signed-in session, HTML forms with their CSRF token, redirects followed.

const wsPassword = "correct horse battery"

// pageSession is a signed-in browser session without JavaScript.
type pageSession struct {
	t    testing.TB
	n    *testNode
	c    *http.Client
	csrf string
}

// session creates an account with role and team and signs it in.
func (n *testNode) session(email, role, team string) *pageSession {
	n.t.Helper()
	if _, err := idp.AddUser(context.Background(), n.srv.Repo().Bucket(), email, role, team, wsPassword); err != nil {
		n.t.Fatal(err)
	}
	return n.signedIn(email)
}

// signedIn signs in the account of email (its password wsPassword) and keeps its CSRF token.
func (n *testNode) signedIn(email string) *pageSession {
	n.t.Helper()
	s := &pageSession{t: n.t, n: n, c: n.signIn(email, wsPassword)}
	_, body := s.get("/api/v1/me")
	m := regexp.MustCompile(`"csrf_token":"([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		n.t.Fatalf("no session for %s: %s", email, body)
	}
	s.csrf = m[1]
	return s
}

type pageResponse struct {
	status int
	body   string
	path   string // where the redirects ended
}

func (s *pageSession) send(req *http.Request) pageResponse {
	s.t.Helper()
	req.Header.Set("Accept", "text/html")
	res, err := s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	body := readAll(res)
	return pageResponse{res.StatusCode, body, res.Request.URL.RequestURI()}
}

func (s *pageSession) get(path string) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.n.url+path, nil)
	r := s.send(req)
	return r.status, r.body
}

// page GETs path and fails unless it answers 200; it checks the page's forms carry a CSRF token.
func (s *pageSession) page(path string) string {
	s.t.Helper()
	status, body := s.get(path)
	if status != http.StatusOK {
		s.t.Fatalf("GET %s: %d\n%s", path, status, body)
	}
	checkForms(s.t, path, body)
	return body
}

// post submits an url-encoded form with the session's CSRF token (unless the form sets its own).
func (s *pageSession) post(path string, form url.Values) pageResponse {
	s.t.Helper()
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", s.csrf)
	}
	req, _ := http.NewRequest("POST", s.n.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.send(req)
}

// upload posts a multipart form with one file, the CSRF token in the first part as the pages do.
func (s *pageSession) upload(path, field, name string, content []byte) pageResponse {
	s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf_token", s.csrf)
	fw, _ := mw.CreateFormFile(field, name)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", s.n.url+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return s.send(req)
}

var (
	formTag   = regexp.MustCompile(`(?s)<form\b[^>]*>.*?</form>`)
	postForm  = regexp.MustCompile(`(?i)method="post"`)
	csrfField = regexp.MustCompile(`<input type="hidden" name="csrf_token" value="[^"]+">`)
	csrfQuery = regexp.MustCompile(`action="[^"]*csrf_token`)
	// The first field of a multipart form: the CSRF middleware reads only the body's first part.
	firstField = regexp.MustCompile(`(?s)^<form\b[^>]*>\s*<input type="hidden" name="csrf_token" value="[^"]+">`)
)

// checkForms fails if a POST form on the page carries no CSRF token in a hidden field (for a
// multipart form, its first field), or carries one in its action's URL, where it would end up in
// the address bar, the history and access logs.
func checkForms(t testing.TB, path, body string) {
	t.Helper()
	for _, f := range formTag.FindAllString(body, -1) {
		open := f[:strings.Index(f, ">")+1]
		if !postForm.MatchString(open) {
			continue
		}
		if csrfQuery.MatchString(open) {
			t.Errorf("%s: CSRF token in a form's URL: %s", path, open)
		}
		if strings.Contains(open, "multipart/form-data") && !firstField.MatchString(f) {
			t.Errorf("%s: multipart form whose first field is not the csrf_token: %s", path, open)
			continue
		}
		if !csrfField.MatchString(f) {
			t.Errorf("%s: POST form without a csrf_token field: %s", path, open)
		}
	}
}

// fieldError returns the messages shown next to the field with the given id.
func fieldError(body, id string) string {
	m := regexp.MustCompile(`(?s)<div class="field-error" id="` + regexp.QuoteMeta(id) + `-error"[^>]*>(.*?)</div>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// inputValue returns the value attribute of the input with the given id (HTML-escaped as served).
func inputValue(body, id string) string {
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `" name="[^"]*" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		return "<no input " + id + ">"
	}
	return m[1]
}

func textareaValue(body, id string) string {
	m := regexp.MustCompile(`(?s)<textarea id="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</textarea>`).FindStringSubmatch(body)
	if m == nil {
		return "<no textarea " + id + ">"
	}
	return m[1]
}

var recordPath = regexp.MustCompile(`/(?:workspace/practices|workspace/tests|collections)/([0-9a-f-]{36})`)

func idFromPath(t *testing.T, path string) string {
	t.Helper()
	m := recordPath.FindStringSubmatch(path)
	if m == nil {
		t.Fatalf("no record id in %s", path)
	}
	return m[1]
}

// fullPractice is a practice form with everything publishing needs.
func fullPractice(title string) url.Values {
	return url.Values{
		"title": {title}, "team": {"math-4"}, "visibility": {"network"},
		"summary":     {"Students place fractions on a number line and justify placement."},
		"description": {"Step 1: draw the line.\r\nStep 2: place cards.\r\nStep 3: discuss."},
		"key_moves":   {"Justify aloud\r\nRecord misconceptions"},
		"subjects":    {"math"}, "grade_levels": {"04"}, "standards": {"ccss.math.content.4.nf.a.2"},
		"origin_kind": {"team_designed"}, "time_required": {"15"}, "license": {"https://creativecommons.org/licenses/by/4.0/"},
	}
}

// plannedTestForm is a test plan with what results need.
func plannedTestForm(practiceURI string) url.Values {
	return url.Values{
		"practice.uri": {practiceURI}, "practice.version": {"1"}, "team": {"math-4"}, "title": {"Spring cycle"},
		"cycle": {"pdsa"}, "design": {"single_group_pre_post"}, "question": {"Do number line talks raise scores?"},
		"prediction.text": {"An effect of at least 0.3"}, "prediction.metric": {"effect_size"}, "prediction.operator": {">="}, "prediction.value": {"0.3"},
		"assessment.name": {"Unit 5 fractions"}, "assessment.score_min": {"0"}, "assessment.score_max": {"100"},
		"assessment.proficiency_cut": {"65"}, "assessment.form": {"parallel"},
		"cohort.grade_levels": {"04"}, "cohort.subjects": {"math"}, "cohort.classrooms": {"2"}, "cohort.students_planned": {"24"},
		"start_date": {"2026-02-01"}, "end_date": {"2026-03-15"},
		"dosage.sessions_planned": {"12"}, "dosage.sessions_delivered": {"11"}, "dosage.minutes_per_session": {"15"},
		"visibility": {"network"},
	}
}

// TestWorkspacePagesCarryCSRFAndRender renders every page type of this area for the role that
// uses it and checks every POST form carries the session's CSRF token; a form posted without the
// token is refused.
func TestWorkspacePagesCarryCSRFAndRender(t *testing.T) {
	n := newTestNode(t)
	pub := n.session("pia@riverside.example", "publisher", "math-4")
	pub.page("/workspace")
	pub.page("/workspace/practices/new")
	r := pub.post("/workspace/practices/new", fullPractice("Number line talks"))
	if r.status != 200 || !strings.Contains(r.path, "/edit") {
		t.Fatalf("create: %d %s", r.status, r.path)
	}
	id := idFromPath(t, r.path)
	edit := pub.page("/workspace/practices/" + id + "/edit")
	uri := n.url + "/practices/" + id
	m := regexp.MustCompile(`href="(/workspace/tests/new\?[^"]*)"`).FindStringSubmatch(edit)
	if m == nil {
		t.Fatal("edit page does not link to planning a test")
	}
	if u, err := url.Parse(html.UnescapeString(m[1])); err != nil || u.Query().Get("practice") != uri {
		t.Errorf("plan-a-test link %s does not name the practice %s", m[1], uri)
	}
	pub.page("/workspace/tests/new?practice=" + url.QueryEscape(uri))
	r = pub.post("/workspace/tests/new", plannedTestForm(uri))
	if r.status != 200 || !strings.HasPrefix(r.path, "/workspace/tests/") {
		t.Fatalf("plan test: %d %s\n%s", r.status, r.path, r.body)
	}
	pub.page(r.path)
	pub.page("/workspace")

	coord := n.session("cora@riverside.example", "coordinator", "")
	coord.page("/collections")
	r = coord.post("/collections", url.Values{"title": {"Fractions"}, "visibility": {"network"}})
	if r.status != 200 {
		t.Fatalf("create collection: %d", r.status)
	}
	coord.page(r.path)
	coord.page(r.path + "?q=number+line")
	coord.page("/network")

	admin := n.session("ada@riverside.example", "admin", "")
	admin.page("/admin/tokens")
	admin.page("/workspace")

	// The same form without its token: refused, nothing created.
	f := fullPractice("Posted without a token")
	f.Set("csrf_token", "")
	if r := pub.post("/workspace/practices/new", f); r.status != http.StatusForbidden {
		t.Fatalf("form without CSRF token: %d", r.status)
	}
	if _, body := pub.get("/workspace"); strings.Contains(body, "Posted without a token") {
		t.Fatal("a form without its CSRF token created a practice")
	}
}

// TestWorkspaceAccess: the pages ask the access rules, and answer as the API does — sign in first,
// 403 for a role that may not, 404 for a record the caller may not see.
func TestWorkspaceAccess(t *testing.T) {
	n := newTestNode(t)
	// Anonymous: sent to sign in, coming back to the page.
	for _, path := range []string{"/workspace", "/workspace/practices/new", "/collections", "/network", "/admin/tokens"} {
		req, _ := http.NewRequest("GET", n.url+path, nil)
		req.Header.Set("Accept", "text/html")
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next="+url.QueryEscape(path) {
			t.Errorf("anonymous GET %s: %d → %s", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	teacher := n.session("tia@riverside.example", "teacher", "")
	// Teachers read the list of collections, without the curator's form; they may not create one.
	if status, body := teacher.get("/collections"); status != http.StatusOK || strings.Contains(body, `id="f-title"`) {
		t.Errorf("teacher GET /collections: %d (or the curator's form shows)", status)
	}
	if r := teacher.post("/collections", url.Values{"title": {"By a teacher"}, "visibility": {"network"}}); r.status != http.StatusForbidden {
		t.Errorf("teacher creates a collection: %d", r.status)
	}
	for _, path := range []string{"/workspace", "/workspace/practices/new", "/network", "/admin/tokens"} {
		if status, body := teacher.get(path); status != http.StatusForbidden || !strings.Contains(body, "Not allowed") {
			t.Errorf("teacher GET %s: %d", path, status)
		}
	}
	if r := teacher.post("/workspace/practices/new", fullPractice("By a teacher")); r.status != http.StatusForbidden {
		t.Errorf("teacher creates a practice: %d", r.status)
	}
	math := n.session("max@riverside.example", "publisher", "math-4")
	if status, _ := math.get("/network"); status != http.StatusForbidden {
		t.Errorf("publisher GET /network: %d", status)
	}
	if status, _ := math.get("/admin/tokens"); status != http.StatusForbidden {
		t.Errorf("publisher GET /admin/tokens: %d", status)
	}
	r := math.post("/workspace/practices/new", fullPractice("Math draft"))
	draft := idFromPath(t, r.path)
	r = math.post("/workspace/practices/new", fullPractice("Math published"))
	published := idFromPath(t, r.path)
	if r := math.post("/workspace/practices/"+published+"/publish", url.Values{"version": {"1"}}); r.status != 200 || !strings.Contains(r.body, "Published.") {
		t.Fatalf("publish: %d", r.status)
	}
	ela := n.session("eli@riverside.example", "publisher", "ela-3")
	for path, want := range map[string]int{
		"/workspace/practices/" + draft + "/edit":     http.StatusNotFound,  // another team's draft: not there
		"/workspace/practices/" + published + "/edit": http.StatusForbidden, // visible, not theirs to edit
	} {
		if status, _ := ela.get(path); status != want {
			t.Errorf("other team GET %s: %d, want %d", path, status, want)
		}
	}
	if r := ela.post("/workspace/practices/"+published+"/edit", fullPractice("Hijacked")); r.status != http.StatusForbidden {
		t.Errorf("other team saves: %d", r.status)
	}
	if r := ela.upload("/workspace/practices/"+draft+"/artifacts", "file", "plan.txt", []byte("a plan")); r.status != http.StatusNotFound {
		t.Errorf("other team uploads to a draft: %d", r.status)
	}
	if r := ela.post("/workspace/practices/"+draft+"/publish", url.Values{}); r.status != http.StatusNotFound {
		t.Errorf("other team publishes a draft: %d", r.status)
	}
	if _, body := math.get("/workspace/practices/" + published + "/edit"); strings.Contains(body, "Hijacked") {
		t.Fatal("another team's save changed the practice")
	}
}

// TestPracticeFormKeepsWhatWasTyped: a refused form comes back with every field as typed and each
// message next to its field; the publish checklist names what is missing and publishing is refused
// until it is complete.
func TestPracticeFormKeepsWhatWasTyped(t *testing.T) {
	n := newTestNode(t)
	pub := n.session("pia@riverside.example", "publisher", "math-4")
	f := url.Values{
		"title": {""}, "team": {"math-4"}, "visibility": {"district"},
		"summary":   {"Typed & kept: <b>not bold</b>"},
		"key_moves": {"First move\r\n" + strings.Repeat("x", 301)},
		"subjects":  {"math", "science"}, "time_required": {"fifteen minutes"},
	}
	r := pub.post("/workspace/practices/new", f)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("refused form: %d", r.status)
	}
	if got := fieldError(r.body, "f-title"); !strings.Contains(got, "Title is required") {
		t.Errorf("title message %q", got)
	}
	if got := fieldError(r.body, "f-key_moves"); !strings.Contains(got, "Key moves, line 2 must be at most 300 characters") {
		t.Errorf("key moves message %q", got)
	}
	if got := fieldError(r.body, "f-time_required"); !strings.Contains(got, "ISO 8601 duration") {
		t.Errorf("time message %q", got)
	}
	if got := textareaValue(r.body, "f-summary"); got != "Typed &amp; kept: &lt;b&gt;not bold&lt;/b&gt;" {
		t.Errorf("summary not kept (escaped): %q", got)
	}
	if got := textareaValue(r.body, "f-key_moves"); !strings.HasPrefix(got, "First move\n") {
		t.Errorf("key moves not kept: %q", got)
	}
	for _, v := range []string{"math", "science"} {
		if !strings.Contains(r.body, `value="`+v+`" id="f-subjects-`+v+`" checked`) {
			t.Errorf("subject %s not kept checked", v)
		}
	}
	if !strings.Contains(r.body, `href="#f-title"`) || !strings.Contains(r.body, `id="error-summary"`) {
		t.Error("no summary of problems linking to the fields")
	}

	// Fix the title only: a draft is created; the checklist lists what publishing still needs.
	f.Set("title", "Fraction talks")
	f.Set("key_moves", "First move")
	f.Set("time_required", "15")
	r = pub.post("/workspace/practices/new", f)
	if r.status != 200 {
		t.Fatalf("create: %d\n%s", r.status, r.body)
	}
	id := idFromPath(t, r.path)
	for _, missing := range []string{"What the teacher does, step by step", "Grades", "Where the practice comes from"} {
		if !regexp.MustCompile(`<li class="missing"><span class="visually-hidden">Missing: </span><a href="#f-[a-z_]+">` + regexp.QuoteMeta(missing) + `</a>`).MatchString(r.body) {
			t.Errorf("checklist does not list %q as missing", missing)
		}
	}
	if !strings.Contains(r.body, `<li class="done"><span class="visually-hidden">Done: </span>Summary</li>`) {
		t.Error("checklist does not show the summary as done")
	}
	r = pub.post("/workspace/practices/"+id+"/publish", url.Values{"version": {"1"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Not published yet") {
		t.Fatalf("publish of an incomplete practice: %d %s", r.status, regexp.MustCompile(`(?s)<div class="notice[^>]*>.*?</div>`).FindString(r.body))
	}
	// Complete it and publish.
	full := fullPractice("Fraction talks")
	full.Set("version", "1")
	if r := pub.post("/workspace/practices/"+id+"/edit", full); r.status != 200 || !strings.Contains(r.body, "Saved.") {
		t.Fatalf("save: %d\n%s", r.status, r.body)
	}
	if _, body := pub.get("/workspace/practices/" + id + "/edit"); strings.Contains(body, `class="missing"`) {
		t.Fatal("checklist still lists something missing")
	}
	if r := pub.post("/workspace/practices/"+id+"/publish", url.Values{"version": {"2"}}); r.status != 200 || !strings.Contains(r.body, "Published.") {
		t.Fatalf("publish: %d", r.status)
	}
	rec := n.do("teacher", "GET", "/api/v1/practices/"+id, nil).json(t)
	if rec["status"] != "published" || rec["time_required"] != "PT15M" || rec["standards"].([]any)[0].(map[string]any)["code"] != "CCSS.MATH.CONTENT.4.NF.A.2" {
		t.Fatalf("published record: %v", rec)
	}
	if rec["description"] != "Step 1: draw the line.\nStep 2: place cards.\nStep 3: discuss." {
		t.Errorf("description newlines: %q", rec["description"])
	}
}

// TestConcurrentEditKeepsBothSides: two team members edit the same practice from the same
// version. Changes to different fields merge; the same field changed by both comes back with the
// editor's text in the field and the other member's beside it, and a resubmission saves.
func TestConcurrentEditKeepsBothSides(t *testing.T) {
	n := newTestNode(t)
	ana := n.session("ana@riverside.example", "publisher", "math-4")
	ben := n.session("ben@riverside.example", "publisher", "math-4")
	r := ana.post("/workspace/practices/new", fullPractice("Number line talks"))
	id := idFromPath(t, r.path)
	path := "/workspace/practices/" + id + "/edit"

	// Both open version 1. Ben changes the summary; Ana then changes the title from version 1.
	benForm := fullPractice("Number line talks")
	benForm.Set("summary", "Ben's summary.")
	benForm.Set("version", "1")
	if r := ben.post(path, benForm); r.status != 200 {
		t.Fatalf("ben saves: %d", r.status)
	}
	anaForm := fullPractice("Number line talks, revised")
	anaForm.Set("version", "1")
	r = ana.post(path, anaForm)
	if r.status != 200 || !strings.Contains(r.body, "their changes to Summary were kept along with yours") {
		t.Fatalf("merge of different fields: %d\n%s", r.status, r.body)
	}
	rec := n.do("math", "GET", "/api/v1/practices/"+id, nil).json(t)
	if rec["title"] != "Number line talks, revised" || rec["summary"] != "Ben's summary." || rec["version"] != float64(3) {
		t.Fatalf("after merge: title %q summary %q version %v", rec["title"], rec["summary"], rec["version"])
	}

	// Both open version 3 and change the description.
	benForm = fullPractice("Number line talks, revised")
	benForm.Set("summary", "Ben's summary.")
	benForm.Set("description", "Ben: model one placement first.")
	benForm.Set("version", "3")
	if r := ben.post(path, benForm); r.status != 200 {
		t.Fatalf("ben saves: %d", r.status)
	}
	anaForm = fullPractice("Number line talks, revised")
	anaForm.Set("summary", "Ben's summary.")
	anaForm.Set("description", "Ana: students <place> cards in pairs.")
	anaForm.Set("version", "3")
	r = ana.post(path, anaForm)
	if r.status != http.StatusConflict {
		t.Fatalf("conflicting edit: %d", r.status)
	}
	if got := textareaValue(r.body, "f-description"); got != "Ana: students &lt;place&gt; cards in pairs." {
		t.Errorf("the editor's text is not in the field: %q", got)
	}
	theirs := regexp.MustCompile(`(?s)<div class="ws-theirs" id="f-description-theirs">.*?<pre class="ws-text">(.*?)</pre>`).FindStringSubmatch(r.body)
	if theirs == nil || theirs[1] != "Ben: model one placement first." {
		t.Fatalf("the other member's text is not shown beside the field: %v", theirs)
	}
	if !strings.Contains(r.body, `name="version" value="4"`) {
		t.Fatal("the form is not based on the new version")
	}
	if n.do("math", "GET", "/api/v1/practices/"+id, nil).json(t)["description"] != "Ben: model one placement first." {
		t.Fatal("a conflicting save overwrote the other member's text")
	}
	// Ana combines both and saves against version 4.
	anaForm.Set("description", "Ben: model one placement first.\nAna: students place cards in pairs.")
	anaForm.Set("version", "4")
	if r := ana.post(path, anaForm); r.status != 200 || !strings.Contains(r.body, "Saved.") {
		t.Fatalf("resubmit: %d", r.status)
	}
	if got := n.do("math", "GET", "/api/v1/practices/"+id, nil).json(t)["description"]; got != "Ben: model one placement first.\nAna: students place cards in pairs." {
		t.Fatalf("combined text: %q", got)
	}
}

// TestArtifactUploadWithoutJavaScript: the plain multipart form attaches a file; a refused file is
// explained next to the file field.
func TestArtifactUploadWithoutJavaScript(t *testing.T) {
	n := newTestNode(t)
	pub := n.session("pia@riverside.example", "publisher", "math-4")
	r := pub.post("/workspace/practices/new", fullPractice("Number line talks"))
	id := idFromPath(t, r.path)
	path := "/workspace/practices/" + id + "/artifacts"
	pdf := []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	r = pub.upload(path, "file", "lesson & plan.pdf", pdf)
	if r.status != 200 || !strings.Contains(r.body, "Uploaded lesson &amp; plan.pdf.") {
		t.Fatalf("upload: %d %s\n%s", r.status, r.path, r.body)
	}
	if !regexp.MustCompile(`<a href="/api/v1/artifacts/[0-9a-f]{64}">lesson &amp; plan.pdf</a>`).MatchString(r.body) {
		t.Error("the file is not listed under Materials")
	}
	r = pub.upload(path, "file", "page.html", []byte("<!DOCTYPE html><html><body>Secret page body</body></html>"))
	if r.status != http.StatusUnsupportedMediaType {
		t.Fatalf("HTML as an artifact: %d", r.status)
	}
	if got := fieldError(r.body, "f-file"); !strings.Contains(got, "The file was refused: files ending in .html are not accepted") {
		t.Fatalf("refusal next to the file field: %q", got)
	}
	if strings.Contains(r.body, "Secret page body") {
		t.Fatal("the refused file's content is echoed")
	}
	if strings.Count(r.body, "lesson &amp; plan.pdf</a>") != 1 {
		t.Fatal("the refused upload changed the materials")
	}
}

// TestScoreUploadOnTheTestPage: a score table with a name column is refused with the privacy
// message next to the file field (never a cell), a clean one gives the results card, the decision is
// recorded, and the test publishes.
func TestScoreUploadOnTheTestPage(t *testing.T) {
	n := newTestNode(t)
	pub := n.session("pia@riverside.example", "publisher", "math-4")
	r := pub.post("/workspace/practices/new", fullPractice("Number line talks"))
	practiceID := idFromPath(t, r.path)
	uri := n.url + "/practices/" + practiceID
	r = pub.post("/workspace/tests/new", plannedTestForm(uri))
	id := idFromPath(t, r.path)
	path := "/workspace/tests/" + id

	// Identifier column: refused, named by its position (never repeated: it may be a student's
	// row), explained.
	withNames := "Student Name,pre,post\nZelda Quartermaine,55,61\n"
	r = pub.upload(path+"/results", "scores", "scores.csv", []byte(withNames))
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("names: %d", r.status)
	}
	msg := fieldError(r.body, "f-scores")
	if !strings.Contains(msg, "column 1") || strings.Contains(msg, "Student Name") || !strings.Contains(msg, "looks like it holds a student identifier") {
		t.Fatalf("privacy message next to the file field: %q", msg)
	}
	if !strings.Contains(r.body, `id="f-scores" name="scores" accept=".csv,text/csv" aria-describedby="f-scores-hint f-scores-error" aria-invalid="true"`) {
		t.Error("the file field is not marked invalid and described by the message")
	}
	// An email in a cell: refused by row and column, and the cell never echoed.
	r = pub.upload(path+"/results", "scores", "scores.csv", []byte("pre,post\n55,61\nzelda@example.org,70\n"))
	if msg := fieldError(r.body, "f-scores"); r.status != 422 || !strings.Contains(msg, "Row 2 (line 3), column “pre”") {
		t.Fatalf("email cell: %d %q", r.status, msg)
	}
	if strings.Contains(r.body, "zelda") || strings.Contains(n.logs.String(), "zelda") || strings.Contains(n.logs.String(), "Zelda") {
		t.Fatal("a cell value was echoed in the page or the log")
	}

	// The corrected file: the results card, with its text alternative.
	r = pub.upload(path+"/results", "scores", "scores.csv", []byte(scoreCSV(districtAPre, districtAPost)))
	if r.status != 200 || !strings.Contains(r.body, "Results computed") {
		t.Fatalf("clean upload: %d\n%s", r.status, r.body)
	}
	if !regexp.MustCompile(`<img class="chart" src="/api/v1/tests/` + id + `/results.svg\?v=\d+" width="640" alt="Chart of mean scores before and after and of students proficient; effect size g = 0.72\. Every figure is in the table that follows\.">`).MatchString(r.body) {
		t.Error("no results chart with a text alternative")
	}
	if !strings.Contains(r.body, "<caption>Results before and after: effect size g = 0.72 (95% CI") {
		t.Error("no results table")
	}
	if !strings.Contains(r.body, `value="yes" id="f-prediction_met-yes" checked`) {
		t.Error("prediction met is not pre-filled from the results")
	}
	// Design, prediction and assessment are now fixed: shown, not editable.
	if strings.Contains(r.body, `id="f-prediction-text"`) || !strings.Contains(r.body, "The prediction is fixed once results exist.") {
		t.Error("the prediction is still editable after results")
	}
	// Saving the plan after results leaves the fixed fields alone.
	plan := plannedTestForm(uri)
	plan.Set("title", "Spring cycle, grade 4")
	plan.Set("prediction.value", "0.9")
	plan.Set("section", "plan")
	plan.Set("version", versionIn(t, r.body))
	if r := pub.post(path, plan); r.status != 200 {
		t.Fatalf("save plan after results: %d\n%s", r.status, r.body)
	}
	// Record the decision.
	r = pub.post(path, url.Values{"section": {"act"}, "version": {versionIn(t, pub.page(path))},
		"learnings": {"Explaining placement aloud helped most."}, "prediction_met": {"yes"}, "decision": {"adopt"}, "fidelity.method": {"peer_observation"}})
	if r.status != 200 || !strings.Contains(r.body, `value="adopt" id="f-decision-adopt" checked`) {
		t.Fatalf("decision: %d\n%s", r.status, r.body)
	}
	if strings.Contains(r.body, `class="missing"`) {
		t.Fatal("the checklist still lists something missing")
	}
	// The practice first: a test is published after its practice.
	if r := n.doJSON("math", "POST", "/api/v1/practices/"+practiceID+"/publish", nil); r.status != 200 {
		t.Fatalf("publish the practice: %d %s", r.status, r.body)
	}
	r = pub.post(path+"/publish", url.Values{"version": {versionIn(t, r.body)}})
	if r.status != 200 || !strings.Contains(r.body, "Published.") {
		t.Fatalf("publish: %d", r.status)
	}
	rec := n.do("math", "GET", "/api/v1/tests/"+id, nil).json(t)
	if rec["status"] != "published" || rec["title"] != "Spring cycle, grade 4" || rec["decision"] != "adopt" ||
		rec["prediction"].(map[string]any)["value"] != 0.3 || rec["fidelity"].(map[string]any)["method"] != "peer_observation" {
		t.Fatalf("published test: %v", rec)
	}
}

var versionField = regexp.MustCompile(`name="version" value="(\d+)"`)

func versionIn(t *testing.T, body string) string {
	t.Helper()
	m := versionField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no version field on the page")
	}
	return m[1]
}

// TestUserTextIsEscaped: text a user typed is shown as text on every page of this area.
func TestUserTextIsEscaped(t *testing.T) {
	n := newTestNode(t)
	const evil = `<script>alert("x")</script><img src=x onerror=alert(1)>`
	pub := n.session("pia@riverside.example", "publisher", "math-4")
	f := fullPractice(evil)
	f.Set("summary", evil)
	r := pub.post("/workspace/practices/new", f)
	id := idFromPath(t, r.path)
	tf := plannedTestForm(n.url + "/practices/" + id)
	tf.Set("title", evil)
	tf.Set("question", evil)
	r = pub.post("/workspace/tests/new", tf)
	testPath := r.path
	coord := n.session("cora@riverside.example", "coordinator", "")
	r = coord.post("/collections", url.Values{"title": {evil}, "aim": {evil}})
	colPath := r.path
	admin := n.session("ada@riverside.example", "admin", "")
	admin.post("/admin/tokens", url.Values{"name": {"x"}, "role": {"teacher"}})
	for _, page := range []struct {
		s    *pageSession
		path string
	}{{pub, "/workspace"}, {pub, "/workspace/practices/" + id + "/edit"}, {pub, testPath}, {coord, "/collections"}, {coord, colPath}} {
		body := page.s.page(page.path)
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s: user text is not escaped", page.path)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("%s: the text is not shown at all", page.path)
		}
		if strings.Count(body, "<script") != strings.Count(body, `<script src="/static/`) {
			t.Errorf("%s: a script that is not a static file", page.path)
		}
	}
}

// TestCollectionEditorWithoutJavaScript: a coordinator creates a collection, adds practices from
// search results, annotates, reorders, removes, sets the aim and publishes.
func TestCollectionEditorWithoutJavaScript(t *testing.T) {
	n := newTestNode(t)
	var uris []string
	for _, title := range []string{"Fraction number lines", "Fraction strips", "Fraction talks"} {
		id := n.publishPractice(title, "network")
		uris = append(uris, n.url+"/practices/"+id)
	}
	waitFor(t, "practices searchable", func() bool {
		return n.finds("Fraction talks") && n.finds("Fraction strips") && n.finds("Fraction number lines")
	})
	coord := n.session("cora@riverside.example", "coordinator", "")
	r := coord.post("/collections", url.Values{"title": {""}, "aim": {"Typed aim"}})
	if r.status != 422 || !strings.Contains(fieldError(r.body, "f-title"), "Title is required") || !strings.Contains(r.body, "Typed aim</textarea>") {
		t.Fatalf("refused collection form: %d", r.status)
	}
	r = coord.post("/collections", url.Values{"title": {"Fractions, grade 4"}, "visibility": {"network"}})
	id := idFromPath(t, r.path)
	edit := "/collections/" + id + "/edit"
	body := coord.page(edit + "?q=fraction")
	if !strings.Contains(body, "3 practices found") {
		t.Fatalf("search results on the editor:\n%s", body)
	}
	for _, uri := range uris {
		if r := coord.post("/collections/"+id+"/items", url.Values{"practice_uri": {uri}, "q": {"fraction"}}); r.status != 200 {
			t.Fatalf("add: %d", r.status)
		}
	}
	body = coord.page(edit + "?q=fraction")
	if strings.Count(body, "In this collection.") != 3 {
		t.Error("added practices are not marked as added in the results")
	}
	// Notes, aim and a move: the third item up, with the notes travelling with their items.
	form := url.Values{"title": {"Fractions, grade 4"}, "aim": {"80% of grade 4 proficient in fractions by June"}, "visibility": {"network"},
		"item": uris, "note": {"Start here", "", "Use after strips"}, "op": {"up:2"}, "version": {versionIn(t, body)}}
	r = coord.post(edit, form)
	if r.status != 200 {
		t.Fatalf("move: %d", r.status)
	}
	rec := n.do("admin", "GET", "/api/v1/collections/"+id, nil).json(t)
	items := rec["items"].([]any)
	order := []string{}
	for _, it := range items {
		order = append(order, it.(map[string]any)["practice_uri"].(string))
	}
	if strings.Join(order, " ") != strings.Join([]string{uris[0], uris[2], uris[1]}, " ") ||
		items[1].(map[string]any)["note"] != "Use after strips" || rec["aim"] != "80% of grade 4 proficient in fractions by June" {
		t.Fatalf("after move: %v", rec)
	}
	// Remove the last item.
	form.Set("op", "remove:2")
	form["item"] = order
	form["note"] = []string{"Start here", "Use after strips", ""}
	form.Set("version", versionIn(t, r.body))
	r = coord.post(edit, form)
	if got := len(n.do("admin", "GET", "/api/v1/collections/"+id, nil).json(t)["items"].([]any)); r.status != 200 || got != 2 {
		t.Fatalf("remove: %d, %d items", r.status, got)
	}
	r = coord.post("/collections/"+id+"/publish", url.Values{"version": {versionIn(t, r.body)}})
	if r.status != 422 || !strings.Contains(r.body, `<a href="#f-description">Description</a>`) {
		t.Fatalf("publish without a description: %d", r.status)
	}
	form.Set("op", "save")
	form.Set("description", "For grade 4 teams working on fractions.")
	form["item"], form["note"] = order[:2], []string{"Start here", "Use after strips"}
	form.Set("version", versionIn(t, r.body))
	r = coord.post(edit, form)
	r = coord.post("/collections/"+id+"/publish", url.Values{"version": {versionIn(t, r.body)}})
	if r.status != 200 || !strings.Contains(r.body, "Published.") {
		t.Fatalf("publish: %d", r.status)
	}
}

// TestAdminTokensPage: an admin creates a token and sees its secret once; the list never shows
// it; revoking it makes the API refuse it.
func TestAdminTokensPage(t *testing.T) {
	n := newTestNode(t)
	admin := n.session("ada@riverside.example", "admin", "")
	r := admin.post("/admin/tokens", url.Values{"name": {"data warehouse"}, "role": {"publisher"}, "team": {""}})
	if r.status != 422 || !strings.Contains(fieldError(r.body, "f-team"), "a publisher token must name its team") || inputValue(r.body, "f-name") != "data warehouse" {
		t.Fatalf("refused token form: %d %q", r.status, fieldError(r.body, "f-team"))
	}
	// A team no record, account or token names is refused from the picker, and made only when typed
	// in its own field.
	r = admin.post("/admin/tokens", url.Values{"name": {"data warehouse"}, "role": {"publisher"}, "team": {"Math 5th grde PLC"}})
	if r.status != 422 || !strings.Contains(fieldError(r.body, "f-team"), "is not a team this node knows") {
		t.Fatalf("unknown team: %d %q", r.status, fieldError(r.body, "f-team"))
	}
	r = admin.post("/admin/tokens", url.Values{"name": {"data warehouse"}, "role": {"publisher"}, "new_team": {"math-4"}})
	m := regexp.MustCompile(`id="new-secret" readonly value="(bsk_[A-Za-z0-9_-]+)"`).FindStringSubmatch(r.body)
	if r.status != 200 || m == nil {
		t.Fatalf("create: %d\n%s", r.status, r.body)
	}
	secret := m[1]
	n.tokens["warehouse"] = secret
	if res := n.do("warehouse", "GET", "/api/v1/me", nil); res.status != 200 {
		t.Fatalf("new token: %d", res.status)
	}
	list := admin.page("/admin/tokens")
	if strings.Contains(list, secret) || strings.Contains(list, secret[4:20]) {
		t.Fatal("the token list shows the secret again")
	}
	idm := regexp.MustCompile(`<th scope="row">data warehouse</th><td[^>]*><code>([0-9a-f]{12})</code>`).FindStringSubmatch(list)
	if idm == nil {
		t.Fatalf("token not listed:\n%s", list)
	}
	// The picker now offers the team the token named.
	if !strings.Contains(list, `<option value="math-4">math-4</option>`) {
		t.Fatalf("the team picker does not offer math-4:\n%s", list)
	}
	// A revoke without the confirmation step's button changes nothing.
	r = admin.post("/admin/tokens/"+idm[1]+"/revoke", url.Values{})
	if res := n.do("warehouse", "GET", "/api/v1/me", nil); r.status != 200 || strings.Contains(r.body, "Revoked token") || res.status != 200 {
		t.Fatalf("revoke without confirming: %d, then the token answers %d", r.status, res.status)
	}
	r = admin.post("/admin/tokens/"+idm[1]+"/revoke", url.Values{"confirm": {"revoke"}})
	if r.status != 200 || !strings.Contains(r.body, "Revoked token "+idm[1]) {
		t.Fatalf("revoke: %d", r.status)
	}
	if res := n.do("warehouse", "GET", "/api/v1/me", nil); res.status != 401 {
		t.Fatalf("revoked token still works: %d", res.status)
	}
	if r := admin.post("/admin/tokens/000000000000/revoke", url.Values{"confirm": {"revoke"}}); r.status != 404 {
		t.Fatalf("revoke unknown: %d", r.status)
	}
}

// TestNetworkPageShowsPeerHealth: a peer that cannot be reached is shown failing, with its error.
func TestNetworkPageShowsPeerHealth(t *testing.T) {
	dead := "http://127.0.0.1:9" // the discard port: nothing listens
	n := newTestNode(t, func(c *node.Config) {
		c.Federation.Peers = []federation.PeerConfig{{URL: dead, ID: "lakeview", Name: "Lakeview <Schools>"}}
	})
	coord := n.session("cora@riverside.example", "coordinator", "")
	waitFor(t, "a failed sync attempt", func() bool {
		h := n.srv.Federation().Health()
		return len(h) == 1 && h[0].LastError != ""
	})
	body := coord.page("/network")
	for _, want := range []string{"Lakeview &lt;Schools&gt;", "lakeview · " + dead, `<span class="ws-state failing">Failing</span>`, "<td>never</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("network page lacks %q", want)
		}
	}
}

// An admin belongs to no team and types the team of a new practice; the form suggests the node's
// known teams beside the free text, and a teacher of one team is not asked at all.
func TestAdminPracticeFormSuggestsKnownTeams(t *testing.T) {
	n := newTestNode(t)
	if r := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Number talks")); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	admin := n.session("ada@riverside.example", "admin", "")
	body := admin.page("/workspace/practices/new")
	if !strings.Contains(body, `name="team" value="" list="f-team-known"`) ||
		!strings.Contains(body, `<datalist id="f-team-known">`) || !strings.Contains(body, `<option value="math-4">`) {
		t.Fatalf("the admin's team field suggests no known teams:\n%s", body)
	}
	lead := n.session("pia@riverside.example", "publisher", "math-4")
	if body := lead.page("/workspace/practices/new"); strings.Contains(body, "f-team-known") || !strings.Contains(body, `<input type="hidden" name="team" value="math-4">`) {
		t.Fatalf("a one-team lead's form should carry the team, not ask for it:\n%s", body)
	}
}
