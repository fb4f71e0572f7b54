package web_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// weeklyExitTicket is a mean measure with one week below the minimum n.
func weeklyExitTicket() map[string]any {
	return map[string]any{
		"id": "exit-ticket", "name": "Exit ticket: unit fractions (0–4)", "type": "outcome", "kind": "mean",
		"direction": "up", "definition": "Four questions at the end of Friday's lesson", "score_min": 0, "score_max": 4,
		"baseline": 4,
		"points": []map[string]any{
			{"date": "2026-09-04", "n": 22, "value": 2.14}, {"date": "2026-09-11", "n": 23, "value": 2.3},
			{"date": "2026-09-18", "n": 6, "value": 3.9}, {"date": "2026-09-25", "n": 21, "value": 2.2},
		},
		"notes": []map[string]any{{"date": "2026-09-25", "text": "Cycle 2: number line warm-up"}},
	}
}

func TestMeasuresOverHTTP(t *testing.T) {
	n := newTestNode(t)
	pr := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Number line talks")).json(t)
	id := n.plannedTest(pr["uri"].(string))
	test := n.do("math", "GET", "/api/v1/tests/"+id, nil)
	body := test.json(t)
	body["measures"] = []any{weeklyExitTicket()}
	r := n.doJSON("math", "PUT", "/api/v1/tests/"+id, body, "If-Match", test.header.Get("ETag"))
	if r.status != 200 {
		t.Fatalf("put measures: %d %s", r.status, r.body)
	}
	if bytes.Contains(r.body, []byte("2026-09-18")) || bytes.Contains(r.body, []byte(`"value":3.9`)) {
		t.Fatalf("the record shows a point below the minimum n: %s", r.body)
	}
	etag := r.header.Get("ETag")

	// The team sees every point; a teacher of the district only the published ones.
	team := n.do("math", "GET", "/api/v1/tests/"+id+"/measures", nil).json(t)
	if pts := team["team"].([]any)[0].(map[string]any)["points"].([]any); len(pts) != 4 {
		t.Fatalf("team view has %d points", len(pts))
	}
	n.doJSON("math", "POST", "/api/v1/tests/"+id+"/publish", nil) // may fail (no results): the draft stays team-only
	if r := n.do("teacher", "GET", "/api/v1/tests/"+id+"/measures", nil); r.status != 404 {
		t.Fatalf("a draft's measures are visible to a teacher: %d", r.status)
	}

	// A score file: aggregated per date, the rows dropped.
	csv := "date,score\n2026-10-02,3\n2026-10-02,2\n" + strings.Repeat("2026-10-09,3\n", 11) + strings.Repeat("2026-10-09,4\n", 11)
	r = n.do("math", "POST", "/api/v1/tests/"+id+"/measures/exit-ticket/scores", strings.NewReader(csv), "Content-Type", "text/csv")
	if r.status != 200 {
		t.Fatalf("score file: %d %s", r.status, r.body)
	}
	m := r.json(t)["measure"].(map[string]any)
	pts := m["points"].([]any)
	last := pts[len(pts)-1].(map[string]any)
	if len(pts) != 4 || last["date"] != "2026-10-09" || last["n"] != float64(22) || last["value"] != 3.5 || m["withheld"] != float64(2) {
		t.Fatalf("published after upload: %s", r.body)
	}
	if m["analysis"] == nil {
		t.Fatal("no analysis")
	}
	version := r.header.Get("ETag")

	// Refused files name the rule and change nothing.
	for _, bad := range []struct{ csv, field, rule string }{
		{"date,score,student_name\n2026-10-16,3,Ana Lopez\n", "column 3", "identifier_column"},
		{"date,score\n2026-10-16,jane@example.org\n", "row 1, column score", "looks_like_email"},
		{"date,score\n2026-10-16,7\n", "row 1, column score", "score_out_of_range"},
		{"date,score\n10/16/2026,3\n", "row 1, column date", "invalid_value"},
	} {
		r := n.do("math", "POST", "/api/v1/tests/"+id+"/measures/exit-ticket/scores", strings.NewReader(bad.csv), "Content-Type", "text/csv")
		wantProblem(t, r, 422, bad.field)
		if !strings.Contains(string(r.body), bad.rule) {
			t.Errorf("refusal does not name rule %s: %s", bad.rule, r.body)
		}
		if strings.Contains(string(r.body), "Ana") || strings.Contains(string(r.body), "jane@") || strings.Contains(n.logs.String(), "jane@") {
			t.Errorf("a refusal echoes a cell: %s", r.body)
		}
	}
	if now := n.do("math", "GET", "/api/v1/tests/"+id, nil); now.header.Get("ETag") != version {
		t.Errorf("a refused file changed the test: %s → %s", version, now.header.Get("ETag"))
	}
	if r := n.do("math", "POST", "/api/v1/tests/"+id+"/measures/nope/scores", strings.NewReader(csv), "Content-Type", "text/csv"); r.status != 404 {
		t.Errorf("unknown measure: %d", r.status)
	}
	if r := n.do("ela", "POST", "/api/v1/tests/"+id+"/measures/exit-ticket/scores", strings.NewReader(csv), "Content-Type", "text/csv"); r.status != 404 {
		t.Errorf("another team's upload: %d", r.status)
	}

	// Charts.
	for _, q := range []string{"", "?chart=control", "?size=small&ymin=0&ymax=4"} {
		r := n.do("math", "GET", "/api/v1/tests/"+id+"/measures/exit-ticket.svg"+q, nil)
		if r.status != 200 || r.header.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(r.body, []byte("<desc")) {
			t.Errorf("chart %q: %d %s", q, r.status, r.header.Get("Content-Type"))
		}
	}
	wantProblem(t, n.do("math", "GET", "/api/v1/tests/"+id+"/measures/exit-ticket.svg?chart=pie", nil), 400, "chart")
	if r := n.do("math", "GET", "/api/v1/tests/"+id+"/measures/exit-ticket.png", nil); r.status != 404 {
		t.Errorf("png: %d", r.status)
	}

	// Bad measures: 422 naming the measure, the point and the rule.
	cur := n.do("math", "GET", "/api/v1/tests/"+id, nil)
	body = cur.json(t)
	bad := weeklyExitTicket()
	bad["points"].([]map[string]any)[1]["date"] = "2026-09-01"
	body["measures"] = []any{bad}
	r = n.doJSON("math", "PUT", "/api/v1/tests/"+id, body, "If-Match", cur.header.Get("ETag"))
	wantProblem(t, r, 422, "measures[0].points[1].date")
	if !strings.Contains(string(r.body), `measure \"exit-ticket\", point 2`) {
		t.Errorf("the problem does not name the measure and point: %s", r.body)
	}
	_ = etag
}

