package web_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

const (
	testPracticeURI  = "http://elsewhere.test/practices/0193a3c0-0000-7000-8000-000000000001"
	testPracticeURI2 = "http://elsewhere.test/practices/0193a3c0-0000-7000-8000-000000000002"
)

// createAim creates an aim as who and returns the response.
func (n *testNode) createAim(who string, body map[string]any) response {
	n.t.Helper()
	return n.doJSON(who, "POST", "/api/v1/aims", body)
}

// aimIn creates an aim as the coordinator and brings it to status (draft, published, withdrawn).
func (n *testNode) aimIn(status string) (id, uri string) {
	n.t.Helper()
	r := n.createAim("coordinator", aimJSON("Fractions aim", testPracticeURI, testPracticeURI2))
	if r.status != 201 {
		n.t.Fatalf("create aim: %d %s", r.status, r.body)
	}
	id, uri = r.json(n.t)["id"].(string), r.json(n.t)["uri"].(string)
	steps := map[string][]string{"draft": nil, "published": {"publish"}, "withdrawn": {"publish", "withdraw"}}[status]
	for _, s := range steps {
		if r := n.doJSON("coordinator", "POST", "/api/v1/aims/"+id+"/"+s, nil); r.status != 200 {
			n.t.Fatalf("%s aim: %d %s", s, r.status, r.body)
		}
	}
	return id, uri
}

