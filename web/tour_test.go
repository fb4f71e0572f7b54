package web_test

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/internal/testenv"
)

// TestTourScreenshotsExist: the README's tour shows every screenshot the browser tests write
// (UPDATE_SCREENSHOTS=1 go test ./web/ -run 'InABrowser|FromAnotherDistrict' makes them anew), and
// each is there, a PNG 1280 px wide and small enough for a README.
func TestTourScreenshotsExist(t *testing.T) {
	root := testenv.RepoRoot()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for page, tour := range tourScreenshots {
		file, _, _ := strings.Cut(tour, "#")
		body, err := os.ReadFile(filepath.Join(root, "docs", "screenshots", file))
		if err != nil {
			t.Errorf("%s (the %q page): %v; run the browser tests with UPDATE_SCREENSHOTS=1", file, page, err)
			continue
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(body))
		if err != nil || cfg.Width != 1280 {
			t.Errorf("%s: not a 1280-px-wide PNG (%d px, %v)", file, cfg.Width, err)
		}
		if len(body) > 400<<10 {
			t.Errorf("%s: %d KiB, more than a README should carry", file, len(body)>>10)
		}
		if !strings.Contains(string(readme), "docs/screenshots/"+file) {
			t.Errorf("the README's tour does not show %s", file)
		}
	}
}
