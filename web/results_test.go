package web_test

import (
	"bytes"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// District A of docs/records.md's test vectors.
var (
	districtAPre  = []string{"55", "62", "48", "70", "66", "58", "73", "51", "64", "60", "68", "57"}
	districtAPost = []string{"61", "72", "50", "74", "75", "60", "79", "60", "66", "70", "70", "66"}
)

func scoreCSV(pre, post []string) string {
	var b strings.Builder
	b.WriteString("pre,post\n")
	for i := range pre {
		b.WriteString(pre[i] + "," + post[i] + "\n")
	}
	return b.String()
}

// plannedTest creates a draft test of a practice with the plan results need.
func (n *testNode) plannedTest(practiceURI string) string {
	n.t.Helper()
	r := n.doJSON("math", "POST", "/api/v1/tests", map[string]any{
		"team": "math-4", "visibility": "network", "title": "Number line, spring cycle",
		"practice": map[string]any{"uri": practiceURI, "version": 1},
		"cycle":    "pdsa", "design": "single_group_pre_post",
		"question":   "Do number line talks raise fraction comparison scores?",
		"prediction": map[string]any{"text": "Effect of at least 0.3", "metric": "effect_size", "operator": ">=", "value": 0.3},
		"assessment": map[string]any{"name": "Unit 5 fractions", "score_min": 0, "score_max": 100, "proficiency_cut": 65, "form": "parallel"},
		"cohort":     map[string]any{"grade_levels": []string{"04"}, "subjects": []string{"math"}, "classrooms": 2, "students_planned": 24},
		"start_date": "2026-02-01", "end_date": "2026-03-15",
		"dosage": map[string]any{"sessions_planned": 12, "sessions_delivered": 11, "minutes_per_session": 15},
	})
	if r.status != 201 {
		n.t.Fatalf("create test: %d %s", r.status, r.body)
	}
	return r.json(n.t)["id"].(string)
}

func TestResultsFromAScoreTable(t *testing.T) {
	n := newTestNode(t)
	pr := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Number line talks")).json(t)
	id := n.plannedTest(pr["uri"].(string))

	r := n.do("math", "POST", "/api/v1/tests/"+id+"/results", strings.NewReader(scoreCSV(districtAPre, districtAPost)), "Content-Type", "text/csv")
	if r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	body := r.json(t)
	res := body["results"].(map[string]any)
	eff := res["effect"].(map[string]any)
	if math.Abs(eff["g"].(float64)-0.7214) > 0.0005 || math.Abs(eff["variance"].(float64)-0.0369) > 0.0005 {
		t.Fatalf("g_RM %v v %v, want 0.7214 / 0.0369", eff["g"], eff["variance"])
	}
	test := body["test"].(map[string]any)
	if test["prediction_met"] != "yes" {
		t.Errorf("prediction_met = %v, want yes (0.72 ≥ 0.3)", test["prediction_met"])
	}
	// Now the test can be published once the team records what it learned and decided.
	upd := test
	upd["learnings"] = "Students who explained placement aloud improved most."
	upd["decision"] = "adopt"
	if r := n.doJSON("math", "PUT", "/api/v1/tests/"+id, upd, "If-Match", r.header.Get("ETag")); r.status != 200 {
		t.Fatalf("record decision: %d %s", r.status, r.body)
	}
	if r := n.doJSON("math", "POST", "/api/v1/practices/"+pr["id"].(string)+"/publish", nil); r.status != 200 {
		t.Fatalf("publish practice: %d %s", r.status, r.body)
	}
	if r := n.doJSON("math", "POST", "/api/v1/tests/"+id+"/publish", nil); r.status != 200 {
		t.Fatalf("publish test: %d %s", r.status, r.body)
	}
	n.doJSON("math", "POST", "/api/v1/practices/"+pr["id"].(string)+"/publish", nil)
	ev := n.do("teacher", "GET", "/api/v1/practices/"+pr["id"].(string)+"/evidence", nil)
	if ev.status != 200 || ev.json(t)["level"] != "tested" {
		t.Fatalf("evidence: %d %s", ev.status, ev.body)
	}
	if r := n.do("teacher", "GET", "/api/v1/tests/"+id+"/results.svg", nil); r.status != 200 || !bytes.Contains(r.body, []byte("<title")) {
		t.Fatalf("results svg: %d", r.status)
	}
	// Teachers see the published view only; the team sees its unsuppressed analysis too.
	if got := n.do("teacher", "GET", "/api/v1/tests/"+id+"/results", nil).json(t); got["analysis"] != nil {
		t.Errorf("teacher received the internal analysis")
	}
	if got := n.do("math", "GET", "/api/v1/tests/"+id+"/results", nil).json(t); got["analysis"] == nil {
		t.Errorf("team did not receive its analysis")
	}
	// Published results are immutable except as a correction that moves n by at least the minimum.
	short := scoreCSV(districtAPre[:11], districtAPost[:11])
	r = n.do("math", "POST", "/api/v1/tests/"+id+"/results", strings.NewReader(short), "Content-Type", "text/csv")
	wantProblem(t, r, 409, "")
}

func TestResultsPrivacyRefusals(t *testing.T) {
	n := newTestNode(t)
	pr := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("P")).json(t)
	id := n.plannedTest(pr["uri"].(string))
	post := func(csv string) response {
		return n.do("math", "POST", "/api/v1/tests/"+id+"/results", strings.NewReader(csv), "Content-Type", "text/csv")
	}
	// A refused header is named by its position, never repeated: without a header row it is a
	// student's row (issue 12, item 7).
	for _, header := range []string{"Student Name", "studentID", "DOB", "e-mail", "Alice Smith"} {
		r := post(header + ",pre,post\nx,50,60\n")
		wantProblem(t, r, 422, "column 1")
		if strings.Contains(string(r.body), header) {
			t.Errorf("refusal of header %q repeats it: %s", header, r.body)
		}
	}
	r := post("Alice Smith,50,60\nBo Li,55,61\n")
	wantProblem(t, r, 422, "column 1")
	if strings.Contains(string(r.body), "Alice") {
		t.Errorf("refusal echoes a student's name: %s", r.body)
	}
	for _, cell := range []string{"jo.marker@example.org", "123-45-6789", "(555) 867-5309", "2026-03-01"} {
		rows := "pre,post\n50,60\n51,61\n" + cell + ",62\n"
		r := post(rows)
		wantProblem(t, r, 422, "row 3, column pre")
		if strings.Contains(string(r.body), cell) {
			t.Errorf("refusal echoes the cell value %q: %s", cell, r.body)
		}
	}
	// Ten identical rows publish n but no means: they would be every student's scores (item 5).
	r = post("pre,post\n" + strings.Repeat("40,55\n", 10))
	if r.status != 200 {
		t.Fatalf("upload of identical rows: %d %s", r.status, r.body)
	}
	g := r.json(t)["results"].(map[string]any)["groups"].([]any)[0].(map[string]any)
	if g["n"] != float64(10) || g["mean_pre"] != nil || g["mean_post"] != nil || g["sd_pre"] != nil || !strings.Contains(g["note"].(string), "same score") {
		t.Fatalf("group with identical scores published: %v", g)
	}
	// A group of 9 publishes no statistics.
	r = post(scoreCSV(districtAPre[:9], districtAPost[:9]))
	if r.status != 200 {
		t.Fatalf("upload of 9: %d %s", r.status, r.body)
	}
	g = r.json(t)["results"].(map[string]any)["groups"].([]any)[0].(map[string]any)
	if g["suppressed"] != true || g["n"] != nil || g["mean_pre"] != nil || !strings.Contains(g["note"].(string), "fewer than 10") {
		t.Fatalf("group of 9 published: %v", g)
	}
}

