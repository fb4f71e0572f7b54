package web_test

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

// addToken gives n a token named who with role (and team).
func (n *testNode) addToken(who, role, team string) {
	n.t.Helper()
	secret, _, err := n.srv.Tokens().Create(context.Background(), who, role, team)
	if err != nil {
		n.t.Fatal(err)
	}
	n.tokens[who] = secret
}

// aimJSON is a network aim on the fractions outcome (percent proficient, up) whose change ideas
// link the given practices: ideas[0] the first, ideas[1] the rest.
func aimJSON(title string, practiceURIs ...string) map[string]any {
	ideas := []map[string]any{
		{"id": "number-lines", "text": "Daily number line talks", "drivers": []string{"visual-models"}, "practices": practiceURIs[:1]},
		{"id": "error-analysis", "text": "Weekly error analysis of exit tickets", "drivers": []string{"feedback", "formative"}, "practices": practiceURIs[1:]},
	}
	return map[string]any{
		"title":      title,
		"visibility": "network",
		"statement":  "By June 2027, 70 % of grade 3–5 students in the network's schools will be proficient on the common fractions assessment.",
		"outcome_measure": map[string]any{"name": "Proficient on the common fractions assessment", "kind": "percent", "direction": "up",
			"definition": "Share of tested students scoring at least 70 on the spring-aligned form.", "score_min": 0, "score_max": 100, "cut": 70},
		"target": map[string]any{"value": 70, "by": "2027-06-15"},
		"drivers": []map[string]any{
			{"id": "instruction", "level": "primary", "text": "Conceptual fraction instruction"},
			{"id": "formative", "level": "primary", "text": "Formative assessment routines"},
			{"id": "visual-models", "level": "secondary", "text": "Visual models in every lesson", "parent": "instruction"},
			{"id": "feedback", "level": "secondary", "text": "Feedback within a day", "parent": "formative"},
		},
		"change_ideas": ideas,
		"curator":      "Network hub",
	}
}

type progressPoint struct {
	Date  string  `json:"date"`
	N     int     `json:"n"`
	Value float64 `json:"value"`
}

// publishProgress reports points towards the aim at aimURI as n's coordinator and publishes them.
func (n *testNode) publishProgress(aimURI string, points []progressPoint) string {
	n.t.Helper()
	body := map[string]any{"visibility": "network", "aim": map[string]any{"uri": aimURI}, "points": points,
		"notes":       []map[string]any{{"date": points[0].Date, "text": "Started the network's number line routine"}},
		"phase_score": []map[string]any{{"date": points[len(points)-1].Date, "score": 3}}}
	r := n.doJSON("coordinator", "POST", "/api/v1/progress", body)
	if r.status != 201 {
		n.t.Fatalf("create progress: %d %s", r.status, r.body)
	}
	id := r.json(n.t)["id"].(string)
	if r := n.doJSON("coordinator", "POST", "/api/v1/progress/"+id+"/publish", nil); r.status != 200 {
		n.t.Fatalf("publish progress: %d %s", r.status, r.body)
	}
	return id
}

type dashboardJSON struct {
	Aim struct {
		URI string `json:"uri"`
	} `json:"aim"`
	Diagram     json.RawMessage `json:"diagram"`
	ChangeIdeas []struct {
		ID        string `json:"id"`
		Practices []struct {
			URI      string `json:"uri"`
			Found    bool   `json:"found"`
			Title    string `json:"title"`
			Level    string `json:"evidence_level"`
			Tests    int    `json:"tests"`
			Learning *struct {
				Text string `json:"text"`
			} `json:"latest_learning"`
		} `json:"practices"`
	} `json:"change_ideas"`
	Districts []struct {
		District struct {
			ID string `json:"id"`
		} `json:"district"`
		Points   []progressPoint `json:"points"`
		Analysis json.RawMessage `json:"analysis"`
		Withheld int             `json:"withheld"`
	} `json:"districts"`
	Network []struct {
		Month     string  `json:"month"`
		Value     float64 `json:"value"`
		N         int     `json:"n"`
		Districts int     `json:"districts"`
	} `json:"network"`
}

func (n *testNode) dashboard(aimID string) (dashboardJSON, int) {
	n.t.Helper()
	r := n.do("teacher", "GET", "/api/v1/aims/"+aimID+"/dashboard", nil)
	var d dashboardJSON
	if r.status == 200 {
		if err := json.Unmarshal(r.body, &d); err != nil {
			n.t.Fatalf("dashboard: %v %s", err, r.body)
		}
	}
	return d, r.status
}

