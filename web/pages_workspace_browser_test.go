package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/brightspots-nic/brightspots/web/idp"
)

// Browser tests of the workspace, coordinator and admin pages in headless Chromium. Every page
// type is checked with axe-core (WCAG 2.1 AA), for CSP violations and console errors (the teacher
// pages' watch), for inline script, inline style and event-handler attributes, for a CSRF token in
// every POST form, at 360 px and at 200 % zoom, and photographed at desktop and phone widths.

// wsCheckPage runs every page-level check on the current page.
func wsCheckPage(t *testing.T, ctx context.Context, watch *tpWatch, name string) {
	t.Helper()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const p = [];
		// A JSON-LD block is data, not script (the CSP does not run it).
		document.querySelectorAll('script:not([src]):not([type="application/ld+json"])').forEach(() => p.push("inline script"));
		document.querySelectorAll("*").forEach(e => {
			for (const a of e.attributes) if (a.name.startsWith("on")) p.push("event handler attribute " + a.name + " on " + e.tagName);
			if (e.hasAttribute("style")) p.push("style attribute on " + e.tagName);
		});
		document.querySelectorAll("form").forEach(f => {
			if (f.method.toLowerCase() !== "post") return;
			const field = f.querySelector("input[type=hidden][name=csrf_token]");
			if (!(field && field.value)) p.push("POST form without a CSRF token field: " + f.action);
			if (new URL(f.action).searchParams.has("csrf_token")) p.push("CSRF token in a form's URL: " + f.action);
			// The CSRF middleware reads only a multipart body's first part.
			if (f.enctype === "multipart/form-data" && f.elements[0] !== field) p.push("multipart form whose first field is not the CSRF token: " + f.action);
		});
		return p;
	})()`))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", name, p)
	}
	checkAccessibility(t, ctx, name)
	watch.check(t, ctx, name)
	tpCheckReflow(t, ctx, name)
	screenshot(t, ctx, name)
}

// wsDo runs steps and fails the test with what was being done.
func wsDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wsWait waits until the JavaScript expression cond holds on a completely loaded page.
func wsWait(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		// Errors while a page navigates are expected: ask again.
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && (`+cond+`)`))
		if err == nil && ok {
			return
		}
	}
	t.Fatalf("waiting for %s", what)
}

// wsSubmit runs steps that end in a navigation (a form submitted, a link followed) and waits for
// the new page to load completely: the old page is marked first, so it cannot pass for the new one.
func wsSubmit(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	wsDo(t, ctx, what, append([]chromedp.Action[chromedp.Void]{chromedp.Evaluate[chromedp.Void](`window.__wsOld = true`)}, steps...)...)
	wsWait(t, ctx, what+": the next page", `window.__wsOld === undefined`)
}

// wsWaitText waits until the element sel exists and its text contains want.
func wsWaitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	s, _ := json.Marshal(sel)
	w, _ := json.Marshal(want)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const e = document.querySelector(`+string(s)+`);
			return document.readyState === "complete" && !!e && e.textContent.includes(`+string(w)+`); })()`))
		if err == nil && ok {
			return
		}
	}
	t.Fatalf("waiting for %s to say %q; it says %q", sel, want, tpTexts(t, ctx, sel))
}

// wsExpectStatus drops from the watch the console's report of a response with this status: the
// refused form or upload the test just caused on purpose. It fails if there is none.
func wsExpectStatus(t *testing.T, watch *tpWatch, status string) {
	t.Helper()
	watch.mu.Lock()
	defer watch.mu.Unlock()
	for i, p := range watch.problems {
		if strings.Contains(p, "Failed to load resource: the server responded with a status of "+status) {
			watch.problems = append(watch.problems[:i], watch.problems[i+1:]...)
			return
		}
	}
	t.Errorf("expected a response with status %s; the console saw %q", status, watch.problems)
}

// wsSignIn signs in and waits until the sign-in's redirects have landed back on the node.
func wsSignIn(t *testing.T, ctx context.Context, nodeURL, email string) {
	t.Helper()
	signInBrowser(t, ctx, nodeURL, email, wsPassword)
	js, _ := json.Marshal(email)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		// Errors while the sign-in's redirects navigate are expected: ask again.
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && !/^\/(idp|login|auth)\b/.test(location.pathname) &&
			[...document.querySelectorAll("header.site .who span")].some(e => e.textContent.includes(`+string(js)+`))`))
		if err == nil && ok {
			return
		}
	}
	t.Fatalf("not signed in as %s", email)
}

func wsFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPublishAndCurateInABrowser: a Riverside publisher creates a practice (a refused form keeps
// what was typed), uploads an artifact (a refused file is explained next to the field, an accepted
// one goes through the API with the progress bar's script), plans a test, sees a privacy refusal
// for a score table with a name column, fixes it, sees the results card, records the decision and
// publishes both; Lakeview's search finds the practice. A Lakeview coordinator then builds a
// collection from search results of both districts (add, reorder, annotate, aim, publish) and reads
// the network page, and a Lakeview admin creates and revokes an API token.
func TestPublishAndCurateInABrowser(t *testing.T) {
	nodes := network(t, "riverside", "lakeview")
	a, b := nodes[0], nodes[1]
	bg := context.Background()
	if _, err := idp.AddUser(bg, a.srv.Repo().Bucket(), "pia@riverside.example", "publisher", "math-4", wsPassword); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	watch := tpWatchBrowser(t, ctx)
	wsSignIn(t, ctx, a.url, "pia@riverside.example")

	wsDo(t, ctx, "open the workspace", chromedp.Navigate(a.url+"/workspace"), chromedp.WaitVisible(`a[href="/workspace/practices/new"]`))
	wsCheckPage(t, ctx, watch, "workspace")

	// A form refused for a missing title keeps what was typed.
	wsSubmit(t, ctx, "start a practice", chromedp.Click(`a[href="/workspace/practices/new"]`))
	wsSubmit(t, ctx, "submit without a title",
		chromedp.SendKeys(`#f-summary`, "Students place fractions on a number line & justify each placement."),
		chromedp.Click(`form.ws-form button[type=submit]`))
	wsWaitText(t, ctx, `#f-title-error`, "Title is required")
	if v, _ := chromedp.Run(ctx, chromedp.Value(`#f-summary`)); v != "Students place fractions on a number line & justify each placement." {
		t.Fatalf("the summary was not kept: %q", v)
	}
	if focused, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`)); focused != "error-summary" {
		t.Errorf("focus after a refused form is on %q, not the summary of problems", focused)
	}
	wsExpectStatus(t, watch, "422")
	wsCheckPage(t, ctx, watch, "practice-new-refused")

	const title = "Fraction number line talks"
	wsSubmit(t, ctx, "complete the practice",
		chromedp.SendKeys(`#f-title`, title),
		chromedp.SendKeys(`#f-description`, "Draw a number line.\nStudents place fraction cards and justify."),
		chromedp.SendKeys(`#f-key_moves`, "Students justify aloud\nTeacher records misconceptions"),
		chromedp.Click(`#f-subjects-math`), chromedp.Click(`#f-grade_levels-04`),
		chromedp.SendKeys(`#f-time_required`, "15"), chromedp.Click(`#f-visibility-network`),
		chromedp.Click(`form.ws-form button[type=submit]`))
	tpWaitURL(t, ctx, "/edit?saved=created")
	practiceURL, _ := chromedp.Run(ctx, chromedp.Location())
	practiceURL = strings.SplitN(practiceURL, "?", 2)[0]
	wsCheckPage(t, ctx, watch, "practice-edit")

	// Artifacts, through workspace.js and the API: a refused file, then a lesson plan.
	html := wsFile(t, "slides.html", []byte("<!DOCTYPE html><html><body>not allowed</body></html>"))
	wsDo(t, ctx, "upload a refused file", chromedp.SetUploadFiles(`#f-file`, []string{html}), chromedp.Click(`form.ws-upload button[type=submit]`))
	wsWaitText(t, ctx, `#f-file-error`, "The file was refused: files ending in .html are not accepted")
	if inv, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("f-file").getAttribute("aria-invalid") + " " + document.activeElement.id`)); inv != "true f-file" {
		t.Errorf("refused file field: aria-invalid and focus %q", inv)
	}
	wsExpectStatus(t, watch, "415")
	pdf := wsFile(t, "lesson-plan.pdf", []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"))
	wsSubmit(t, ctx, "upload a lesson plan", chromedp.SetUploadFiles(`#f-file`, []string{pdf}), chromedp.Click(`form.ws-upload button[type=submit]`))
	tpWaitURL(t, ctx, "uploaded=")
	wsWaitText(t, ctx, `main .notice.ok`, "Uploaded lesson-plan.pdf.")
	if !strings.Contains(a.logs.String(), `"method":"PATCH","route":"/api/v1/uploads/:id","status":204`) {
		t.Error("the upload did not go through the resumable API with progress (workspace.js and tus-js-client)")
	}

	// Plan a test.
	wsSubmit(t, ctx, "plan a test", chromedp.Click(`a[href^="/workspace/tests/new?practice="]`))
	wsCheckPage(t, ctx, watch, "test-new")
	wsSubmit(t, ctx, "fill the plan",
		chromedp.SendKeys(`#f-title`, "Spring cycle"),
		chromedp.SendKeys(`#f-question`, "Do number line talks raise fraction scores?"),
		chromedp.SendKeys(`#f-prediction-text`, "Scores rise by at least 0.3 standard deviations."),
		chromedp.SendKeys(`#f-prediction-value`, "0.3"),
		chromedp.SendKeys(`#f-assessment-name`, "Unit 5 fractions"),
		chromedp.SendKeys(`#f-assessment-score_min`, "0"), chromedp.SendKeys(`#f-assessment-score_max`, "100"),
		chromedp.SendKeys(`#f-assessment-proficiency_cut`, "65"),
		chromedp.SendKeys(`#f-cohort-classrooms`, "2"), chromedp.SendKeys(`#f-cohort-students_planned`, "24"),
		chromedp.SetValue(`#f-start_date`, "2026-02-01"), chromedp.SetValue(`#f-end_date`, "2026-03-15"),
		chromedp.SendKeys(`#f-dosage-sessions_planned`, "12"), chromedp.SendKeys(`#f-dosage-sessions_delivered`, "11"),
		chromedp.SendKeys(`#f-dosage-minutes_per_session`, "15"),
		chromedp.Click(`form.ws-form button[type=submit]`))

	// A score table with a name column is refused next to the file field; the fixed one is accepted.
	names := wsFile(t, "scores-with-names.csv", []byte("Student Name,pre,post\nZelda Quartermaine,55,61\n"))
	wsSubmit(t, ctx, "upload scores with names", chromedp.SetUploadFiles(`#f-scores`, []string{names}),
		chromedp.Click(`form[action*="/results"] button[type=submit]`))
	wsWaitText(t, ctx, `#f-scores-error`, "The header of column 1 looks like it holds a student identifier")
	if body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.textContent`)); strings.Contains(body, "Zelda") {
		t.Fatal("a cell of the refused file is shown")
	}
	wsExpectStatus(t, watch, "422")
	wsCheckPage(t, ctx, watch, "test-scores-refused")
	clean := wsFile(t, "scores.csv", []byte(scoreCSV(districtAPre, districtAPost)))
	wsSubmit(t, ctx, "upload clean scores", chromedp.SetUploadFiles(`#f-scores`, []string{clean}),
		chromedp.Click(`form[action*="/results"] button[type=submit]`))
	wsWaitText(t, ctx, `table.results caption`, "effect size g = 0.72")
	wsWait(t, ctx, "the results chart to load", `document.querySelector("img.chart").complete && document.querySelector("img.chart").naturalWidth > 0`)
	if alt, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("img.chart").alt`)); !strings.Contains(alt, "effect size g = 0.72") {
		t.Errorf("chart alternative text %q", alt)
	}
	wsCheckPage(t, ctx, watch, "test-results")

	// The decision, then publish the test and the practice.
	wsSubmit(t, ctx, "record the decision",
		chromedp.SendKeys(`#f-learnings`, "Explaining placement aloud helped most."),
		chromedp.Click(`#f-decision-adopt`),
		chromedp.Click(`form:has(input[name=section][value=act]) button[type=submit]`))
	tpWaitURL(t, ctx, "saved=1")
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".checklist li.missing").length`)); n != 0 {
		t.Fatalf("the test's checklist lists %d missing items: %q", n, tpTexts(t, ctx, ".checklist li.missing"))
	}
	// A test waits for its practice: publishing it first is refused with why.
	testURL := strings.SplitN(mustLocation(t, ctx), "?", 2)[0]
	wsSubmit(t, ctx, "publish the test too early", chromedp.Click(`#publish`))
	wsWaitText(t, ctx, `main .notice.error`, "publish the practice this test belongs to first")
	wsExpectStatus(t, watch, "422")
	wsDo(t, ctx, "open the practice", chromedp.Navigate(practiceURL), chromedp.WaitVisible(`#publish`))
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".checklist li.missing").length`)); n != 0 {
		t.Fatalf("the practice's checklist lists %d missing items: %q", n, tpTexts(t, ctx, ".checklist li.missing"))
	}
	wsSubmit(t, ctx, "publish the practice", chromedp.Click(`#publish`))
	tpWaitURL(t, ctx, "published=1")
	wsWaitText(t, ctx, `main .notice.ok`, "Published.")
	wsCheckPage(t, ctx, watch, "practice-published")
	wsDo(t, ctx, "back to the test", chromedp.Navigate(testURL), chromedp.WaitVisible(`#publish`))
	wsSubmit(t, ctx, "publish the test", chromedp.Click(`#publish`))
	tpWaitURL(t, ctx, "published=1")
	wsWaitText(t, ctx, `main .notice.ok`, "Published.")
	// The published test's page offers to withdraw it, behind a confirmation step.
	wsDo(t, ctx, "open the withdraw step", chromedp.Click(`.ws-undo details.confirm summary`), chromedp.WaitVisible(`form[action$="/withdraw"] button`))
	wsCheckPage(t, ctx, watch, "test-withdraw-step")
	waitFor(t, "Lakeview's search finds the practice", func() bool { return b.finds(title) })

	// Lakeview: a coordinator builds a collection from both districts' practices.
	b.publishPractice("Fraction strips relay", "network")
	waitFor(t, "Lakeview indexed its own practice", func() bool { return b.finds("Fraction strips relay") })
	if _, err := idp.AddUser(bg, b.srv.Repo().Bucket(), "cora@lakeview.example", "coordinator", "", wsPassword); err != nil {
		t.Fatal(err)
	}
	wsSignIn(t, ctx, b.url, "cora@lakeview.example")
	wsDo(t, ctx, "open collections", chromedp.Navigate(b.url+"/collections"), chromedp.WaitVisible(`#f-title`))
	wsCheckPage(t, ctx, watch, "collections")
	wsSubmit(t, ctx, "create a collection",
		chromedp.SendKeys(`#f-title`, "Fractions across the network"),
		chromedp.SendKeys(`#f-aim`, "By June, 80% of grade 4 students reach proficiency in fractions."),
		chromedp.SendKeys(`#f-description`, "Fraction practices tested in our districts."),
		chromedp.Click(`form.ws-form button[type=submit]`))
	wsSubmit(t, ctx, "search both districts", chromedp.SendKeys(`#q`, "fraction\n"))
	tpWaitURL(t, ctx, "q=fraction")
	wsWaitText(t, ctx, `#add-h + form + p, section[aria-labelledby=add-h] p[role=status]`, "2 practices found")
	for i := 1; i <= 2; i++ {
		wsSubmit(t, ctx, "add a practice", chromedp.Click(`form[action$="/items"] button[type=submit]`))
		wsWait(t, ctx, fmt.Sprintf("%d items", i), fmt.Sprintf(`document.querySelectorAll(".ws-item").length === %d`, i))
		wsWaitText(t, ctx, `main .notice.ok`, "Added to the collection.")
	}
	before := tpTexts(t, ctx, ".ws-item-title a")
	if len(before) != 2 || !strings.Contains(strings.Join(before, "|"), title) {
		t.Fatalf("collection items %q", before)
	}
	wsSubmit(t, ctx, "move the first practice down", chromedp.Click(`button[name=op][value="down:0"]`))
	tpWaitURL(t, ctx, "#item-1")
	if after := tpTexts(t, ctx, ".ws-item-title a"); len(after) != 2 || after[0] != before[1] || after[1] != before[0] {
		t.Fatalf("after moving down: %q (was %q)", after, before)
	}
	wsSubmit(t, ctx, "annotate", chromedp.SendKeys(`#f-note-0`, "Start with this one."), chromedp.Click(`#items button[name=op][value=save]`))
	tpWaitURL(t, ctx, "saved=1")
	if note, _ := chromedp.Run(ctx, chromedp.Value(`#f-note-0`)); note != "Start with this one." {
		t.Fatalf("note %q", note)
	}
	wsSubmit(t, ctx, "publish the collection", chromedp.Click(`#publish`))
	tpWaitURL(t, ctx, "published=1")
	wsWaitText(t, ctx, `main .notice.ok`, "Published.")
	colID := recordPath.FindStringSubmatch(mustLocation(t, ctx))
	if colID == nil {
		t.Fatalf("no collection id in %s", mustLocation(t, ctx))
	}
	col := b.do("admin", "GET", "/api/v1/collections/"+colID[1], nil).json(t)
	items, _ := col["items"].([]any)
	riversideAt := 0 // the practice first before the move is second after it
	if before[0] == title {
		riversideAt = 1
	}
	if col["status"] != "published" || !strings.HasPrefix(col["aim"].(string), "By June, 80%") || len(items) != 2 ||
		items[0].(map[string]any)["note"] != "Start with this one." || items[riversideAt].(map[string]any)["practice_uri"] != a.url+"/practices/"+idFromPath(t, practiceURL) {
		t.Fatalf("the collection as stored: %v", col)
	}
	wsDo(t, ctx, "search again", chromedp.Navigate(strings.SplitN(mustLocation(t, ctx), "?", 2)[0]+"?q=fraction"), chromedp.WaitVisible(`#q`))
	wsCheckPage(t, ctx, watch, "collection-edit")

	wsDo(t, ctx, "open the network page", chromedp.Navigate(b.url+"/network"), chromedp.WaitVisible(`table.ws-peers`))
	wsWaitText(t, ctx, `table.ws-peers tbody`, "Riverside")
	wsCheckPage(t, ctx, watch, "network")

	// Lakeview: an admin creates a token (shown once) and revokes it.
	if _, err := idp.AddUser(bg, b.srv.Repo().Bucket(), "ada@lakeview.example", "admin", "", wsPassword); err != nil {
		t.Fatal(err)
	}
	wsSubmit(t, ctx, "sign out", chromedp.Click(`header.site .who button`))
	wsWaitText(t, ctx, `header.site .who a[href^="/login"]`, "Sign in")
	wsSignIn(t, ctx, b.url, "ada@lakeview.example")
	wsDo(t, ctx, "open the tokens", chromedp.Navigate(b.url+"/admin/tokens"), chromedp.WaitVisible(`#f-name`))
	wsSubmit(t, ctx, "create a token", chromedp.SendKeys(`#f-name`, "data warehouse"), chromedp.SetValue(`#f-role`, "teacher"),
		chromedp.Click(`form.ws-form button[type=submit]`))
	secret, _ := chromedp.Run(ctx, chromedp.Value(`#new-secret`))
	if !strings.HasPrefix(secret, "bsk_") {
		t.Fatalf("secret %q", secret)
	}
	b.tokens["warehouse"] = secret
	if r := b.do("warehouse", "GET", "/api/v1/me", nil); r.status != 200 {
		t.Fatalf("the new token: %d", r.status)
	}
	wsCheckPage(t, ctx, watch, "admin-tokens")
	// Revoking takes two steps: the first opens the explanation, the second revokes.
	wsDo(t, ctx, "ask to revoke", chromedp.Click(`td details.confirm summary`), chromedp.WaitVisible(`form[action$="/revoke"] button`))
	wsCheckPage(t, ctx, watch, "admin-tokens-confirm")
	wsSubmit(t, ctx, "revoke it", chromedp.Click(`form[action$="/revoke"] button`))
	wsWaitText(t, ctx, `main .notice.ok`, "Revoked token")
	tourScreenshot(t, ctx, "admin-tokens-revoked") // the README's admin page: no secret on it
	if r := b.do("warehouse", "GET", "/api/v1/me", nil); r.status != 401 {
		t.Fatalf("the revoked token: %d", r.status)
	}
}

