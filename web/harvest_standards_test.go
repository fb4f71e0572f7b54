package web_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/brightspots-nic/brightspots/practices/standards"
	"github.com/brightspots-nic/brightspots/web/idp"
)

const (
	sampleItemURI = "https://case.example.org/uri/2241d10d-3a45-559e-9ec3-32cc439a5006" // 4.NF.A.2 in the sample
	sampleItemID  = "2241d10d-3a45-559e-9ec3-32cc439a5006"
)

// importSample imports the sample CASE framework into n's store, as `brightspots standards import` does.
func importSample(t *testing.T, n *testNode) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "practices", "standards", "testdata", "sample-case.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fw, err := standards.ParseCASE(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := standards.NewCatalog(n.srv.Repo().Bucket()).Import(context.Background(), fw); err != nil {
		t.Fatal(err)
	}
}

func TestStandardsPickerWithoutJavaScript(t *testing.T) {
	n := newTestNode(t)
	s := n.session("pia@riverside.example", "publisher", "math-4")
	if body := s.page("/workspace/practices/new"); strings.Contains(body, "standards-options") {
		t.Fatal("the picker shows before any framework is imported")
	}
	importSample(t, n)
	body := s.page("/workspace/practices/new")
	if !strings.Contains(body, `<input type="text" id="f-standards-pick" name="standards_pick" list="standards-options"`) ||
		!strings.Contains(body, `<option value="4.NF.A.2">4.NF.A.2 — Compare two fractions with different numerators`) {
		t.Fatalf("no picker on the practice form:\n%s", body)
	}
	// Picked from the list, typed by code, typed by CFItem URI, and a code of no imported framework.
	form := fullPractice("Benchmark fractions")
	form.Set("visibility", "public")
	form.Set("standards", "3.oa.a.1\nhttps://case.example.org/uri/"+"9d2d7a1c-0000-5000-8000-000000000000\nCCSS.MATH.CONTENT.4.NF.A.1")
	form.Set("standards_pick", "4.NF.A.2")
	r := s.post("/workspace/practices/new", form)
	if r.status != 200 || !strings.Contains(r.path, "/edit?saved=created") {
		t.Fatalf("create: %d %s\n%s", r.status, r.path, r.body)
	}
	id := strings.Split(strings.TrimPrefix(r.path, "/workspace/practices/"), "/")[0]
	if v := textareaValue(r.body, "f-standards"); !strings.Contains(v, "4.NF.A.2") || !strings.Contains(v, "3.OA.A.1") {
		t.Errorf("standards field after save: %q", v)
	}
	rec := n.do("math", "GET", "/api/v1/practices/"+id, nil).json(t)
	byCode := map[string]map[string]any{}
	for _, st := range rec["standards"].([]any) {
		m := st.(map[string]any)
		byCode[m["code"].(string)] = m
	}
	picked := byCode["4.NF.A.2"]
	if picked == nil || picked["uri"] != sampleItemURI || picked["case_id"] != sampleItemID ||
		!strings.HasPrefix(picked["statement"].(string), "Compare two fractions") || picked["framework"] != "Sample District Mathematics Standards (test framework)" {
		t.Errorf("picked standard stored as %v", picked)
	}
	if typed := byCode["3.OA.A.1"]; typed == nil || typed["case_id"] == nil {
		t.Errorf("a typed code of an imported item was not aligned: %v", byCode)
	}
	if free := byCode["CCSS.MATH.CONTENT.4.NF.A.1"]; free == nil || free["case_id"] != nil || free["uri"] != nil {
		t.Errorf("a code of no imported framework changed: %v", free)
	}

	// Published, the practice is found by the standard's code, its statement's words and its URI.
	if r := n.doJSON("math", "POST", "/api/v1/practices/"+id+"/publish", nil); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	for _, q := range []string{"standard=4.NF.A.2", "q=" + url.QueryEscape("benchmark fraction numerators"), "q=" + url.QueryEscape(sampleItemURI)} {
		res := n.searchUntil("teacher", q, func(res map[string]any) bool { return hasTitle(res, "Benchmark fractions") })
		if !hasTitle(res, "Benchmark fractions") {
			t.Errorf("search %s does not find the practice: %v", q, hitTitles(res))
		}
	}
}

// TestStandardsPickerInABrowser: Chromium, keyboard typing into the picker, axe with 0 violations.
func TestStandardsPickerInABrowser(t *testing.T) {
	n := newTestNode(t)
	importSample(t, n)
	if _, err := idp.AddUser(context.Background(), n.srv.Repo().Bucket(), "pia@riverside.example", "publisher", "math-4", wsPassword); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	watch := tpWatchBrowser(t, ctx)
	wsSignIn(t, ctx, n.url, "pia@riverside.example")
	wsDo(t, ctx, "open the new practice form", chromedp.Navigate(n.url+"/workspace/practices/new"), chromedp.WaitVisible(`#f-standards-pick`))
	wsCheckPage(t, ctx, watch, "standards-picker")
	options, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#standards-options option").length`))
	if err != nil || options != 7 {
		t.Fatalf("picker offers %d options (%v), want the sample's 7 coded items", options, err)
	}
	wsDo(t, ctx, "type a title", chromedp.SendKeys(`#f-title`, "Fraction benchmarks"))
	wsDo(t, ctx, "type into the picker", chromedp.Focus(`#f-standards-pick`), chromedp.KeyEvent("4.NF.A.2"))
	wsSubmit(t, ctx, "create the draft", chromedp.Click(`main form button[type=submit]`, chromedp.NodeVisible))
	tpWaitURL(t, ctx, "/edit?saved=created")
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#f-standards").value`))
	if err != nil || !strings.Contains(got, "4.NF.A.2") {
		t.Fatalf("standards after saving with the picker: %q (%v)", got, err)
	}
	wsCheckPage(t, ctx, watch, "standards-picker-saved")
}
