package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/web/idp"
)

// TestEverydayPagesInABrowser: what a lead in many teams, and a teacher, see — the team switcher,
// removing a material and deleting a draft through their confirmation steps, and the teacher's list
// of collections — each page checked with axe at 1280 and 360 px, without horizontal scrolling.
func TestEverydayPagesInABrowser(t *testing.T) {
	n := newTestNode(t)
	bg := context.Background()
	teams := []string{"art-2", "math-4", "science-5", "ela-3"}
	lead := idp.Account{Email: "lee@riverside.example", Roles: []practices.Role{practices.RolePublisher}, Teams: teams}
	if err := idp.AddAccount(bg, n.srv.Repo().Bucket(), lead, wsPassword); err != nil {
		t.Fatal(err)
	}
	id, uri := tpPublish(n, "Number line talks", nil)
	// A published collection for the teacher's list.
	col := n.doJSON("coordinator", "POST", "/api/v1/collections", map[string]any{
		"title": "Fractions, grade 4", "aim": "Raise grade 4 fraction proficiency", "visibility": "network",
		"description": "For grade 4 teams.", "items": []map[string]any{{"practice_uri": uri, "note": "Start here"}},
	})
	if col.status != 201 {
		t.Fatalf("collection: %d %s", col.status, col.body)
	}
	if r := n.doJSON("coordinator", "POST", "/api/v1/collections/"+col.json(t)["id"].(string)+"/publish", nil); r.status != 200 {
		t.Fatalf("publish collection: %d", r.status)
	}

	ctx := browser(t)
	watch := tpWatchBrowser(t, ctx)
	wsSignIn(t, ctx, n.url, "lee@riverside.example")
	wsDo(t, ctx, "open the workspace", chromedp.Navigate(n.url+"/workspace"), chromedp.WaitVisible(`#team-switch`))
	wsWaitText(t, ctx, `section.ws-team h2`, "Team art-2")
	wsCheckPage(t, ctx, watch, "workspace-switcher")
	wsSubmit(t, ctx, "switch to math-4", chromedp.SetValue(`#team-switch`, "math-4"), chromedp.Click(`form.ws-switch button`))
	tpWaitURL(t, ctx, "team=math-4")
	wsWaitText(t, ctx, `section.ws-team`, "Number line talks")

	// A draft with a material: remove the material, then delete the draft, each in two steps.
	a := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Fraction strips relay"))
	draft := a.json(t)["id"].(string)
	tpAttach(n, draft, "relay-cards.pdf", []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"))
	wsDo(t, ctx, "open the draft", chromedp.Navigate(n.url+"/workspace/practices/"+draft+"/edit"), chromedp.WaitVisible(`#materials-h`))
	wsDo(t, ctx, "ask to remove the file", chromedp.Click(`#materials-h ~ ul details.confirm summary`), chromedp.WaitVisible(`form[action$="/remove"] button`))
	wsCheckPage(t, ctx, watch, "practice-remove-step")
	wsSubmit(t, ctx, "remove the file", chromedp.Click(`form[action$="/remove"] button`))
	wsWaitText(t, ctx, `main .notice.ok`, "Removed relay-cards.pdf from the materials.")
	wsDo(t, ctx, "ask to delete the draft", chromedp.Click(`.ws-undo details.confirm summary`), chromedp.WaitVisible(`form[action$="/delete"] button`))
	wsSubmit(t, ctx, "delete the draft", chromedp.Click(`form[action$="/delete"] button`))
	wsWaitText(t, ctx, `main .notice.ok`, "Deleted “Fraction strips relay”.")
	if r := n.do("math", "GET", "/api/v1/practices/"+draft, nil); r.status != 404 {
		t.Fatalf("the deleted draft reads as %d", r.status)
	}
	if body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.textContent`)); !strings.Contains(body, "Team art-2") {
		t.Error("after deleting, the workspace is not shown")
	}
	_ = id

	// A teacher lists the published collections.
	if _, err := idp.AddUser(bg, n.srv.Repo().Bucket(), "tia@riverside.example", "teacher", "", wsPassword); err != nil {
		t.Fatal(err)
	}
	wsSubmit(t, ctx, "sign out", chromedp.Click(`header.site .who button`))
	wsSignIn(t, ctx, n.url, "tia@riverside.example")
	wsDo(t, ctx, "open collections", chromedp.Click(`header.site a[href="/collections"]`), chromedp.WaitVisible(`main ul.ws-list`))
	wsWaitText(t, ctx, `main ul.ws-list`, "Fractions, grade 4")
	wsCheckPage(t, ctx, watch, "collections-teacher")
}
