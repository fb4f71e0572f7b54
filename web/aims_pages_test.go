package web_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestAimPagesOverHTTP: the aim and progress pages' rules over HTTP with a signed-in session. A
// score file becomes points in the progress form for the coordinator to check (nothing is saved,
// the rows are discarded) and a file with a student identifier is refused next to the file field
// without showing a cell; a teacher can read the dashboard but gets no progress form; another
// district's coordinator cannot open the aim's form (404: it is not theirs to see as an editor);
// a secondary driver with no primary and a change idea naming no driver are refused, each next to
// its row, with what was typed kept.
func TestAimPagesOverHTTP(t *testing.T) {
	nodes := network(t, "riverside", "lakeview")
	a, b := nodes[0], nodes[1]
	a.addToken("coordinator", "coordinator", "")
	practiceA := a.publishPractice("Number line talks for unit fractions", "network")
	uriA := a.do("math", "GET", "/api/v1/practices/"+practiceA, nil).json(t)["uri"].(string)
	r := a.doJSON("coordinator", "POST", "/api/v1/aims", aimJSON("Fractions by June 2027", uriA, uriA))
	if r.status != 201 {
		t.Fatalf("create aim: %d %s", r.status, r.body)
	}
	aimID := r.json(t)["id"].(string)
	if r := a.doJSON("coordinator", "POST", "/api/v1/aims/"+aimID+"/publish", nil); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}

	cora := a.session("cora@riverside.example", "coordinator", "")
	cora.page("/aims/" + aimID + "/progress")
	// 12 students on 1 October, 9 scoring 70 or more (the aim's cut): 75 %.
	scores := "date,score\n" + strings.Repeat("2026-10-01,82\n", 9) + strings.Repeat("2026-10-01,55\n", 3)
	up := cora.upload("/aims/"+aimID+"/progress/scores", "scores", "october.csv", []byte(scores))
	if up.status != 200 || !strings.Contains(up.body, `name="points.date" value="2026-10-01"`) || !strings.Contains(up.body, `name="points.value" value="75"`) ||
		!strings.Contains(up.body, "points for 1 date computed") {
		t.Fatalf("score file: %d %s", up.status, up.body)
	}
	if r := a.do("coordinator", "GET", "/api/v1/progress", nil); strings.Contains(string(r.body), "2026-10-01") {
		t.Error("a score file saved progress before it was checked and published")
	}
	bad := cora.upload("/aims/"+aimID+"/progress/scores", "scores", "names.csv", []byte("date,score,student_name\n2026-10-01,82,Zelda Quartermaine\n"))
	if bad.status != 422 || !strings.Contains(bad.body, `id="progress-scores-error"`) || strings.Contains(bad.body, "Zelda") {
		t.Errorf("a file with names: %d, error next to the field %v, cell shown %v", bad.status, strings.Contains(bad.body, "progress-scores-error"), strings.Contains(bad.body, "Zelda"))
	}

	teacher := a.session("tess@riverside.example", "teacher", "")
	if status, body := teacher.get("/aims/" + aimID); status != 200 || strings.Contains(body, "/progress\">Report") {
		t.Errorf("teacher's dashboard: %d, offers the progress form: %v", status, strings.Contains(body, "Report your district"))
	}
	if status, _ := teacher.get("/aims/" + aimID + "/progress"); status != 403 && status != 404 {
		t.Errorf("a teacher opened the progress form: %d", status)
	}
	lee := b.session("lee@lakeview.example", "coordinator", "")
	waitFor(t, "lakeview mirrors the aim", func() bool {
		status, _ := lee.get("/aims/" + aimID)
		return status == 200
	})
	if status, _ := lee.get("/aims/" + aimID + "/edit"); status != 404 {
		t.Errorf("lakeview's coordinator opened riverside's aim form: %d", status)
	}

	form := url.Values{"op": {"save"}, "title": {"Second aim"}, "statement": {"By June"}, "target.value": {"70"}, "target.by": {"2027-06-15"},
		"visibility": {"network"}, "driver.0.text": {"Fraction sense"}, "driver.0.level": {"primary"},
		"driver.1.text": {"Number lines"}, "driver.1.level": {"secondary"}, "idea.0.text": {"Warm-ups"}}
	res := cora.post("/aims/new", form)
	if res.status != 422 || !strings.Contains(res.body, `id="driver-1-parent-error"`) || !strings.Contains(res.body, `id="idea-0-drivers-error"`) ||
		!strings.Contains(res.body, `value="Number lines"`) {
		t.Errorf("refused aim: %d\n%s", res.status, res.body)
	}
}
