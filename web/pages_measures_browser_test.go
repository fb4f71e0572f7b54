package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/brightspots-nic/brightspots/web/idp"
)

// TestMeasuresInABrowser: a PLC member adds a weekly measure on the test page by typing points (a
// refused point is marked in its row, what was typed is kept), uploads a score file (a refused one
// is explained next to the file field), and reads the run and control charts at desktop and 360 px;
// once the test is published, the practice page shows the measure as small multiples. Every page
// passes axe-core with no violation, the CSP watch, and the 360 px / 200 % reflow check.
func TestMeasuresInABrowser(t *testing.T) {
	n := newTestNode(t)
	if _, err := idp.AddUser(context.Background(), n.srv.Repo().Bucket(), "pia@riverside.example", "publisher", "math-4", wsPassword); err != nil {
		t.Fatal(err)
	}
	pr := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Number line talks")).json(t)
	practiceID := pr["id"].(string)
	if r := n.doJSON("math", "POST", "/api/v1/practices/"+practiceID+"/publish", nil); r.status != 200 {
		t.Fatalf("publish practice: %d %s", r.status, r.body)
	}
	testID := n.plannedTest(pr["uri"].(string))

	ctx := browser(t)
	watch := tpWatchBrowser(t, ctx)
	wsSignIn(t, ctx, n.url, "pia@riverside.example")
	wsDo(t, ctx, "open the test", chromedp.Navigate(n.url+"/workspace/tests/"+testID), chromedp.WaitVisible(`#measures-h`))

	// Add a measure, typing its points; the second point has no students.
	row := func(i int, name string) string {
		return `#m-new-edit tbody tr:nth-child(` + string(rune('0'+i)) + `) input[name="` + name + `"]`
	}
	wsDo(t, ctx, "open the new measure", chromedp.Click(`#m-new-edit > summary`), chromedp.WaitVisible(`#m-new-name`))
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.SendKeys(`#m-new-name`, "Exit ticket: unit fractions (0–4)"),
		chromedp.SendKeys(`#m-new-score_min`, "0"), chromedp.SendKeys(`#m-new-score_max`, "4"),
		chromedp.SendKeys(`#m-new-baseline`, "2"),
		chromedp.SetValue(`#m-new-nd1`, "2026-09-18"), chromedp.SendKeys(`#m-new-nt1`, "Cycle 2: warm-up"),
	}
	for i, p := range [][3]string{{"2026-09-04", "22", "2.1"}, {"2026-09-11", "0", "2.3"}, {"2026-09-18", "21", "2.6"}} {
		steps = append(steps, chromedp.SetValue(row(i+1, "points.date"), p[0]), chromedp.SendKeys(row(i+1, "points.n"), p[1]), chromedp.SendKeys(row(i+1, "points.value"), p[2]))
	}
	steps = append(steps, chromedp.Click(`#m-new-edit button[type=submit]`))
	wsSubmit(t, ctx, "add the measure with a bad point", steps...)
	wsWaitText(t, ctx, `#m-new-p2-error`, "number of students measured (n) must be at least 1")
	if v, _ := chromedp.Run(ctx, chromedp.Value(`#m-new-nt1`)); v != "Cycle 2: warm-up" {
		t.Errorf("the note typed was not kept: %q", v)
	}
	wsExpectStatus(t, watch, "422")
	wsCheckPage(t, ctx, watch, "measures-refused")

	wsSubmit(t, ctx, "fix the point",
		chromedp.SetValue(row(2, "points.n"), ""), chromedp.SendKeys(row(2, "points.n"), "23"),
		chromedp.Click(`#m-new-edit button[type=submit]`))
	tpWaitURL(t, ctx, "measure=saved")
	wsWait(t, ctx, "the run chart to load", `[...document.querySelectorAll("img.measure-chart")].length > 0 && document.querySelector("img.measure-chart").complete && document.querySelector("img.measure-chart").naturalWidth > 0`)
	wsWaitText(t, ctx, `.measure-sentence`, "the run-chart rules need at least 10")

	// A score file with a name column is refused next to the file field and changes nothing.
	const up = `#m-exit-ticket-unit-fractions-0-4-scores`
	names := wsFile(t, "week-with-names.csv", []byte("date,score,Student Name\n2026-09-25,3,Zelda Quartermaine\n"))
	wsSubmit(t, ctx, "upload a score file with names", chromedp.SetUploadFiles(up, []string{names}),
		chromedp.Click(`form[action*="/scores"] button[type=submit]`))
	wsWaitText(t, ctx, up+`-error`, "looks like it holds a student identifier")
	if body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.textContent`)); strings.Contains(body, "Zelda") {
		t.Fatal("a cell of the refused file is shown")
	}
	wsExpectStatus(t, watch, "422")
	wsCheckPage(t, ctx, watch, "measures-file-refused")
	week := wsFile(t, "week.csv", []byte("date,score\n"+strings.Repeat("2026-09-25,3\n", 11)+strings.Repeat("2026-09-25,4\n", 11)))
	wsSubmit(t, ctx, "upload the score file", chromedp.SetUploadFiles(up, []string{week}),
		chromedp.Click(`form[action*="/scores"] button[type=submit]`))
	wsWaitText(t, ctx, `main .notice.ok`, "points for 1 dates computed")

	// The charts at 360 px: loaded, and no wider than the screen.
	wsDo(t, ctx, "open the control chart", chromedp.Click(`#measures-h ~ section details.measure-more:not([id]) > summary`))
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 780)); err != nil {
		t.Fatal(err)
	}
	wsWait(t, ctx, "both charts to load at 360 px", `[...document.querySelectorAll("img.measure-chart")].every(i => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width <= document.documentElement.clientWidth)`)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	wsCheckPage(t, ctx, watch, "measures-charts")

	// Publish (results, decision) through the API; the practice page shows small multiples.
	r := n.do("math", "POST", "/api/v1/tests/"+testID+"/results", strings.NewReader(scoreCSV(districtAPre, districtAPost)), "Content-Type", "text/csv")
	rec := r.json(t)["test"].(map[string]any)
	rec["learnings"], rec["decision"] = "The warm-up moved the exit ticket.", "adopt"
	delete(rec, "measures")
	if r := n.doJSON("math", "PUT", "/api/v1/tests/"+testID, rec, "If-Match", r.header.Get("ETag")); r.status != 200 {
		t.Fatalf("decision: %d %s", r.status, r.body)
	}
	if r := n.doJSON("math", "POST", "/api/v1/tests/"+testID+"/publish", nil); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	wsDo(t, ctx, "open the practice", chromedp.Navigate(n.url+"/practices/"+practiceID), chromedp.WaitVisible(`#measures-h`))
	wsWait(t, ctx, "the small multiple to load", `document.querySelector(".multiples-grid img").complete && document.querySelector(".multiples-grid img").naturalWidth > 0`)
	if alt, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".multiples-grid img").alt`)); !strings.Contains(alt, "Run chart of Exit ticket") {
		t.Errorf("small multiple's alternative text: %q", alt)
	}
	// The teacher pages' checks (the practice page carries its JSON-LD as a data script).
	checkAccessibility(t, ctx, "practice-measures")
	watch.check(t, ctx, "practice-measures")
	tpCheckReflow(t, ctx, "practice-measures")
	screenshot(t, ctx, "practice-measures")
}