func TestAimLifecycleOverHTTP(t *testing.T) {
	n := newTestNode(t)
	r := n.createAim("coordinator", aimJSON("Fractions proficiency", testPracticeURI))
	if r.status != 201 || r.header.Get("Location") == "" || r.header.Get("ETag") != `"1"` {
		t.Fatalf("create: %d %v %s", r.status, r.header, r.body)
	}
	aim := r.json(t)
	id := aim["id"].(string)
	if aim["kind"] != "aim" || !strings.HasSuffix(aim["uri"].(string), "/aims/"+id) || aim["status"] != "draft" {
		t.Fatalf("created aim: %s", r.body)
	}
	aim["statement"] = "By June 2027, 75 % of grade 3–5 students will be proficient."
	if r := n.doJSON("coordinator", "PUT", "/api/v1/aims/"+id, aim, "If-Match", `"7"`); r.status != 412 {
		t.Fatalf("stale If-Match: %d", r.status)
	}
	r = n.doJSON("coordinator", "PUT", "/api/v1/aims/"+id, aim, "If-Match", `"1"`)
	if r.status != 200 || r.json(t)["version"] != float64(2) {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	if r := n.doJSON("coordinator", "POST", "/api/v1/aims/"+id+"/publish", nil, "If-Match", `"2"`); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	if r := n.do("teacher", "GET", "/api/v1/aims/"+id, nil); r.status != 200 || r.json(t)["statement"] != aim["statement"] {
		t.Fatalf("read as teacher: %d %s", r.status, r.body)
	}
	if r := n.do("teacher", "GET", "/api/v1/aims/"+id+"/dashboard", nil); r.status != 200 {
		t.Fatalf("dashboard: %d %s", r.status, r.body)
	}
	if r := n.doJSON("coordinator", "POST", "/api/v1/aims/"+id+"/withdraw", nil); r.status != 200 {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	if r := n.do("coordinator", "GET", "/api/v1/aims/"+id+"/dashboard", nil); r.status != 404 {
		t.Fatalf("dashboard of a withdrawn aim: %d", r.status)
	}
	if r := n.do("coordinator", "DELETE", "/api/v1/aims/"+id, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := n.do("admin", "GET", "/api/v1/aims/"+id, nil); r.status != 404 {
		t.Fatalf("deleted aim: %d", r.status)
	}
}

// TestAimAuthorization: aims and progress are the coordinators' (and admins'); a teacher or a team's
// publisher reads what is published and changes nothing; what a caller may not see is 404.
func TestAimAuthorization(t *testing.T) {
	n := newTestNode(t)
	callers := []string{"", "teacher", "math", "coordinator", "admin"}
	table := map[string]map[string][5]int{
		"GET":       {"draft": {404, 404, 404, 200, 200}, "published": {404, 200, 200, 200, 200}, "withdrawn": {404, 404, 404, 200, 200}},
		"dashboard": {"draft": {404, 404, 404, 200, 200}, "published": {404, 200, 200, 200, 200}, "withdrawn": {404, 404, 404, 404, 404}},
		"PUT":       {"draft": {401, 404, 404, 200, 200}, "published": {401, 403, 403, 200, 200}, "withdrawn": {401, 404, 404, 409, 409}},
		"publish":   {"draft": {401, 404, 404, 200, 200}, "published": {401, 403, 403, 409, 409}, "withdrawn": {401, 404, 404, 200, 200}},
		"withdraw":  {"draft": {401, 404, 404, 409, 409}, "published": {401, 403, 403, 200, 200}, "withdrawn": {401, 404, 404, 409, 409}},
		"DELETE":    {"draft": {401, 404, 404, 204, 204}, "published": {401, 403, 403, 204, 204}, "withdrawn": {401, 404, 404, 204, 204}},
	}
	for route, byState := range table {
		for state, want := range byState {
			for i, who := range callers {
				id, _ := n.aimIn(state)
				var r response
				switch route {
				case "GET":
					r = n.do(who, "GET", "/api/v1/aims/"+id, nil)
				case "dashboard":
					r = n.do(who, "GET", "/api/v1/aims/"+id+"/dashboard", nil)
				case "PUT":
					r = n.doJSON(who, "PUT", "/api/v1/aims/"+id, aimJSON("Edited", testPracticeURI), "If-Match", "*")
				case "publish", "withdraw":
					r = n.doJSON(who, "POST", "/api/v1/aims/"+id+"/"+route, nil)
				case "DELETE":
					r = n.do(who, "DELETE", "/api/v1/aims/"+id, nil)
				}
				if r.status != want[i] {
					t.Errorf("%s %s aim as %q: got %d, want %d (%s)", route, state, who, r.status, want[i], r.body)
				}
			}
		}
	}
	_, aimURI := n.aimIn("published")
	progress := map[string]any{"aim": map[string]any{"uri": aimURI}, "points": []map[string]any{{"date": "2026-10-01", "n": 40, "value": 50}}}
	for i, who := range callers {
		wantAim := [5]int{401, 403, 403, 201, 201}[i]
		if r := n.createAim(who, aimJSON("Another aim", testPracticeURI)); r.status != wantAim {
			t.Errorf("create aim as %q: got %d, want %d", who, r.status, wantAim)
		}
		if r := n.doJSON(who, "POST", "/api/v1/progress", progress); r.status != wantAim {
			t.Errorf("create progress as %q: got %d, want %d (%s)", who, r.status, wantAim, r.body)
		}
	}
}

// mutate returns aimJSON with f applied.
func mutatedAim(f func(a map[string]any)) map[string]any {
	a := aimJSON("Fractions proficiency", testPracticeURI, testPracticeURI2)
	// Through JSON so that f sees plain maps and slices.
	raw, _ := json.Marshal(a)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	f(m)
	return m
}

func drivers(a map[string]any) []any { return a["drivers"].([]any) }
func ideas(a map[string]any) []any   { return a["change_ideas"].([]any) }
func item(xs []any, i int) map[string]any {
	return xs[i].(map[string]any)
}

func TestAimBadInputNamesTheField(t *testing.T) {
	n := newTestNode(t)
	many := func(k int, f func(i int) any) []any {
		out := make([]any, k)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	cases := []struct {
		name, field, rule string
		f                 func(a map[string]any)
	}{
		{"change idea names an unknown driver", "change_ideas[0].drivers[0]", "unknown_driver", func(a map[string]any) {
			item(ideas(a), 0)["drivers"] = []any{"no-such-driver"}
		}},
		{"secondary driver without a parent", "drivers[2].parent", "required", func(a map[string]any) {
			delete(item(drivers(a), 2), "parent")
		}},
		{"secondary driver whose parent is secondary", "drivers[3].parent", "not_primary", func(a map[string]any) {
			item(drivers(a), 3)["parent"] = "visual-models"
		}},
		{"secondary driver whose parent is unknown", "drivers[3].parent", "unknown_driver", func(a map[string]any) {
			item(drivers(a), 3)["parent"] = "nowhere"
		}},
		{"duplicate driver id", "drivers[1].id", "duplicate", func(a map[string]any) {
			item(drivers(a), 1)["id"] = "instruction"
		}},
		{"change idea with a driver's id", "change_ideas[1].id", "duplicate", func(a map[string]any) {
			item(ideas(a), 1)["id"] = "feedback"
		}},
		{"target date in the past", "target.by", "past", func(a map[string]any) {
			a["target"].(map[string]any)["by"] = "2020-06-01"
		}},
		{"target outside 0–100 for a percent measure", "target.value", "range", func(a map[string]any) {
			a["target"].(map[string]any)["value"] = 170
		}},
		{"practice link that is not a practice", "change_ideas[0].practices[0]", "format", func(a map[string]any) {
			item(ideas(a), 0)["practices"] = []any{"http://elsewhere.test/collections/0193a3c0-0000-7000-8000-000000000001"}
		}},
		{"mean measure without a scale", "outcome_measure.score_max", "required", func(a map[string]any) {
			om := a["outcome_measure"].(map[string]any)
			om["kind"] = "mean"
			delete(om, "score_min")
			delete(om, "score_max")
		}},
		{"too many drivers", "drivers", "max_items", func(a map[string]any) {
			a["drivers"] = many(101, func(i int) any { return map[string]any{"id": fmt.Sprintf("d%d", i), "level": "primary", "text": "x"} })
			a["change_ideas"] = []any{}
		}},
		{"too many change ideas", "change_ideas", "max_items", func(a map[string]any) {
			a["change_ideas"] = many(201, func(i int) any {
				return map[string]any{"id": fmt.Sprintf("c%d", i), "text": "x", "drivers": []any{"instruction"}}
			})
		}},
		{"too many practices in a change idea", "change_ideas[0].practices", "max_items", func(a map[string]any) {
			item(ideas(a), 0)["practices"] = many(501, func(i int) any { return fmt.Sprintf("%s%d", testPracticeURI[:len(testPracticeURI)-4], 1000+i) })
		}},
		{"too many different practices over all change ideas", "change_ideas", "max_items", func(a map[string]any) {
			a["change_ideas"] = many(3, func(i int) any {
				return map[string]any{"id": fmt.Sprintf("c%d", i), "text": "x", "drivers": []any{"instruction"},
					"practices": many(400, func(j int) any { return fmt.Sprintf("%s%04d", testPracticeURI[:len(testPracticeURI)-4], i*400+j) })}
			})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := n.createAim("coordinator", mutatedAim(c.f))
			wantProblem(t, r, 422, c.field)
			if !strings.Contains(string(r.body), `"rule":"`+c.rule+`"`) {
				t.Errorf("rule %q not named: %s", c.rule, r.body)
			}
		})
	}
	// Publishing needs the whole aim: statement, outcome measure, target, at least one driver.
	r := n.createAim("coordinator", map[string]any{"title": "Only a title"})
	if r.status != 201 {
		t.Fatalf("a draft with only a title: %d %s", r.status, r.body)
	}
	wantProblem(t, n.doJSON("coordinator", "POST", "/api/v1/aims/"+r.json(t)["id"].(string)+"/publish", nil), 422, "outcome_measure")
}

func TestProgressBadInputNamesTheField(t *testing.T) {
	n := newTestNode(t)
	_, published := n.aimIn("published")
	_, draft := n.aimIn("draft")
	_, withdrawn := n.aimIn("withdrawn")
	pts := func(ps ...[3]float64) []map[string]any {
		out := []map[string]any{}
		for i, p := range ps {
			out = append(out, map[string]any{"date": fmt.Sprintf("2026-%02d-01", int(p[0])), "n": int(p[1]), "value": p[2]})
			_ = i
		}
		return out
	}
	cases := []struct {
		name, field string
		body        map[string]any
	}{
		{"an aim nobody has", "aim.uri", map[string]any{"aim": map[string]any{"uri": n.url + "/aims/0193a3c0-0000-7000-8000-0000000000ff"}, "points": pts([3]float64{9, 30, 40})}},
		{"an aim that is not published", "aim.uri", map[string]any{"aim": map[string]any{"uri": draft}, "points": pts([3]float64{9, 30, 40})}},
		{"a withdrawn aim", "aim.uri", map[string]any{"aim": map[string]any{"uri": withdrawn}, "points": pts([3]float64{9, 30, 40})}},
		{"not an aim", "aim.uri", map[string]any{"aim": map[string]any{"uri": testPracticeURI}}},
		{"a percentage over 100", "points[1].value", map[string]any{"aim": map[string]any{"uri": published}, "points": pts([3]float64{9, 30, 40}, [3]float64{10, 30, 140})}},
		{"points out of date order", "points[1].date", map[string]any{"aim": map[string]any{"uri": published}, "points": pts([3]float64{10, 30, 40}, [3]float64{9, 30, 45})}},
		{"a date twice", "points[1].date", map[string]any{"aim": map[string]any{"uri": published}, "points": pts([3]float64{10, 30, 40}, [3]float64{10, 30, 45})}},
		{"no students", "points[0].n", map[string]any{"aim": map[string]any{"uri": published}, "points": pts([3]float64{10, 0, 40})}},
		{"a phase score off the scale", "phase_score[0].score", map[string]any{"aim": map[string]any{"uri": published}, "points": pts([3]float64{10, 30, 40}),
			"phase_score": []map[string]any{{"date": "2026-10-01", "score": 7}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantProblem(t, n.doJSON("coordinator", "POST", "/api/v1/progress", c.body), 422, c.field)
		})
	}
	var over []map[string]any
	for i := range 201 {
		over = append(over, map[string]any{"date": fmt.Sprintf("2026-%02d-%02d", 1+i/28, 1+i%28), "n": 20, "value": 50})
	}
	wantProblem(t, n.doJSON("coordinator", "POST", "/api/v1/progress", map[string]any{"aim": map[string]any{"uri": published}, "points": over}), 422, "points")
}

// TestProgressKeepsSmallGroupsInside: a point with too few students is kept in the district's own
// view and never published; a score file gives points by the same rules as a measure's.
func TestProgressKeepsSmallGroupsInside(t *testing.T) {
	n := newTestNode(t)
	_, aimURI := n.aimIn("published")
	r := n.doJSON("coordinator", "POST", "/api/v1/progress", map[string]any{"visibility": "network", "aim": map[string]any{"uri": aimURI},
		"points": []map[string]any{{"date": "2026-09-01", "n": 40, "value": 42.4}, {"date": "2026-10-01", "n": 6, "value": 80}, {"date": "2026-11-01", "n": 35, "value": 3}}})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	rec := r.json(t)
	id := rec["id"].(string)
	if strings.Contains(string(r.body), "2026-10-01") || rec["withheld"] != float64(1) {
		t.Fatalf("the point with n = 6 is in the record: %s", r.body)
	}
	pts := rec["points"].([]any)
	if item(pts, 0)["value"] != float64(42) || item(pts, 1)["coarse"] != "≤5%" {
		t.Errorf("published values not rounded and coarsened: %s", r.body)
	}
	team := n.do("coordinator", "GET", "/api/v1/progress/"+id+"/points", nil).json(t)
	if tp := team["team"].(map[string]any)["points"].([]any); len(tp) != 3 || item(tp, 1)["n"] != float64(6) {
		t.Errorf("the district's own view: %v", team["team"])
	}
	if other := n.do("teacher", "GET", "/api/v1/progress/"+id+"/points", nil).json(t); other["team"] != nil {
		t.Errorf("a teacher sees the district's own points: %v", other)
	}
	csv := "date,score\n"
	for i := range 12 {
		score := 60
		if i < 9 {
			score = 80
		}
		csv += fmt.Sprintf("2026-11-20,%d\n", score)
	}
	up := n.do("coordinator", "POST", "/api/v1/progress/"+id+"/scores", strings.NewReader(csv), "Content-Type", "text/csv")
	if up.status != 200 {
		t.Fatalf("score file: %d %s", up.status, up.body)
	}
	got := up.json(t)["progress"].(map[string]any)["points"].([]any)
	last := item(got, len(got)-1)
	if last["date"] != "2026-11-20" || last["n"] != float64(12) || last["value"] != float64(75) {
		t.Errorf("the score file's point: %v (9 of 12 at or above the cut of 70: 75%%)", last)
	}
	bad := n.do("coordinator", "POST", "/api/v1/progress/"+id+"/scores", strings.NewReader("date,score,student_name\n2026-11-20,80,Ann\n"), "Content-Type", "text/csv")
	if bad.status != 422 || strings.Contains(string(bad.body), "Ann") {
		t.Errorf("a score file with an identifier column: %d %s", bad.status, bad.body)
	}
}

// TestSearchFindsAimsAndFiltersByAim: kind=aim finds an aim by its change ideas' words; aim=<uri>
// lists the practices its change ideas link; once the aim is withdrawn it links nothing.
func TestSearchFindsAimsAndFiltersByAim(t *testing.T) {
	n := newTestNode(t)
	linked := n.publishPractice("Number line talks for unit fractions", "network")
	n.publishPractice("Fraction strips with partners", "network")
	linkedURI := n.do("math", "GET", "/api/v1/practices/"+linked, nil).json(t)["uri"].(string)
	r := n.createAim("coordinator", aimJSON("Fractions proficiency by June 2027", linkedURI))
	if r.status != 201 {
		t.Fatalf("create aim: %d %s", r.status, r.body)
	}
	aimID, aimURI := r.json(t)["id"].(string), r.json(t)["uri"].(string)
	if r := n.doJSON("coordinator", "POST", "/api/v1/aims/"+aimID+"/publish", nil); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	res := n.searchUntil("teacher", "kind=aim&q=error+analysis", func(m map[string]any) bool { return hasTitle(m, "Fractions proficiency by June 2027") })
	if got := hitTitles(res); len(got) != 1 {
		t.Errorf("kind=aim: %v, want the aim alone", got)
	}
	q := "aim=" + url.QueryEscape(aimURI)
	res = n.searchUntil("teacher", q, func(m map[string]any) bool { return len(hitTitles(m)) > 0 })
	if got := hitTitles(res); len(got) != 1 || got[0] != "Number line talks for unit fractions" {
		t.Errorf("aim filter: %v, want only the linked practice", got)
	}
	wantProblem(t, n.do("teacher", "GET", "/api/v1/search?aim="+url.QueryEscape(linkedURI), nil), 400, "aim")
	if r := n.doJSON("coordinator", "POST", "/api/v1/aims/"+aimID+"/withdraw", nil); r.status != 200 {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	if got := hitTitles(n.do("teacher", "GET", "/api/v1/search?"+q, nil).json(t)); len(got) != 0 {
		t.Errorf("a withdrawn aim still filters to %v", got)
	}
}
