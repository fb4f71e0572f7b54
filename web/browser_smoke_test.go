package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestErrorPagesInABrowser: an unknown page shows the 404 page (accessible, CSP-clean), and the
// browser harness itself works: Chromium starts, axe-core runs, screenshots are written.
func TestErrorPagesInABrowser(t *testing.T) {
	n := newTestNode(t)
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(n.url+"/no/such/page")); err != nil {
		t.Fatal(err)
	}
	h1, err := chromedp.Run(ctx, chromedp.Text("h1"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h1, "Page not found") {
		t.Fatalf("404 page heading %q", h1)
	}
	checkAccessibility(t, ctx, "404")
	screenshot(t, ctx, "error-404")
}