func mustLocation(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestPublishByKeyboardOnly: a publisher creates and publishes a practice with the keyboard alone
// (Tab, typing, Space, Enter), and focus is visible on everything Tab reaches.
func TestPublishByKeyboardOnly(t *testing.T) {
	n := newTestNode(t)
	if _, err := idp.AddUser(context.Background(), n.srv.Repo().Bucket(), "pia@riverside.example", "publisher", "math-4", wsPassword); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	wsSignIn(t, ctx, n.url, "pia@riverside.example")
	wsDo(t, ctx, "open the workspace", chromedp.Navigate(n.url+"/workspace"), chromedp.WaitVisible(`main`))

	// tab presses Tab until the focused element matches want (a JS expression on el), checking on
	// every stop that the focus is visible.
	tab := func(what, want string) {
		t.Helper()
		for range 200 {
			wsDo(t, ctx, "Tab", chromedp.KeyEvent("\t"))
			state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const el = document.activeElement; const s = getComputedStyle(el);
				const ring = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
				return (`+want+` ? "yes" : "no") + (ring ? "" : " no-ring:" + el.tagName + "#" + el.id); })()`))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(state, "no-ring") {
				t.Errorf("focus is not visible on %s", strings.SplitN(state, "no-ring:", 2)[1])
			}
			if strings.HasPrefix(state, "yes") {
				return
			}
		}
		t.Fatalf("could not reach %s with Tab", what)
	}
	typeInto := func(id, text string) {
		t.Helper()
		tab("#"+id, `el.id === "`+id+`"`)
		wsDo(t, ctx, "type into "+id, chromedp.KeyEvent(text))
	}
	tab("New practice", `el.getAttribute("href") === "/workspace/practices/new"`)
	wsDo(t, ctx, "follow New practice", chromedp.KeyEvent("\r"))
	tpWaitURL(t, ctx, "/workspace/practices/new")
	typeInto("f-title", "Think-pair-share with number lines")
	typeInto("f-summary", "Pairs discuss where a fraction goes before placing it.")
	typeInto("f-description", "Pose a fraction.\rPairs discuss.\rOne pair places it and explains.")
	typeInto("f-key_moves", "Every student talks\rPlacement is justified")
	typeInto("f-time_required", "10")
	tab("the math checkbox", `el.id === "f-subjects-math"`)
	wsDo(t, ctx, "check math", chromedp.KeyEvent(" "))
	tab("the grade 4 checkbox", `el.id === "f-grade_levels-04"`)
	wsDo(t, ctx, "check grade 4", chromedp.KeyEvent(" "))
	tab("Create draft", `el.tagName === "BUTTON" && el.textContent.includes("Create draft")`)
	wsDo(t, ctx, "create", chromedp.KeyEvent("\r"))
	tpWaitURL(t, ctx, "/edit?saved=created")
	tab("Publish", `el.id === "publish"`)
	wsDo(t, ctx, "publish", chromedp.KeyEvent("\r"))
	tpWaitURL(t, ctx, "published=1")
	wsWaitText(t, ctx, `main .notice.ok`, "Published.")
	r := n.do("math", "GET", "/api/v1/practices?status=published", nil)
	if !strings.Contains(string(r.body), `"title":"Think-pair-share with number lines"`) || !strings.Contains(string(r.body), `"key_moves":["Every student talks","Placement is justified"]`) {
		t.Fatalf("published by keyboard: %s", r.body)
	}
}
