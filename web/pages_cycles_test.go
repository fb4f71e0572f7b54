package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCyclePagesOverHTTP: the test page's visibility rules, "start a cycle that follows this one"
// through the workspace forms (a session, no JavaScript), and the adapt page's guards.
func TestCyclePagesOverHTTP(t *testing.T) {
	n := newTestNode(t)
	practiceID, practiceURI := tpTestedPractice(n, "Fraction number line talks", func(p map[string]any) { p["visibility"] = "public" })
	tests := n.do("teacher", "GET", "/api/v1/practices/"+practiceID+"/tests", nil).json(t)["items"].([]any)
	if len(tests) != 2 {
		t.Fatalf("tests of the practice: %v", tests)
	}
	first := tests[1].(map[string]any) // newest first
	firstID, firstURI := first["id"].(string), first["uri"].(string)

	// Visibility: a network-visible test is for members; an unknown id is 404; anonymous readers
	// are sent to sign in (which says nothing about whether the test exists).
	if r := tpPage(n, "teacher", "/tests/"+firstID); r.status != 200 || !strings.Contains(string(r.body), "Students explained their placements.") {
		t.Fatalf("teacher reads the test page: %d", r.status)
	}
	if r := tpPage(n, "teacher", "/tests/0190d7c4-0000-7000-8000-000000000000"); r.status != 404 {
		t.Errorf("unknown test: %d", r.status)
	}
	if r := tpNoRedirect(t, n.url+"/tests/"+firstID); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("anonymous test page: %d %s", r.StatusCode, r.Header.Get("Location"))
	}

	// What a team writes is text wherever it is shown: the test page, the activity panel's source.
	xssID, _ := n.publishCycle(practiceURI, "Escaping cycle", firstURI, `<script>alert("x")</script> & <b>frames</b>`, "adapt")
	if r := tpPage(n, "teacher", "/tests/"+xssID); r.status != 200 || strings.Contains(string(r.body), `<script>alert`) ||
		!strings.Contains(string(r.body), `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;frames&lt;/b&gt;`) {
		t.Errorf("learnings not escaped on the test page: %d", r.status)
	} else {
		tpCheckPageSafety(t, "test page", r)
	}

	// Start the next cycle from the test page, as the team's publisher.
	s := n.session("pia@riverside.example", "publisher", "math-4")
	body := s.page("/tests/" + firstID)
	next := "/workspace/tests/new?" + url.Values{"practice": {practiceURI}, "follows": {firstURI}}.Encode()
	if !strings.Contains(body, `href="`+strings.ReplaceAll(next, "&", "&amp;")+`"`) {
		t.Fatalf("no link to start the next cycle (%s)", next)
	}
	body = s.page(next)
	if !strings.Contains(body, `name="follows.uri" value="`+firstURI+`"`) || !strings.Contains(body, "This cycle follows") {
		t.Fatalf("the new-test form does not carry follows")
	}
	r := s.post("/workspace/tests/new", url.Values{
		"practice.uri": {practiceURI}, "follows.uri": {firstURI}, "team": {"math-4"}, "cycle": {"pdsa"},
		"design": {"single_group_pre_post"}, "question": {"Does a debrief help?"}, "visibility": {"network"},
		"cohort.grade_levels": {"04"},
	})
	if r.status != 200 || !strings.Contains(r.path, "/workspace/tests/") {
		t.Fatalf("create the next cycle: %d %s", r.status, r.path)
	}
	id := strings.SplitN(strings.TrimPrefix(r.path, "/workspace/tests/"), "?", 2)[0]
	created := n.do("math", "GET", "/api/v1/tests/"+id, nil).json(t)
	follows, _ := created["follows"].(map[string]any)
	if follows == nil || follows["uri"] != firstURI || follows["version"] == float64(0) || !strings.HasSuffix(created["title"].(string), "— cycle 2") {
		t.Fatalf("the next cycle: follows %v, title %q", created["follows"], created["title"])
	}
	// Saving the plan keeps the link; a forged follows is refused next to the form, naming it.
	r = s.post("/workspace/tests/"+id, url.Values{"section": {"plan"}, "version": {"1"}, "title": {"Grade 4, spring 2026 — cycle 2"},
		"follows.uri": {firstURI}, "cycle": {"pdsa"}, "design": {"single_group_pre_post"}, "question": {"Does a debrief help?"}, "visibility": {"network"}})
	if r.status != 200 || n.do("math", "GET", "/api/v1/tests/"+id, nil).json(t)["follows"] == nil {
		t.Fatalf("saving the plan lost follows: %d", r.status)
	}
	r = s.post("/workspace/tests/"+id, url.Values{"section": {"plan"}, "version": {"2"}, "title": {"x"},
		"follows.uri": {n.url + "/tests/" + id}, "cycle": {"pdsa"}, "design": {"single_group_pre_post"}, "question": {"?"}, "visibility": {"network"}})
	if r.status != 422 || !strings.Contains(r.body, "cannot name this test itself") {
		t.Errorf("following itself from the form: %d", r.status)
	}

	// Adapt: teachers may not; an unknown practice is 404; the form needs what changed.
	teacher := n.session("tom@riverside.example", "teacher", "")
	if status, _ := teacher.get("/workspace/practices/" + practiceID + "/adapt"); status != 403 {
		t.Errorf("a teacher opens the adapt form: %d", status)
	}
	if status, _ := s.get("/workspace/practices/0190d7c4-0000-7000-8000-000000000000/adapt"); status != 404 {
		t.Errorf("adapt form of an unknown practice: %d", status)
	}
	r = s.post("/workspace/practices/"+practiceID+"/adapt", url.Values{"team": {"math-4"}, "changes": {"  "}})
	if r.status != 422 || !strings.Contains(r.body, `id="f-changes-error"`) || !strings.Contains(r.body, `aria-invalid="true"`) {
		t.Errorf("adapting without changes: %d", r.status)
	}
	r = s.post("/workspace/practices/"+practiceID+"/adapt", url.Values{"team": {"math-4"}, "changes": {"<b>Frames</b> for English learners"}})
	if r.status != 200 || !strings.HasSuffix(strings.SplitN(r.path, "?", 2)[0], "/edit") {
		t.Fatalf("adapt: %d %s", r.status, r.path)
	}
}
