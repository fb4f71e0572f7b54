package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/web/idp"
)

// TestAimsInABrowser: a Riverside coordinator creates a network aim in the aim form — a refused
// form marks the field and keeps what was typed; drivers and change ideas are added with the form's
// own buttons (no script needed), a secondary driver picks its primary, a change idea picks its
// drivers and finds a Lakeview practice by search — and publishes it. She reports Riverside's
// progress (a refused point is marked in its row) while Lakeview reports through the API; the
// dashboard then shows the driver diagram with its nested list, the change idea's practice, both
// districts' charts and the network series, at 1280 px and at 360 px without horizontal scroll.
// Every page passes axe-core with no violation, the CSP watch and the reflow check.
func TestAimsInABrowser(t *testing.T) {
	nodes := network(t, "riverside", "lakeview")
	a, b := nodes[0], nodes[1]
	if _, err := idp.AddUser(context.Background(), a.srv.Repo().Bucket(), "cora@riverside.example", "coordinator", "", wsPassword); err != nil {
		t.Fatal(err)
	}
	b.addToken("coordinator", "coordinator", "")
	practiceB := b.publishPractice("Error analysis of weekly exit tickets", "network")
	waitFor(t, "riverside mirrors lakeview's practice", func() bool { return a.mirrored(b, practices.KindPractice, practiceB) })

	ctx := browser(t)
	watch := tpWatchBrowser(t, ctx)
	wsSignIn(t, ctx, a.url, "cora@riverside.example")
	wsDo(t, ctx, "open the aims", chromedp.Navigate(a.url+"/aims"), chromedp.WaitVisible(`a[href="/aims/new"]`))
	wsCheckPage(t, ctx, watch, "aims-empty")
	wsSubmit(t, ctx, "start an aim", chromedp.Click(`a[href="/aims/new"]`))

	// Refused: no title, and a target in the past. What was typed stays.
	const statement = "By June 2027, 70 % of grade 3–5 students will be proficient on the common fractions assessment."
	wsSubmit(t, ctx, "create without a title",
		chromedp.SendKeys(`#aim-statement`, statement),
		chromedp.SetValue(`#aim-target-by`, "2020-06-15"),
		chromedp.Click(`form.aim-form button[value=save]`))
	wsWaitText(t, ctx, `#aim-title-error`, "required")
	wsWaitText(t, ctx, `#aim-target-by-error`, "past")
	if v, _ := chromedp.Run(ctx, chromedp.Value(`#aim-statement`)); v != statement {
		t.Errorf("the statement typed was not kept: %q", v)
	}
	wsExpectStatus(t, watch, "422")
	wsCheckPage(t, ctx, watch, "aim-refused")

	// The diagram: a primary and a secondary driver, typed; a button press gives them ids, so the
	// secondary can pick its parent and the change idea its drivers.
	wsSubmit(t, ctx, "type the drivers and add a change idea",
		chromedp.SendKeys(`#aim-title`, "Fractions by June 2027"),
		chromedp.SendKeys(`#aim-om-name`, "Proficient on the common fractions assessment"),
		chromedp.SendKeys(`#aim-om-score_min`, "0"), chromedp.SendKeys(`#aim-om-score_max`, "100"), chromedp.SendKeys(`#aim-om-cut`, "70"),
		chromedp.SendKeys(`#aim-target-value`, "70"), chromedp.SetValue(`#aim-target-by`, "2027-06-15"),
		chromedp.SendKeys(`#driver-0-text`, "Formative assessment routines"),
		chromedp.SendKeys(`#driver-1-text`, "Feedback within a day"),
		chromedp.Click(`button[value="add-idea"]`))
	wsDo(t, ctx, "pick the parent", chromedp.SetValue(`#driver-1-parent`, "formative-assessment-routines"))
	wsSubmit(t, ctx, "search for a practice",
		chromedp.SendKeys(`#idea-0-text`, "Weekly error analysis of exit tickets"),
		chromedp.Click(`input[name="idea.0.drivers"][value="feedback-within-a-day"]`),
		chromedp.SendKeys(`#idea-0-q`, "error analysis"),
		chromedp.Click(`button[value="search:0"]`))
	wsWaitText(t, ctx, `#idea-0`, "Error analysis of weekly exit tickets (Lakeview)")
	if v, _ := chromedp.Run(ctx, chromedp.Value(`#driver-1-parent`)); v != "formative-assessment-routines" {
		t.Errorf("the parent picked was not kept: %q", v)
	}
	wsCheckPage(t, ctx, watch, "aim-form")
	wsSubmit(t, ctx, "create the aim",
		chromedp.Click(`input[name="idea.0.add"]`),
		chromedp.Click(`form.aim-form button[value=save]`))
	tpWaitURL(t, ctx, "/edit?saved=created")
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[name="idea.0.practices"]:checked').length`)); n != 1 {
		t.Errorf("%d practices linked to the change idea, want 1", n)
	}
	wsSubmit(t, ctx, "publish the aim", chromedp.Click(`form[action$="/publish"] button`))
	wsWaitText(t, ctx, `main .notice`, "Published")
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	aimID := strings.TrimSuffix(strings.SplitN(strings.SplitN(loc, "/aims/", 2)[1], "?", 2)[0], "/edit")
	aimURI := a.url + "/aims/" + aimID

	// Progress: a refused point is marked in its row; then Riverside's three months are published.
	wsDo(t, ctx, "open the progress form", chromedp.Navigate(a.url+"/aims/"+aimID+"/progress"), chromedp.WaitVisible(`#points-h`))
	row := func(i int, name string) string {
		return `form[action$="/progress"] tbody tr:nth-child(` + string(rune('0'+i)) + `) input[name="` + name + `"]`
	}
	var steps []chromedp.Action[chromedp.Void]
	for i, p := range [][3]string{{"2026-09-20", "120", "41"}, {"2026-10-18", "0", "44"}, {"2026-11-15", "121", "47"}} {
		steps = append(steps, chromedp.SetValue(row(i+1, "points.date"), p[0]), chromedp.SendKeys(row(i+1, "points.n"), p[1]), chromedp.SendKeys(row(i+1, "points.value"), p[2]))
	}
	steps = append(steps, chromedp.Click(`form[action$="/progress"] button[type=submit]`))
	wsSubmit(t, ctx, "report with a bad point", steps...)
	wsWaitText(t, ctx, `#progress-p2-error`, "Point 2: The number of students measured (n) must be at least 1.")
	wsExpectStatus(t, watch, "422")
	wsCheckPage(t, ctx, watch, "aim-progress-refused")
	wsSubmit(t, ctx, "fix the point and publish",
		chromedp.SetValue(row(2, "points.n"), ""), chromedp.SendKeys(row(2, "points.n"), "118"),
		chromedp.Click(`form[action$="/progress"] button[type=submit]`))
	wsWaitText(t, ctx, `main .notice`, "Progress published")

	waitFor(t, "lakeview mirrors the aim", func() bool { return b.mirrored(a, practices.KindAim, aimID) })
	b.publishProgress(aimURI, []progressPoint{{"2026-09-12", 64, 38}, {"2026-10-10", 60, 40}, {"2026-11-21", 66, 45}})
	waitFor(t, "riverside's dashboard shows lakeview's progress", func() bool {
		d, status := a.dashboard(aimID)
		return status == 200 && len(d.Districts) == 2
	})

	waitFor(t, "lakeview's list of aims shows riverside's aim with its latest value", func() bool {
		r := b.do("coordinator", "GET", "/aims", nil, "Accept", "text/html")
		return r.status == 200 && strings.Contains(string(r.body), `href="/aims/`+aimID+`"`) && strings.Contains(string(r.body), "Latest network value: 46.3%")
	})

	wsDo(t, ctx, "open the dashboard", chromedp.Navigate(a.url+"/aims/"+aimID), chromedp.WaitVisible(`svg.driver-diagram`))
	for sel, want := range map[string]string{
		`#driver-list`:     "Secondary driver: Feedback within a day",
		`.idea`:            "Error analysis of weekly exit tickets, Lakeview",
		`.aim-latest`:      "to go to the target of 70%",
		`#districts-h + p`: "same value axis",
	} {
		wsWaitText(t, ctx, sel, want)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".multiples-grid img").length`)); n != 2 {
		t.Errorf("%d district charts, want 2", n)
	}
	wsWait(t, ctx, "every chart to load", `[...document.querySelectorAll("main img.chart")].every(i => { i.loading = "eager"; return i.complete && i.naturalWidth > 0 })`)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 780)); err != nil {
		t.Fatal(err)
	}
	wsWait(t, ctx, "no horizontal scroll at 360 px, charts within the screen",
		`document.documentElement.scrollWidth <= document.documentElement.clientWidth && [...document.querySelectorAll("main img.chart")].every(i => i.getBoundingClientRect().right <= document.documentElement.clientWidth)`)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	wsCheckPage(t, ctx, watch, "aim-dashboard")

	wsDo(t, ctx, "open the list of aims", chromedp.Navigate(a.url+"/aims"), chromedp.WaitVisible(`.aim-list`))
	wsWaitText(t, ctx, `.aim-list`, "Latest network value: 46.3% in November 2026")
	wsCheckPage(t, ctx, watch, "aims")
	wsDo(t, ctx, "open the network page", chromedp.Navigate(a.url+"/network"), chromedp.WaitVisible(`#net-aims-h`))
	wsWaitText(t, ctx, `.aim-list`, "23.7 percentage points to go to the target of 70%")

	// Everyday links: Lakeview's practice, read at Riverside, names the aim and its change idea.
	wsDo(t, ctx, "open lakeview's practice", chromedp.Navigate(a.url+"/practices/"+practiceB), chromedp.WaitVisible(`#aims-h`))
	wsWaitText(t, ctx, `#aims`, "Fractions by June 2027 (Riverside): change idea “Weekly error analysis of exit tickets”")

	// Withdrawing asks first, then removes the aim and its dashboard; Lakeview's progress stays.
	wsDo(t, ctx, "open the aim's form", chromedp.Navigate(a.url+"/aims/"+aimID+"/edit"), chromedp.WaitVisible(`#publish-h`))
	wsSubmit(t, ctx, "ask to withdraw", chromedp.Click(`a[href$="/confirm/withdraw"]`))
	wsWaitText(t, ctx, `main`, "Districts keep the progress they reported")
	wsCheckPage(t, ctx, watch, "aim-confirm-withdraw")
	if r := a.do("teacher", "GET", "/aims/"+aimID, nil, "Accept", "text/html"); r.status != 200 {
		t.Fatalf("asking to withdraw changed the aim: dashboard %d", r.status)
	}
	wsSubmit(t, ctx, "withdraw", chromedp.Click(`form[action$="/withdraw"] button`))
	wsWaitText(t, ctx, `main .notice`, "The aim was withdrawn")
	if r := a.do("teacher", "GET", "/aims/"+aimID, nil, "Accept", "text/html"); r.status != 404 {
		t.Errorf("the withdrawn aim's dashboard answers %d, not 404", r.status)
	}
	if r := b.do("coordinator", "GET", "/api/v1/progress", nil); r.status != 200 || !strings.Contains(string(r.body), aimURI) {
		t.Errorf("lakeview's progress towards the withdrawn aim is gone: %d %s", r.status, r.body)
	}
}
