package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/federation"
	"github.com/brightspots-nic/brightspots/node"
	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/web/idp"
)

// multiTeamSession signs in a publisher who belongs to every team of teams.
func (n *testNode) multiTeamSession(email string, teams []string) *pageSession {
	n.t.Helper()
	a := idp.Account{Email: email, Name: "Multi Team", Roles: []practices.Role{practices.RolePublisher}, Teams: teams}
	if err := idp.AddAccount(context.Background(), n.srv.Repo().Bucket(), a, wsPassword); err != nil {
		n.t.Fatal(err)
	}
	return n.signedIn(email)
}

// TestWorkspaceShowsOneTeamAtATime: someone in 22 teams sees one team's lists and a switcher; the
// choice is in the query; a new practice defaults to the team shown, a new test to the practice's
// team and its minutes per session.
func TestWorkspaceShowsOneTeamAtATime(t *testing.T) {
	n := newTestNode(t)
	var teams []string
	for i := 1; i <= 22; i++ {
		teams = append(teams, fmt.Sprintf("team-%02d", i))
	}
	teams = append(teams, "math-4", "art-2") // art-2 sorts first: the practice's team is not the default one
	lead := n.multiTeamSession("lee@riverside.example", teams)
	id, uri := tpPublish(n, "Number line talks", nil) // math-4's, PT15M

	home := lead.page("/workspace")
	if !strings.Contains(home, `<select id="team-switch" name="team">`) || strings.Count(home, `class="ws-team"`) != 1 {
		t.Fatalf("no switcher, or more than one team shown:\n%s", home)
	}
	// The first of the caller's teams is shown (art-2); another is chosen by ?team=.
	if !strings.Contains(home, "Team art-2") || strings.Contains(home, "Number line talks") {
		t.Fatalf("the first team alone is not shown:\n%s", home)
	}
	if mt := lead.page("/workspace?team=math-4"); !strings.Contains(mt, "Team math-4") || !strings.Contains(mt, `/workspace/practices/`+id+`/edit`) {
		t.Fatalf("?team=math-4 does not show math-4's work:\n%s", mt)
	}
	other := lead.page("/workspace?team=team-05")
	if !strings.Contains(other, "Team team-05") || strings.Contains(other, "Number line talks") || !strings.Contains(other, `<option value="team-05" selected>`) {
		t.Fatalf("?team=team-05 does not show team-05 alone:\n%s", other)
	}
	// A team the caller is not in falls back to their first.
	if other := lead.page("/workspace?team=ela-3"); !strings.Contains(other, "Team art-2") {
		t.Fatal("an unknown ?team= is not ignored")
	}
	// The new-practice link carries the team shown.
	if !strings.Contains(other, `href="/workspace/practices/new?team=team-05"`) {
		t.Fatal("the new-practice link does not carry the team shown")
	}
	if form := lead.page("/workspace/practices/new?team=team-05"); !strings.Contains(form, `<option value="team-05" selected>`) {
		t.Fatal("the new-practice form does not default to the team shown")
	}
	// New practice from the math-4 view defaults to math-4.
	if form := lead.page("/workspace/practices/new?team=math-4"); !strings.Contains(form, `<option value="math-4" selected>`) {
		t.Fatal("the new-practice form does not default to the team shown")
	}
	// A test of math-4's practice defaults to math-4 and the practice's 15 minutes per session.
	form := lead.page("/workspace/tests/new?practice=" + url.QueryEscape(uri))
	if !strings.Contains(form, `<option value="math-4" selected>`) {
		t.Fatal("the new-test form does not default to the practice's team")
	}
	if !regexp.MustCompile(`name="dosage.minutes_per_session"[^>]*value="15"|value="15"[^>]*name="dosage.minutes_per_session"`).MatchString(form) {
		t.Fatal("the new-test form does not carry the practice's minutes per session")
	}
}