func TestMeasuresStayWithTheRecordWhenAPUTLeavesThemOut(t *testing.T) {
	n := newTestNode(t)
	pr := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("P")).json(t)
	id := n.plannedTest(pr["uri"].(string))
	cur := n.do("math", "GET", "/api/v1/tests/"+id, nil)
	body := cur.json(t)
	body["measures"] = []any{weeklyExitTicket()}
	r := n.doJSON("math", "PUT", "/api/v1/tests/"+id, body, "If-Match", cur.header.Get("ETag"))
	if r.status != 200 {
		t.Fatal(r.status, string(r.body))
	}
	var plain map[string]any
	_ = json.Unmarshal(r.body, &plain)
	delete(plain, "measures")
	plain["question"] = "A new question"
	r = n.doJSON("math", "PUT", "/api/v1/tests/"+id, plain, "If-Match", r.header.Get("ETag"))
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"exit-ticket"`)) {
		t.Fatalf("measures dropped by a PUT without them: %d %s", r.status, r.body)
	}
	team := n.do("math", "GET", "/api/v1/tests/"+id+"/measures", nil).json(t)
	if pts := team["team"].([]any)[0].(map[string]any)["points"].([]any); len(pts) != 4 {
		t.Fatalf("team view lost points: %d", len(pts))
	}
}
