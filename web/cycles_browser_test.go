package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/web/idp"
)

// cyCheck runs every page-level check (wsCheckPage: axe at 1280 px, CSP, console, reflow,
// screenshots) and runs axe again at 360 px, where the layout is a different one.
func cyCheck(t *testing.T, ctx context.Context, watch *tpWatch, name string) {
	t.Helper()
	wsCheckPage(t, ctx, watch, name)
	wsDo(t, ctx, "phone width", chromedp.EmulateViewport(360, 780))
	checkAccessibility(t, ctx, name+" at 360 px")
	wsDo(t, ctx, "desktop width", chromedp.EmulateViewport(1280, 900))
}

// TestCyclesInABrowser: a Lakeview publisher adapts Riverside's practice from its page (a refused
// form says what is missing next to the field), Lakeview runs two cycles of the adaptation, and a
// Lakeview teacher reads the second cycle's page with its ramp (also as printed). In Riverside, the
// practice's team sees the adaptation and both cycles in the workspace's activity panel, and the
// practice page's forest plot links each test's row label to the test's page.
func TestCyclesInABrowser(t *testing.T) {
	nodes := network(t, "riverside", "lakeview")
	a, b := nodes[0], nodes[1]
	bg := context.Background()
	for _, n := range []*testNode{a, b} {
		if _, err := idp.AddUser(bg, n.srv.Repo().Bucket(), "pia@"+n.srv.Repo().Node().ID+".example", "publisher", "math-4", wsPassword); err != nil {
			t.Fatal(err)
		}
	}
	practiceID, practiceURI := tpTestedPractice(a, "Fraction number line talks", nil)
	waitFor(t, "lakeview mirrors riverside's practice", func() bool { return b.mirrored(a, practices.KindPractice, practiceID) })

	ctx := browser(t)
	watch := tpWatchBrowser(t, ctx)
	wsSignIn(t, ctx, b.url, "pia@lakeview.example")

	// Adapt this practice, from its page at Lakeview.
	wsDo(t, ctx, "open riverside's practice at lakeview", chromedp.Navigate(b.url+"/practices/"+practiceID), chromedp.WaitVisible(`#evidence`))
	wsSubmit(t, ctx, "adapt it", chromedp.Click(`a[href="/workspace/practices/`+practiceID+`/adapt"]`))
	cyCheck(t, ctx, watch, "adapt")
	wsSubmit(t, ctx, "submit without saying what changed", chromedp.Click(`form.ws-form button[type=submit]`))
	wsWaitText(t, ctx, `#f-changes-error`, "What your team changed is required")
	if inv, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("f-changes").getAttribute("aria-invalid")`)); inv != "true" {
		t.Errorf("the refused field is not marked invalid: %q", inv)
	}
	wsExpectStatus(t, watch, "422")
	cyCheck(t, ctx, watch, "adapt-refused")
	wsSubmit(t, ctx, "say what changed",
		chromedp.SendKeys(`#f-changes`, "Sentence frames for English learners."),
		chromedp.Click(`form.ws-form button[type=submit]`))
	tpWaitURL(t, ctx, "/edit?saved=created")
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	adID := strings.SplitN(strings.TrimPrefix(loc, b.url+"/workspace/practices/"), "/", 2)[0]
	ad := b.do("math", "GET", "/api/v1/practices/"+adID, nil).json(t)
	if ad["status"] != "draft" || ad["based_on"].([]any)[0].(map[string]any)["uri"] != practiceURI {
		t.Fatalf("the adaptation made in the browser: %v", ad)
	}
	ad["visibility"] = "network"
	if r := b.doJSON("math", "PUT", "/api/v1/practices/"+adID, ad, "If-Match", `"1"`); r.status != 200 {
		t.Fatalf("share the adaptation: %d %s", r.status, r.body)
	}
	if r := b.doJSON("math", "POST", "/api/v1/practices/"+adID+"/publish", nil); r.status != 200 {
		t.Fatalf("publish the adaptation: %d %s", r.status, r.body)
	}
	_, t1URI := b.publishCycle(ad["uri"].(string), "Grade 4 newcomers, winter 2026 — cycle 1", "", "Frames on the table helped English learners justify.", "adapt")
	t2ID, _ := b.publishCycle(ad["uri"].(string), "Grade 4 newcomers, spring 2026 — cycle 2", t1URI, "Partners who share a home language helped most.", "adopt")

	// The second cycle's page, with its ramp; printed, the buttons are gone and the ramp stays.
	wsDo(t, ctx, "open the second cycle", chromedp.Navigate(b.url+"/tests/"+t2ID), chromedp.WaitVisible(`#ramp`))
	if steps := tpTexts(t, ctx, `#ramp li`); len(steps) != 2 || !strings.Contains(steps[0], "Cycle 1") || !strings.Contains(steps[1], "(this page)") {
		t.Errorf("ramp = %q", steps)
	}
	if !strings.Contains(strings.Join(tpTexts(t, ctx, `#learnings`), " "), "Partners who share a home language helped most.") {
		t.Error("the test page does not show what the team learned")
	}
	cyCheck(t, ctx, watch, "test-page")
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[".actions", "#ramp", "#learnings", "#results"].map(s => { const e = document.querySelector(s); return s + "=" + (!!e && getComputedStyle(e).display !== "none"); }).join(" ")`))
	if want := ".actions=false #ramp=true #learnings=true #results=true"; err != nil || shown != want {
		t.Errorf("printed test page: %s (want %s) %v", shown, want, err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""}); err != nil {
		t.Fatal(err)
	}

	// Riverside: the practice's team sees what Lakeview did, in the workspace.
	waitFor(t, "riverside's activity", func() bool {
		r := a.do("math", "GET", "/api/v1/activity", nil)
		return r.status == 200 && len(r.json(t)["items"].([]any)) == 3
	})
	wsDo(t, ctx, "sign out of lakeview", chromedp.Navigate(a.url+"/"))
	wsSignIn(t, ctx, a.url, "pia@riverside.example")
	wsDo(t, ctx, "open the workspace", chromedp.Navigate(a.url+"/workspace"), chromedp.WaitVisible(`#activity-h`))
	items := tpTexts(t, ctx, `.activity > li`)
	if len(items) != 3 || !strings.Contains(strings.Join(items, "\n"), "adapted your practice") ||
		!strings.Contains(strings.Join(items, "\n"), "tested an adaptation of your practice") {
		t.Errorf("activity panel = %q", items)
	}
	cyCheck(t, ctx, watch, "workspace-activity")

	// The practice page: each forest-plot row label is a link to its test's page (in the wide
	// plot a desktop shows, and in the phone layout).
	wsDo(t, ctx, "open the practice", chromedp.Navigate(a.url+"/practices/"+practiceID), chromedp.WaitVisible(`.forest-wide svg`))
	if narrow := tpTexts(t, ctx, `.forest-narrow svg a`); len(narrow) < 4 {
		t.Errorf("phone forest plot links = %q", narrow)
	}
	links := tpTexts(t, ctx, `.forest-wide svg a`)
	if len(links) < 4 {
		t.Errorf("forest plot links = %q", links)
	}
	if !strings.Contains(strings.Join(tpTexts(t, ctx, `#ramps`), " "), "Grade 4 newcomers, spring 2026 — cycle 2") {
		t.Error("the practice page does not show lakeview's ramp")
	}
	cyCheck(t, ctx, watch, "practice-cycles")
	wsSubmit(t, ctx, "follow a forest-plot label", chromedp.Click(`.forest-wide svg a`))
	wsWait(t, ctx, "a test page", `location.pathname.startsWith("/tests/") && !!document.querySelector("#learnings")`)
	watch.check(t, ctx, "test page from the forest plot")
}
