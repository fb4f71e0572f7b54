package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// measureForm is the "Add a measure" form of the test page with points typed as aggregates.
func measureForm(version string, points [][3]string) url.Values {
	v := url.Values{
		"version": {version}, "measure_id": {""}, "name": {"Exit ticket: unit fractions (0–4)"}, "type": {"outcome"},
		"kind": {"mean"}, "direction": {"up"}, "definition": {"Four questions, Fridays"}, "score_min": {"0"}, "score_max": {"4"},
		"baseline": {"3"}, "notes.date": {"2026-09-25"}, "notes.text": {"Cycle 2: warm-up routine"},
	}
	for _, p := range points {
		v.Add("points.date", p[0])
		v.Add("points.n", p[1])
		v.Add("points.value", p[2])
	}
	v.Add("points.date", "") // a blank row is skipped
	v.Add("points.n", "")
	v.Add("points.value", "")
	return v
}

func TestMeasuresOnTheTestPage(t *testing.T) {
	n := newTestNode(t)
	pub := n.session("pia@riverside.example", "publisher", "math-4")
	r := pub.post("/workspace/practices/new", fullPractice("Number line talks"))
	uri := n.url + "/practices/" + idFromPath(t, r.path)
	r = pub.post("/workspace/tests/new", plannedTestForm(uri))
	id := idFromPath(t, r.path)
	path := "/workspace/tests/" + id
	body := pub.page(path)
	if !strings.Contains(body, `<h2 id="measures-h">Measures over time</h2>`) {
		t.Fatal("no measures section")
	}

	// A refused point is marked in its row, and everything typed is kept.
	bad := measureForm(versionIn(t, body), [][3]string{{"2026-09-04", "22", "2.1"}, {"2026-09-11", "0", "2.3"}, {"2026-09-18", "21", "5"}})
	r = pub.post(path+"/measures", bad)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad points: %d", r.status)
	}
	for _, want := range []string{
		`Point 2: The number of students measured (n) must be at least 1.`,
		`Point 3: The mean must lie on the measure&#39;s scale 0–4.`,
		`name="points.value" value="5" aria-label="Value of point 3" aria-invalid="true"`,
		`value="Cycle 2: warm-up routine"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("refused form lacks %s", want)
		}
	}

	// Saved: the chart, the sentence and the table of the published points.
	good := measureForm(versionIn(t, body), [][3]string{{"2026-09-04", "22", "2.1"}, {"2026-09-11", "23", "2.3"}, {"2026-09-18", "6", "3.9"}, {"2026-09-25", "21", "2.6"}})
	r = pub.post(path+"/measures", good)
	if r.status != 200 || !strings.Contains(r.body, "Measure saved.") {
		t.Fatalf("save: %d\n%s", r.status, r.body)
	}
	for _, want := range []string{
		`src="/api/v1/tests/` + id + `/measures/exit-ticket-unit-fractions-0-4.svg?v=`,
		`1 of these point is kept in the district only`,
		`<td>25 September 2026</td><td>21</td><td>2.6</td>`,
		`run-chart rules need at least 10`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("saved page lacks %s", want)
		}
	}
	if strings.Contains(r.body, "<td>18 September 2026</td>") {
		t.Error("the published table shows the point below the minimum n")
	}

	// A score file: the template is offered, a refused file is explained and changes nothing.
	if status, tmpl := pub.get("/static/measure-scores-template.csv"); status != 200 || !strings.HasPrefix(tmpl, "date,score\n") {
		t.Fatalf("template: %d %q", status, tmpl)
	}
	before := versionIn(t, pub.page(path))
	up := path + "/measures/exit-ticket-unit-fractions-0-4/scores"
	r = pub.upload(up, "scores", "week.csv", []byte("date,score,Student Name\n2026-10-02,3,Zelda Quartermaine\n"))
	if r.status != 422 || !strings.Contains(r.body, "looks like it holds a student identifier") || strings.Contains(r.body, "Zelda") {
		t.Fatalf("refused file: %d", r.status)
	}
	if !strings.Contains(r.body, `aria-describedby="m-exit-ticket-unit-fractions-0-4-scores-hint m-exit-ticket-unit-fractions-0-4-scores-error" aria-invalid="true"`) {
		t.Error("the file field is not marked invalid")
	}
	if after := versionIn(t, pub.page(path)); after != before {
		t.Errorf("a refused file changed the test: version %s → %s", before, after)
	}
	csv := "date,score\n" + strings.Repeat("2026-10-02,3\n", 12) + strings.Repeat("2026-10-02,4\n", 12)
	r = pub.upload(up, "scores", "week.csv", []byte(csv))
	if r.status != 200 || !strings.Contains(r.body, "points for 1 dates computed") || !strings.Contains(r.body, "<td>2 October 2026</td><td>24</td><td>3.5</td>") {
		t.Fatalf("score file: %d\n%s", r.status, r.body)
	}

	// Another team's member cannot add a measure.
	other := n.session("eli@riverside.example", "publisher", "ela-3")
	if r := other.post(path+"/measures", good); r.status != http.StatusForbidden && r.status != http.StatusNotFound {
		t.Errorf("another team: %d", r.status)
	}
	// Remove.
	r = pub.post(path+"/measures/exit-ticket-unit-fractions-0-4/delete", url.Values{"version": {versionIn(t, pub.page(path))}})
	if r.status != 200 || !strings.Contains(r.body, "Measure removed.") || strings.Contains(r.body, "measures/exit-ticket-unit-fractions-0-4.svg") {
		t.Fatalf("remove: %d", r.status)
	}
}