// TestTeachersListCollections: a teacher opens Collections and finds the published collection,
// linking to its reading page; drafts stay with the coordinators.
func TestTeachersListCollections(t *testing.T) {
	n := newTestNode(t)
	_, uri := tpPublish(n, "Number line talks", nil)
	col := func(title string) string {
		r := n.doJSON("coordinator", "POST", "/api/v1/collections", map[string]any{
			"title": title, "aim": "Raise grade 4 fraction proficiency", "visibility": "network",
			"description": "For grade 4 teams.", "items": []map[string]any{{"practice_uri": uri, "note": "Start here"}},
		})
		if r.status != 201 {
			t.Fatalf("collection: %d %s", r.status, r.body)
		}
		return r.json(t)["id"].(string)
	}
	pub := col("Fractions, grade 4")
	col("Still a draft")
	if r := n.doJSON("coordinator", "POST", "/api/v1/collections/"+pub+"/publish", nil); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	teacher := n.session("tia@riverside.example", "teacher", "")
	status, body := teacher.get("/collections")
	if status != http.StatusOK || !strings.Contains(body, `<a href="/collections/`+pub+`">Fractions, grade 4</a>`) {
		t.Fatalf("teacher's collections: %d\n%s", status, body)
	}
	if strings.Contains(body, "Still a draft") || strings.Contains(body, "/edit") {
		t.Fatal("the teacher's list shows a draft or an editing link")
	}
	if !strings.Contains(body, `href="/collections" aria-current="page"`) {
		t.Fatal("Collections is not in the teacher's menu")
	}
}

// TestSharingPicksFromPeers: on a node with peers, "Selected districts" is a set of tick boxes of
// those peers; the ticked ones are what the practice is shared with, and they stay ticked on edit.
func TestSharingPicksFromPeers(t *testing.T) {
	n := newTestNode(t, func(c *node.Config) {
		c.Federation.Peers = []federation.PeerConfig{
			{URL: "http://127.0.0.1:9", ID: "lakeview", Name: "Lakeview School District"},
			{URL: "http://127.0.0.1:10", ID: "hillcrest", Name: "Hillcrest Community Schools"},
		}
	})
	pub := n.session("pia@riverside.example", "publisher", "math-4")
	form := pub.page("/workspace/practices/new")
	if !strings.Contains(form, `name="shared_with" value="lakeview"`) || !strings.Contains(form, "Hillcrest Community Schools") {
		t.Fatalf("no peer picker on the new-practice form")
	}
	v := fullPractice("Number line talks")
	v.Set("visibility", "peers")
	v["shared_with"] = []string{"lakeview", "hillcrest"}
	r := pub.post("/workspace/practices/new", v)
	id := idFromPath(t, r.path)
	rec := n.do("math", "GET", "/api/v1/practices/"+id, nil).json(t)
	got := rec["shared_with"]
	if fmt.Sprint(got) != "[lakeview hillcrest]" {
		t.Fatalf("shared_with = %v", got)
	}
	if !strings.Contains(r.body, `value="hillcrest" id="f-shared_with-hillcrest" checked`) {
		t.Fatal("the edit page does not show the ticked districts")
	}
	// The test and collection forms offer the same picker, and keep every ticked district.
	if f := pub.page("/workspace/tests/new?practice=" + url.QueryEscape(rec["uri"].(string))); !strings.Contains(f, `name="shared_with" value="hillcrest"`) {
		t.Error("no peer picker on the new-test form")
	}
	coord := n.session("cora@riverside.example", "coordinator", "")
	if f := coord.page("/collections"); !strings.Contains(f, `name="shared_with" value="lakeview"`) {
		t.Error("no peer picker on the new-collection form")
	}
	cv := url.Values{"title": {"Across two districts"}, "description": {"Shared with two peers."}, "curator": {"Cora"},
		"visibility": {"peers"}, "shared_with": {"lakeview", "hillcrest"}}
	cr := coord.post("/collections", cv)
	cid := idFromPath(t, cr.path)
	if got := n.do("coordinator", "GET", "/api/v1/collections/"+cid, nil).json(t)["shared_with"]; fmt.Sprint(got) != "[lakeview hillcrest]" {
		t.Errorf("collection shared_with = %v (status %d, %s)", got, cr.status, cr.path)
	}
}