// networkSeries computes docs/aims.md's network series from the districts' points as typed:
// points below the minimum n are never published, so they drop out first; then, per calendar month,
// Σ(n·value)/Σn over each district's latest point in that month.
func networkSeries(minimumN int, districts ...[]progressPoint) map[string]float64 {
	type acc struct{ sum, n float64 }
	months := map[string]*acc{}
	for _, pts := range districts {
		latest := map[string]progressPoint{}
		for _, p := range pts {
			if p.N < minimumN {
				continue
			}
			if cur, ok := latest[p.Date[:7]]; !ok || p.Date > cur.Date {
				latest[p.Date[:7]] = p
			}
		}
		for m, p := range latest {
			if months[m] == nil {
				months[m] = &acc{}
			}
			months[m].sum += float64(p.N) * p.Value
			months[m].n += float64(p.N)
		}
	}
	out := map[string]float64{}
	for m, a := range months {
		out[m] = a.sum / a.n
	}
	return out
}

// TestAimDashboardAcrossTheNetwork is the "Done when" on three real nodes: a coordinator in
// A creates and publishes an aim whose change ideas link practices of A and B; A, B and C report
// progress; within 5 s every node's dashboard shows the same driver diagram, all three districts'
// series and the same network series, equal to the formula computed here; withdrawing the aim in A
// removes it and its dashboard everywhere, while B's and C's progress remains, marked.
func TestAimDashboardAcrossTheNetwork(t *testing.T) {
	nodes := network(t, "riverside", "lakeview", "hillcrest")
	a, b, c := nodes[0], nodes[1], nodes[2]
	for _, n := range nodes {
		n.addToken("coordinator", "coordinator", "")
	}
	practiceA := a.publishPractice("Number line talks for unit fractions", "network")
	practiceB := b.publishPractice("Error analysis of weekly exit tickets", "network")
	uriA := a.do("math", "GET", "/api/v1/practices/"+practiceA, nil).json(t)["uri"].(string)
	uriB := b.do("math", "GET", "/api/v1/practices/"+practiceB, nil).json(t)["uri"].(string)
	a.publishCycle(uriA, "Number lines, cycle 1", "", "Students who justified aloud placed fractions more accurately.", "adopt")

	r := a.doJSON("coordinator", "POST", "/api/v1/aims", aimJSON("Fractions proficiency by June 2027", uriA, uriB))
	if r.status != 201 {
		t.Fatalf("create aim: %d %s", r.status, r.body)
	}
	aim := r.json(t)
	aimID, aimURI := aim["id"].(string), aim["uri"].(string)
	if r := a.doJSON("coordinator", "POST", "/api/v1/aims/"+aimID+"/publish", nil); r.status != 200 {
		t.Fatalf("publish aim: %d %s", r.status, r.body)
	}
	for _, n := range []*testNode{b, c} {
		waitFor(t, n.srv.Repo().Node().ID+" mirrors the aim", func() bool { return n.mirrored(a, practices.KindAim, aimID) })
	}

	series := map[string][]progressPoint{
		"riverside": {{"2026-09-20", 120, 41}, {"2026-10-18", 118, 44}, {"2026-11-15", 121, 47}},
		"lakeview":  {{"2026-09-12", 64, 38}, {"2026-10-10", 60, 40}, {"2026-10-31", 62, 43}, {"2026-11-21", 66, 45}},
		// Hillcrest's late-October point has too few students: it stays in the district, and
		// October counts its earlier point.
		"hillcrest": {{"2026-09-25", 30, 52}, {"2026-10-05", 28, 50}, {"2026-10-29", 8, 90}, {"2026-11-26", 31, 55}},
	}
	progressB := b.publishProgress(aimURI, series["lakeview"])
	progressC := c.publishProgress(aimURI, series["hillcrest"])
	a.publishProgress(aimURI, series["riverside"])

	want := networkSeries(10, series["riverside"], series["lakeview"], series["hillcrest"])
	var first dashboardJSON
	for _, n := range nodes {
		waitFor(t, n.srv.Repo().Node().ID+"'s dashboard shows three districts and both practices", func() bool {
			d, status := n.dashboard(aimID)
			if status != 200 || len(d.Districts) != 3 || len(d.Network) != len(want) {
				return false
			}
			for _, ci := range d.ChangeIdeas {
				for _, p := range ci.Practices {
					if !p.Found {
						return false
					}
				}
			}
			return true
		})
		d, _ := n.dashboard(aimID)
		for _, np := range d.Network {
			if math.Abs(np.Value-want[np.Month]) > 1e-9 {
				t.Errorf("%s: network %s = %v, want %v", n.srv.Repo().Node().ID, np.Month, np.Value, want[np.Month])
			}
		}
		ids := []string{}
		for _, ds := range d.Districts {
			ids = append(ids, ds.District.ID)
		}
		sort.Strings(ids)
		if !reflect.DeepEqual(ids, []string{"hillcrest", "lakeview", "riverside"}) {
			t.Errorf("%s: districts %v", n.srv.Repo().Node().ID, ids)
		}
		if n == a {
			first = d
			continue
		}
		if string(d.Diagram) != string(first.Diagram) {
			t.Errorf("%s: driver diagram differs:\n%s\n%s", n.srv.Repo().Node().ID, d.Diagram, first.Diagram)
		}
		if !reflect.DeepEqual(d.Districts, first.Districts) || !reflect.DeepEqual(d.Network, first.Network) {
			t.Errorf("%s: progress differs from riverside's:\n%+v\n%+v", n.srv.Repo().Node().ID, d.Districts, first.Districts)
		}
		if !reflect.DeepEqual(d.ChangeIdeas, first.ChangeIdeas) {
			t.Errorf("%s: change ideas differ from riverside's:\n%+v\n%+v", n.srv.Repo().Node().ID, d.ChangeIdeas, first.ChangeIdeas)
		}
	}
	var diagram struct {
		Primary []struct {
			ID        string `json:"id"`
			Secondary []struct {
				ID          string   `json:"id"`
				ChangeIdeas []string `json:"change_ideas"`
			} `json:"secondary"`
			ChangeIdeas []string `json:"change_ideas"`
		} `json:"primary"`
	}
	if err := json.Unmarshal(first.Diagram, &diagram); err != nil {
		t.Fatal(err)
	}
	if len(diagram.Primary) != 2 || diagram.Primary[0].Secondary[0].ID != "visual-models" ||
		!reflect.DeepEqual(diagram.Primary[0].Secondary[0].ChangeIdeas, []string{"number-lines"}) ||
		!reflect.DeepEqual(diagram.Primary[1].ChangeIdeas, []string{"error-analysis"}) ||
		!reflect.DeepEqual(diagram.Primary[1].Secondary[0].ChangeIdeas, []string{"error-analysis"}) {
		t.Errorf("driver diagram: %s", first.Diagram)
	}
	numberLines := first.ChangeIdeas[0].Practices[0]
	if numberLines.URI != uriA || numberLines.Tests != 1 || numberLines.Level == "" || numberLines.Learning == nil ||
		numberLines.Learning.Text != "Students who justified aloud placed fractions more accurately." {
		t.Errorf("the number-line practice on the dashboard: %+v", numberLines)
	}
	for _, ds := range first.Districts {
		if ds.District.ID == "hillcrest" {
			if ds.Withheld != 1 || len(ds.Points) != 3 {
				t.Errorf("hillcrest's series: %+v (the point with n = 8 must stay in the district)", ds)
			}
		}
	}

	// Another district's coordinator cannot change the aim: it is changed only at its origin.
	mirroredAim := b.do("coordinator", "GET", "/api/v1/aims/"+aimID, nil)
	if r := b.doJSON("coordinator", "PUT", "/api/v1/aims/"+aimID, aimJSON("Taken over", uriA), "If-Match", mirroredAim.header.Get("ETag")); r.status != 409 {
		t.Errorf("lakeview's coordinator edits riverside's aim: %d %s", r.status, r.body)
	}
	for _, action := range []string{"withdraw", "publish"} {
		if r := b.doJSON("coordinator", "POST", "/api/v1/aims/"+aimID+"/"+action, nil); r.status != 409 {
			t.Errorf("lakeview's coordinator %ss riverside's aim: %d %s", action, r.status, r.body)
		}
	}

	// Withdrawing the aim in A removes it and its dashboard everywhere; progress stays, marked.
	cur := a.do("coordinator", "GET", "/api/v1/aims/"+aimID, nil)
	if r := a.doJSON("coordinator", "POST", "/api/v1/aims/"+aimID+"/withdraw", nil, "If-Match", cur.header.Get("ETag")); r.status != 200 {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	for _, n := range nodes {
		waitFor(t, n.srv.Repo().Node().ID+" no longer shows the aim", func() bool {
			_, status := n.dashboard(aimID)
			return status == 404 && n.do("teacher", "GET", "/api/v1/aims/"+aimID, nil).status == 404
		})
	}
	for _, x := range []struct {
		n  *testNode
		id string
	}{{b, progressB}, {c, progressC}} {
		if r := x.n.do("teacher", "GET", "/api/v1/progress/"+x.id, nil); r.status != 200 {
			t.Errorf("progress after the aim's withdrawal: %d", r.status)
		}
		r := x.n.do("teacher", "GET", "/api/v1/progress/"+x.id+"/aim-status", nil)
		if r.status != 200 || r.json(t)["aim_withdrawn"] != true {
			t.Errorf("progress not marked as referring to a withdrawn aim: %d %s", r.status, r.body)
		}
	}
}
