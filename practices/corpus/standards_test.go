package corpus_test

import (
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/corpus"
)

// TestGeneratedRecordsPublish: every generated practice and test passes the validation a real
// publish applies (the demo publishes them through the repository), and every adaptation names an
// earlier generated practice.
func TestGeneratedRecordsPublish(t *testing.T) {
	g := corpus.New(corpus.Config{Seed: 2026})
	items := g.Generate(3000)
	uris := map[string]bool{}
	for _, it := range items {
		uris[it.Practice.URI] = true
	}
	for _, it := range items {
		p := it.Practice
		if err := practices.Validate(&p, practices.LevelPublish); err != nil {
			t.Fatalf("generated practice %q does not publish: %v", p.Title, err)
		}
		for _, b := range p.BasedOn {
			if !uris[b.URI] {
				t.Fatalf("practice %q adapts %s, which is not generated", p.Title, b.URI)
			}
		}
		for _, tt := range it.Tests {
			tt.Results = nil // computed by the server; the test's plan must still be complete
			tt.Decision, tt.PredictionMet = "", ""
			if err := practices.Validate(&tt, practices.LevelCreate); err != nil {
				t.Fatalf("generated test %q does not validate: %v", tt.Title, err)
			}
		}
	}
}
