package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

// publishCycle runs one cycle of the practice at uri on n as the math-4 team: plan (following
// follows when not ""), results from summary statistics, learnings and a decision, publish. It
// returns the test's id and URI.
func (n *testNode) publishCycle(uri, title, follows, learnings, decision string) (id, testURI string) {
	n.t.Helper()
	body := map[string]any{
		"team": "math-4", "visibility": "network", "title": title,
		"practice": map[string]any{"uri": uri},
		"cycle":    "pdsa", "design": "single_group_pre_post",
		"question":   "Do sentence frames help English learners justify fraction placements?",
		"prediction": map[string]any{"text": "Effect of at least 0.3", "metric": "effect_size", "operator": ">=", "value": 0.3},
		"assessment": map[string]any{"name": "Unit 5 fractions", "score_min": 0, "score_max": 100, "proficiency_cut": 65, "form": "parallel"},
		"cohort":     map[string]any{"grade_levels": []string{"04"}, "subjects": []string{"math"}, "classrooms": 2, "students_planned": 25},
		"start_date": "2026-02-01", "end_date": "2026-03-15",
		"dosage":      map[string]any{"sessions_planned": 12, "sessions_delivered": 11, "minutes_per_session": 15},
		"adaptations": "Frames printed on each student's number line.",
	}
	if follows != "" {
		body["follows"] = map[string]any{"uri": follows}
	}
	r := n.doJSON("math", "POST", "/api/v1/tests", body)
	if r.status != 201 {
		n.t.Fatalf("create cycle %q: %d %s", title, r.status, r.body)
	}
	id = r.json(n.t)["id"].(string)
	r = n.do("math", "POST", "/api/v1/tests/"+id+"/results", strings.NewReader(`{"groups":[{"n":25,"mean_pre":48.2,"sd_pre":10.5,"mean_post":53.9,"sd_post":10.5,"r":0.78}]}`), "Content-Type", "application/json")
	if r.status != 200 {
		n.t.Fatalf("results: %d %s", r.status, r.body)
	}
	t := r.json(n.t)["test"].(map[string]any)
	t["learnings"], t["decision"] = learnings, decision
	if r := n.doJSON("math", "PUT", "/api/v1/tests/"+id, t, "If-Match", r.header.Get("ETag")); r.status != 200 {
		n.t.Fatalf("learnings: %d %s", r.status, r.body)
	}
	r = n.doJSON("math", "POST", "/api/v1/tests/"+id+"/publish", nil)
	if r.status != 200 {
		n.t.Fatalf("publish cycle: %d %s", r.status, r.body)
	}
	return id, r.json(n.t)["uri"].(string)
}