// TestScoreRowsNeverStoredLoggedOrEchoed uploads rows holding marker values and searches the whole
// store, the node's log, and every response for them.
func TestScoreRowsNeverStoredLoggedOrEchoed(t *testing.T) {
	n := newTestNode(t)
	pr := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("P")).json(t)
	id := n.plannedTest(pr["uri"].(string))
	pre := append([]string{"47.31597"}, districtAPre[1:]...)
	post := append([]string{"58.64213"}, districtAPost[1:]...)
	markers := []string{"47.31597", "58.64213", "marker.zq9x@example.org"}
	var responses bytes.Buffer
	r := n.do("math", "POST", "/api/v1/tests/"+id+"/results", strings.NewReader(scoreCSV(pre, post)), "Content-Type", "text/csv")
	if r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	responses.Write(r.body)
	r = n.do("math", "POST", "/api/v1/tests/"+id+"/results", strings.NewReader("pre,post\n50,60\nmarker.zq9x@example.org,61\n"), "Content-Type", "text/csv")
	responses.Write(r.body)
	responses.Write(n.do("math", "GET", "/api/v1/tests/"+id+"/results", nil).body)
	responses.Write(n.do("math", "GET", "/api/v1/tests/"+id, nil).body)

	var stored bytes.Buffer
	filepath.WalkDir(n.dataDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			stored.Write(b)
		}
		return nil
	})
	if stored.Len() == 0 {
		t.Fatal("found nothing in the store: the search would prove nothing")
	}
	for _, m := range markers {
		for what, hay := range map[string]string{"store": stored.String(), "log": n.logs.String(), "responses": responses.String()} {
			if strings.Contains(hay, m) {
				t.Errorf("marker %s found in the %s", m, what)
			}
		}
	}
}
