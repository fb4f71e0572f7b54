package corpus_test

import (
	"strings"
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

// TestStandardsMatchGrade: an elementary practice's grade-templated standard codes are its grade's —
// a kindergarten place-value practice gets K.NBT.A.1, not the high-school code grades compared as
// strings gave it ("KG" > "09") — and high-school practices still get high-school codes.
func TestStandardsMatchGrade(t *testing.T) {
	g := corpus.New(corpus.Config{Seed: 2026})
	seen := map[string]bool{}
	for _, it := range g.Generate(3000) {
		p := it.Practice
		if len(p.GradeLevels) == 0 {
			continue
		}
		band := practices.GradeBand(p.GradeLevels[0])
		for _, st := range p.Standards {
			code := st.Code
			highCode := strings.Contains(code, ".HS") || strings.Contains(code, ".9-10.") || strings.Contains(code, ".11-12.")
			switch band {
			case practices.GradeBand("KG"), practices.GradeBand("03"):
				// (Some topics name fixed codes across bands, such as a history reading standard for 6–8
				// and 9–10; the math codes are by grade.)
				if highCode && strings.HasPrefix(code, "CCSS.MATH.CONTENT.") {
					t.Fatalf("practice %q for grades %v has the high-school standard %s", p.Title, p.GradeLevels, code)
				}
				if p.GradeLevels[0] == "KG" && strings.Contains(code, ".NBT.") {
					if code != "CCSS.MATH.CONTENT.K.NBT.A.1" {
						t.Fatalf("kindergarten practice %q has the standard %s", p.Title, code)
					}
					seen["kindergarten place value"] = true
				}
			case practices.GradeBand("09"):
				if highCode {
					seen["high school"] = true
				}
			}
		}
	}
	if !seen["kindergarten place value"] || !seen["high school"] {
		t.Fatalf("the corpus has no kindergarten place-value practice or no high-school code: %v", seen)
	}
}
