package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// mdLink finds the targets of Markdown links and images: [text](target) and [ref]: target.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)|(?m)^\s*\[[^\]]+\]:\s*(\S+)`)

// TestDocsLinksStayInTheRepository: every relative link in the README, the changelog and docs/
// names a file or folder that exists in the repository — none reaches outside it (a clone has no
// ../shared) and none is broken.
func TestDocsLinksStayInTheRepository(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(root, "README.md"), filepath.Join(root, "CHANGELOG.md")}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs/*.md under %s: %v", root, err)
	}
	files = append(files, docs...)
	checked := 0
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		for _, m := range mdLink.FindAllStringSubmatch(string(body), -1) {
			target := m[1] + m[2]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			path := filepath.Clean(filepath.Join(filepath.Dir(f), target))
			if path != root && !strings.HasPrefix(path, root+string(filepath.Separator)) {
				t.Errorf("%s links %q, outside the repository", rel, m[1]+m[2])
				continue
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s links %q, which does not exist", rel, m[1]+m[2])
			}
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("only %d relative links checked: the link pattern no longer matches the docs", checked)
	}
}