// TestCyclesTravel is the end-to-end case on three real nodes: a practice published in A is
// adapted in B through the API; B publishes two cycles of the adaptation, the second following the
// first; within 5 s A lists both with their learnings, shows B's learnings and the ramp on the test
// page, finds its own practice by a phrase only B's learnings hold, and tells the practice's team.
func TestCyclesTravel(t *testing.T) {
	nodes := network(t, "riverside", "lakeview", "hillcrest")
	a, b, c := nodes[0], nodes[1], nodes[2]

	practiceID := a.publishPractice("Fraction number line talks", "network")
	practiceURI := a.url + "/practices/" + practiceID
	waitFor(t, "B mirrors A's practice", func() bool { return b.mirrored(a, practices.KindPractice, practiceID) })

	// API reads find the mirrored record; writes are refused with a pointer to its origin.
	r := b.do("teacher", "GET", "/api/v1/practices/"+practiceID, nil)
	if r.status != 200 || r.json(t)["origin"] != a.url {
		t.Fatalf("B reads A's practice: %d %s", r.status, r.body)
	}
	if r := b.doJSON("admin", "POST", "/api/v1/practices/"+practiceID+"/withdraw", nil); r.status != 409 || !strings.Contains(string(r.body), a.url) {
		t.Errorf("withdrawing a mirrored record: %d %s", r.status, r.body)
	}
	if r := b.do("", "GET", "/api/v1/practices/"+practiceID, nil); r.status != 404 {
		t.Errorf("anonymous read of a network-visible mirror: %d", r.status)
	}

	// Adapt through the API: a draft in B's team, linked to A's practice.
	if r := b.doJSON("math", "POST", "/api/v1/practices/0190d7c4-0000-7000-8000-000000000000/adapt", map[string]any{"changes": "x"}); r.status != 404 {
		t.Errorf("adapting an unknown practice: %d %s", r.status, r.body)
	}
	if r := b.doJSON("teacher", "POST", "/api/v1/practices/"+practiceID+"/adapt", map[string]any{"changes": "x", "team": "math-4"}); r.status != 403 {
		t.Errorf("a teacher adapting: %d %s", r.status, r.body)
	}
	r = b.doJSON("math", "POST", "/api/v1/practices/"+practiceID+"/adapt", map[string]any{"team": "math-4"})
	if r.status != 422 || !strings.Contains(string(r.body), `"field":"changes"`) {
		t.Errorf("adapting without saying what changed: %d %s", r.status, r.body)
	}
	r = b.doJSON("math", "POST", "/api/v1/practices/"+practiceID+"/adapt", map[string]any{
		"team": "math-4", "visibility": "network", "title": "Fraction number line talks with sentence frames",
		"changes": "Sentence frames for English learners.",
	})
	if r.status != 201 {
		t.Fatalf("adapt: %d %s", r.status, r.body)
	}
	ad := r.json(t)
	adID, adURI := ad["id"].(string), ad["uri"].(string)
	basedOn := ad["based_on"].([]any)[0].(map[string]any)
	if ad["status"] != "draft" || basedOn["uri"] != practiceURI || basedOn["relation"] != "adaptation_of" || ad["origin"] != b.url {
		t.Fatalf("adaptation = %v", ad)
	}
	if r := b.doJSON("math", "POST", "/api/v1/practices/"+adID+"/publish", nil); r.status != 200 {
		t.Fatalf("publish adaptation: %d %s", r.status, r.body)
	}

	// Two cycles of the adaptation in B, the second following the first.
	const phrase = "newcomers justified placements once the frame sat on their own table"
	t1ID, t1URI := b.publishCycle(adURI, "Grade 4 newcomers, winter 2026 — cycle 1", "", "Our "+phrase+".", "adapt")
	t2ID, t2URI := b.publishCycle(adURI, "Grade 4 newcomers, spring 2026 — cycle 2", t1URI, "Partners who share a home language helped most.", "adopt")

	// follows is checked: unknown, itself, a loop.
	r = b.doJSON("math", "POST", "/api/v1/tests", map[string]any{"team": "math-4", "practice": map[string]any{"uri": adURI},
		"cycle": "pdsa", "design": "single_group_pre_post", "question": "?", "follows": map[string]any{"uri": b.url + "/tests/0190d7c4-0000-7000-8000-000000000000"}})
	if r.status != 422 || !strings.Contains(string(r.body), `"field":"follows"`) {
		t.Errorf("following an unknown test: %d %s", r.status, r.body)
	}
	cur := b.do("math", "GET", "/api/v1/tests/"+t1ID, nil)
	loop := cur.json(t)
	loop["follows"] = map[string]any{"uri": t2URI}
	if r := b.doJSON("math", "PUT", "/api/v1/tests/"+t1ID, loop, "If-Match", cur.header.Get("ETag")); r.status != 422 || !strings.Contains(string(r.body), `"rule":"loop"`) {
		t.Errorf("making a loop: %d %s", r.status, r.body)
	}

	// Within 5 s, A lists both cycles with their learnings, marked as tests of an adaptation.
	var items []any
	waitFor(t, "A lists B's two cycles", func() bool {
		r := a.do("teacher", "GET", "/api/v1/practices/"+practiceID+"/tests", nil)
		if r.status != 200 {
			return false
		}
		items = r.json(t)["items"].([]any)
		return len(items) == 2
	})
	byID := map[string]map[string]any{}
	for _, it := range items {
		m := it.(map[string]any)
		byID[m["id"].(string)] = m
	}
	first, second := byID[t1ID], byID[t2ID]
	if first == nil || second == nil {
		t.Fatalf("A's list = %v", items)
	}
	if first["via_adaptation"] != true || !strings.Contains(first["learnings"].(string), phrase) || first["district"] != "lakeview" ||
		first["decision"] != "adapt" || first["n"] != float64(25) || first["effect"].(map[string]any)["g"] == nil {
		t.Errorf("first cycle as A lists it: %v", first)
	}
	if f, _ := second["follows"].(map[string]any); f == nil || f["uri"] != t1URI || second["via_adaptation"] != true || second["title"] != "Grade 4 newcomers, spring 2026 — cycle 2" {
		t.Errorf("second cycle as A lists it: %v", second)
	}
	// The API reads the mirrored test at A, with its origin.
	if r := a.do("teacher", "GET", "/api/v1/tests/"+t2ID, nil); r.status != 200 || r.json(t)["origin"] != b.url {
		t.Errorf("A reads B's test: %d %s", r.status, r.body)
	}

	// A's page of B's second cycle shows B's learnings and the ramp 1 → 2.
	page := tpPage(a, "teacher", "/tests/"+t2ID)
	body := string(page.body)
	if page.status != 200 {
		t.Fatalf("A's page of B's test: %d %s", page.status, body)
	}
	tpCheckPageSafety(t, "test page", page)
	for _, want := range []string{
		"Partners who share a home language helped most.", "Ramp of cycles", "Cycle 1", "Cycle 2",
		`<a href="/tests/` + t1ID + `">Grade 4 newcomers, winter 2026 — cycle 1</a>`, "decision: Adapt", "decision: Adopt",
		"Test from Lakeview (another district)", "Fraction number line talks",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("A's test page lacks %q", want)
		}
	}
	// And the practice page links both cycles and shows the ramp.
	page = tpPage(a, "teacher", "/practices/"+practiceID)
	for _, want := range []string{`href="/tests/` + t1ID + `"`, `href="/tests/` + t2ID + `"`, "Ramps of cycles", "adapted version"} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("A's practice page lacks %q", want)
		}
	}

	// A's search for a phrase only B's learnings hold finds A's own practice, with the snippet.
	defer func() {
		if t.Failed() { // what A's indexer said, if it fell behind
			for _, l := range strings.Split(a.logs.String(), "\n") {
				if strings.Contains(l, "indexer") && !strings.Contains(l, `"level":"DEBUG"`) {
					t.Log(l)
				}
			}
		}
	}()
	waitFor(t, "A finds its practice by B's learnings", func() bool {
		r := a.do("teacher", "GET", "/api/v1/search?q="+url.QueryEscape("newcomers frame own table"), nil)
		if r.status != 200 {
			return false
		}
		for _, h := range r.json(t)["hits"].([]any) {
			hit := h.(map[string]any)
			// The hit shows what B's team learned, escaped, with the matched words marked.
			if hit["record_id"] == practiceID {
				l, _ := hit["learning_html"].(string)
				return strings.Contains(l, "<mark>newcomers</mark>")
			}
		}
		return false
	})

	// A's activity, for the team that owns the practice: the adaptation and both cycles.
	var act []any
	waitFor(t, "A's activity shows the adaptation and both cycles", func() bool {
		r := a.do("math", "GET", "/api/v1/activity", nil)
		if r.status != 200 {
			return false
		}
		act = r.json(t)["items"].([]any)
		return len(act) == 3
	})
	kinds := map[string]string{}
	for _, it := range act {
		m := it.(map[string]any)
		kinds[m["id"].(string)] = m["kind"].(string)
		if m["subject_id"] != practiceID || !strings.HasPrefix(m["url"].(string), "/") {
			t.Errorf("activity item about the wrong record: %v", m)
		}
	}
	if kinds[adID] != "adaptation" || kinds[t1ID] != "test" || kinds[t2ID] != "test" {
		t.Errorf("activity = %v", act)
	}
	if r := a.do("", "GET", "/api/v1/activity", nil); r.status != 401 {
		t.Errorf("anonymous activity: %d", r.status)
	}

	// The third node sees the same cycles from both districts, and the cycle page there too.
	waitFor(t, "C lists B's cycles of A's practice", func() bool {
		r := c.do("teacher", "GET", "/api/v1/practices/"+practiceID+"/tests", nil)
		return r.status == 200 && len(r.json(t)["items"].([]any)) == 2
	})
	if r := tpPage(c, "teacher", "/tests/"+t1ID); r.status != 200 || !strings.Contains(string(r.body), phrase) {
		t.Errorf("C's page of B's first cycle: %d", r.status)
	}
}
