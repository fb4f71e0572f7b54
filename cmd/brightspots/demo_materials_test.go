package main

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/corpus"
)

// TestDemoMaterialsArePDFs: for every practice the demo seeds, both generated files are accepted as
// PDFs by the artifact checks, and their cross-reference table points where a reader looks.
func TestDemoMaterialsArePDFs(t *testing.T) {
	gen := corpus.New(corpus.Config{Seed: 2026, Districts: []corpus.District{{URL: "http://127.0.0.1:8081", ID: "riverside"}}, Start: time.Now()})
	startxref := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`)
	for _, it := range gen.Generate(72) {
		pr := it.Practice
		for name, body := range map[string][]byte{"lesson-plan.pdf": lessonPlanPDF(&pr), "look-fors.pdf": lookForsPDF(&pr)} {
			media, err := practices.CheckArtifactHead(name, body[:min(512, len(body))])
			if err != nil || media != "application/pdf" {
				t.Fatalf("%s of %q: %q, %v", name, pr.Title, media, err)
			}
			m := startxref.FindSubmatch(body)
			if m == nil {
				t.Fatalf("%s of %q: no startxref", name, pr.Title)
			}
			off, _ := strconv.Atoi(string(m[1]))
			if !bytes.HasPrefix(body[off:], []byte("xref\n")) {
				t.Fatalf("%s of %q: startxref %d does not point at the xref table", name, pr.Title, off)
			}
		}
	}
}
