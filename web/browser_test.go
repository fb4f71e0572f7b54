package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/brightspots-nic/brightspots/internal/testenv"
)

// Browser tests drive Debian's Chromium, headless, with chromedp. Helpers here are shared by every
// page test: start a browser, sign in, run axe-core, save screenshots for review.

// browser starts a fresh headless Chromium for t and returns its context (cancelled at cleanup).
func browser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	exe := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		testenv.Missing(t, "chromium not installed: run ./scripts/tools.sh as root, or apt-get install chromium")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// signInBrowser signs in through the node's /login and the embedded provider's form, by keyboard.
func signInBrowser(t *testing.T, ctx context.Context, nodeURL, email, password string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(nodeURL+"/login"),
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, email),
		chromedp.SendKeys(`#password`, password+"\n"),
		// The provider's own page has a <main> too: wait for the node's page with its sign-out form,
		// which only a signed-in page of the node shows, so no redirect is still in flight.
		chromedp.WaitVisible(`form[action="/logout"]`),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", email, err)
	}
}

// axeViolation is one axe-core finding.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// checkAccessibility runs axe-core (WCAG 2.0, 2.1 and 2.2 A and AA rules, target size included) on the current page and fails the
// test on any violation, naming the rule and the elements.
func checkAccessibility(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), ".tools", "axe", "axe.min.js"))
	if err != nil {
		testenv.Missing(t, "axe-core not installed: run ./scripts/tools.sh (fetches axe-core from the npm registry)")
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](string(src))); err != nil {
		t.Fatalf("load axe on %s: %v", page, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a","wcag2aa","wcag21a","wcag21aa","wcag22aa"]}, rules: {"target-size": {enabled: true}}}).then(r => JSON.stringify(r.violations))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", page, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		t.Fatalf("axe result: %v", err)
	}
	for _, v := range vs {
		var targets []string
		for _, n := range v.Nodes {
			b, _ := json.Marshal(n.Target)
			targets = append(targets, string(b))
		}
		t.Errorf("accessibility (%s) on %s: %s [%s] at %s", v.Impact, page, v.Help, v.ID, strings.Join(targets, ", "))
	}
}

// screenshot saves the page at desktop (1280 px) and phone (360 px) widths under testdata-out/screenshots
// for review; the run keeps them (git ignores the folder).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := filepath.Join(testenv.RepoRoot(), "testdata-out", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		label  string
		width  int64
		height int64
	}{{"desktop", 1280, 900}, {"phone", 360, 780}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w.width, w.height)); err != nil {
			t.Fatalf("viewport: %v", err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+w.label+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_ = chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900))
	tourScreenshot(t, ctx, name)
}

// tourScreenshot writes the README's screenshot of page name, if it is one, when
// UPDATE_SCREENSHOTS=1.
func tourScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if tour, ok := tourScreenshots[name]; ok && os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		file, anchor, _ := strings.Cut(tour, "#")
		writeTourScreenshot(t, ctx, file, anchor)
	}
}

// tourScreenshots are the pages of the README's tour by role: the browser test that reaches each
// page writes docs/screenshots/<file> when UPDATE_SCREENSHOTS=1, and TestTourScreenshotsExist
// checks, on every run, that each file is there, small, 1280 px wide and shown in the README. A
// "#id" after the file name starts the screen at that element instead of the top of the page.
var tourScreenshots = map[string]string{
	"search-filtered":      "teacher-search.png",                 // TestTeacherFindsAPracticeFromAnotherDistrict
	"practice":             "teacher-practice.png",               // TestTeacherFindsAPracticeFromAnotherDistrict
	"practice-edit":        "plc-practice-edit.png",              // TestPublishAndCurateInABrowser
	"test-results":         "plc-test-results.png#results-h",     // TestPublishAndCurateInABrowser
	"collection-edit":      "coordinator-collection.png#items-h", // TestPublishAndCurateInABrowser
	"admin-tokens-revoked": "admin-tokens.png",                   // TestPublishAndCurateInABrowser
}

// writeTourScreenshot saves a screen of the page at 1280×800 — the first, or the one that starts at
// the element with id anchor — re-encoded with the best PNG compression, for the README.
func writeTourScreenshot(t *testing.T, ctx context.Context, file, anchor string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("tour screenshot %s: %v", file, err)
	}
	scroll := `window.scrollTo(0, 0)`
	if anchor != "" {
		scroll = `document.getElementById(` + strconv.Quote(anchor) + `).scrollIntoView()`
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](scroll)); err != nil {
		t.Fatalf("tour screenshot %s: %v", file, err)
	}
	defer func() { _ = chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)) }()
	raw, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("tour screenshot %s: %v", file, err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("tour screenshot %s: %v", file, err)
	}
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(testenv.RepoRoot(), "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
