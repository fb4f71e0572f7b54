package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestUndoInThePages: a material is removed, a draft deleted, a published practice withdrawn, each
// only by the confirmation step's own button (a post without it changes nothing); a published
// practice is not deleted from the pages; a test is not published before its practice.
func TestUndoInThePages(t *testing.T) {
	n := newTestNode(t)
	pub := n.session("pia@riverside.example", "publisher", "math-4")
	status := func(kind, id string) any {
		t.Helper()
		r := n.do("math", "GET", "/api/v1/"+kind+"/"+id, nil)
		if r.status == http.StatusNotFound {
			return "gone"
		}
		return r.json(t)["status"]
	}

	// Remove a material.
	r := pub.post("/workspace/practices/new", fullPractice("Number line talks"))
	draft := idFromPath(t, r.path)
	edit := "/workspace/practices/" + draft + "/edit"
	r = pub.upload("/workspace/practices/"+draft+"/artifacts", "file", "lesson.pdf", []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"))
	m := regexp.MustCompile(`action="(/workspace/practices/[^"]+/materials/[0-9a-f]{64}/remove)"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no remove form for the material:\n%s", r.body)
	}
	if r := pub.post(m[1], url.Values{}); !strings.Contains(r.body, `>lesson.pdf</a>`) {
		t.Fatal("a remove without the confirmation step removed the file")
	}
	r = pub.post(m[1], url.Values{"confirm": {"remove"}})
	if r.status != 200 || !strings.Contains(r.body, "Removed lesson.pdf from the materials.") || strings.Contains(r.body, `>lesson.pdf</a>`) {
		t.Fatalf("remove: %d %s", r.status, r.body)
	}

	// Delete a draft: the step is on its page; only the confirming post deletes.
	if page := pub.page(edit); !strings.Contains(page, `action="/workspace/practices/`+draft+`/delete"`) || !strings.Contains(page, "Yes, delete this practice") {
		t.Fatal("the draft's page has no delete step")
	}
	pub.post("/workspace/practices/"+draft+"/delete", url.Values{})
	if got := status("practices", draft); got != "draft" {
		t.Fatalf("a delete without confirming: the draft is %v", got)
	}
	r = pub.post("/workspace/practices/"+draft+"/delete", url.Values{"confirm": {"delete"}})
	if r.status != 200 || !strings.HasPrefix(r.path, "/workspace?") || !strings.Contains(r.body, "Deleted “Number line talks”.") {
		t.Fatalf("delete: %d %s", r.status, r.path)
	}
	if got := status("practices", draft); got != "gone" {
		t.Fatalf("deleted draft reads as %v", got)
	}

	// Withdraw a published practice; a published one is not deleted from the pages.
	pid, puri := tpPublish(n, "Fraction strips", nil)
	r = pub.post("/workspace/practices/"+pid+"/delete", url.Values{"confirm": {"delete"}})
	if !strings.Contains(r.body, "Nothing deleted: a published record is withdrawn first") || status("practices", pid) != "published" {
		t.Fatalf("delete of a published practice: %v\n%s", status("practices", pid), r.body)
	}
	if page := pub.page("/workspace/practices/" + pid + "/edit"); !strings.Contains(page, "Yes, withdraw this practice") {
		t.Fatal("the published practice's page has no withdraw step")
	}
	pub.post("/workspace/practices/"+pid+"/withdraw", url.Values{})
	if got := status("practices", pid); got != "published" {
		t.Fatalf("a withdraw without confirming: %v", got)
	}
	r = pub.post("/workspace/practices/"+pid+"/withdraw", url.Values{"confirm": {"withdraw"}})
	if !strings.Contains(r.body, "Withdrawn.") || status("practices", pid) != "withdrawn" {
		t.Fatalf("withdraw: %v\n%s", status("practices", pid), r.body)
	}

	// A test of the (now withdrawn) practice cannot be published from its page either.
	tr := n.doJSON("math", "POST", "/api/v1/tests", map[string]any{
		"team": "math-4", "practice": map[string]any{"uri": puri, "version": 1},
		"cycle": "pdsa", "design": "single_group_pre_post", "question": "Does placing fractions aloud improve comparison?",
	})
	if tr.status != 201 {
		t.Fatalf("create test: %d %s", tr.status, tr.body)
	}
	tid := tr.json(t)["id"].(string)
	r = pub.post("/workspace/tests/"+tid+"/publish", url.Values{})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "publish the practice this test belongs to first") {
		t.Fatalf("publishing a test of an unpublished practice: %d", r.status)
	}
	// And the test, a draft, is deleted from its page.
	r = pub.post("/workspace/tests/"+tid+"/delete", url.Values{"confirm": {"delete"}})
	if !strings.HasPrefix(r.path, "/workspace?") || status("tests", tid) != "gone" {
		t.Fatalf("delete test: %s %v", r.path, status("tests", tid))
	}
	// Someone of another team may not withdraw: the page answers as the API does.
	ela := n.session("eli@riverside.example", "publisher", "ela-3")
	pid2, _ := tpPublish(n, "Fraction walls", nil)
	if r := ela.post("/workspace/practices/"+pid2+"/withdraw", url.Values{"confirm": {"withdraw"}}); r.status != http.StatusForbidden || status("practices", pid2) != "published" {
		t.Fatalf("another team's withdraw: %d %v", r.status, status("practices", pid2))
	}
}
