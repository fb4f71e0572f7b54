package search

import (
	"bytes"
	"encoding/json"
	"html/template"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
)

// AppendJSON must write exactly what encoding/json writes: API clients see no difference.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "plain", `quote " and \ backslash`, "<mark>tag</mark> & amp", "line\nbreak\ttab\r\x01\x1f\x7f",
		"unicode é ü 数学 🙂", "bad \xff utf8 \xe2\x82", "sep \u2028 \u2029", "\uE000marker\uE001"}
	floats := []float64{0, 1, -1, 0.45, 1e-7, -3.2e-9, 1e21, 123456789.125, 1e20, 0.000001, math.SmallestNonzeroFloat64, math.MaxFloat64}
	pick := func() string { return strs[rng.IntN(len(strs))] }
	for round := range 300 {
		r := Result{Total: rng.IntN(100000), Page: 1 + rng.IntN(5), PerPage: 20, TookMS: int64(rng.IntN(50))}
		if round%7 != 0 {
			r.Hits = []Hit{}
		}
		for range rng.IntN(4) {
			h := Hit{ID: pick(), Kind: practices.Kind(pick()), RecordID: pick(), URI: pick(), Origin: pick(), District: pick(),
				Title: pick(), Summary: pick(), TitleHTML: template.HTML(pick()), SummaryHTML: template.HTML(pick()), LearningHTML: template.HTML(pick()),
				EvidenceLevel: pick(), TestCount: rng.IntN(9), DistrictCount: rng.IntN(4),
				UpdatedAt: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(time.FixedZone("x", 3600*rng.IntN(3))),
				Score:     floats[rng.IntN(len(floats))]}
			if rng.IntN(2) == 0 {
				f := floats[rng.IntN(len(floats))]
				h.PooledEffect = &f
			}
			if rng.IntN(2) == 0 {
				h.Subjects = []string{pick(), pick()}
			} else if rng.IntN(2) == 0 {
				h.Subjects = []string{}
			}
			if rng.IntN(2) == 0 {
				h.GradeLevels = []string{pick()}
			}
			r.Hits = append(r.Hits, h)
		}
		if round%5 != 0 {
			r.Facets = Facets{}
			for _, name := range FacetNames[:rng.IntN(len(FacetNames)+1)] {
				vals := []FacetValue{}
				for range rng.IntN(3) {
					vals = append(vals, FacetValue{Value: pick(), Count: rng.IntN(1000)})
				}
				if rng.IntN(6) == 0 {
					vals = nil
				}
				r.Facets[name] = vals
			}
		}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("round %d:\n got %s\nwant %s", round, got, want)
		}
	}
}

// Any string, valid UTF-8 or not, encodes as encoding/json encodes it.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "<&>", "\u2028", "\xff", "\x00\x1f", "é🙂"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}

func BenchmarkEncodeResult(b *testing.B) {
	eff := 0.42
	r := Result{Facets: Facets{FacetSubject: {{"math", 120}, {"ela", 80}}, FacetGradeBand: {{"3-5", 90}}, FacetDistrict: {{"maplewood", 40}}, FacetEvidence: {{"tested", 100}}},
		Total: 200, Page: 1, PerPage: 20}
	for i := range 20 {
		r.Hits = append(r.Hits, Hit{ID: "practice_abcdef123456_" + string(rune('a'+i)), Kind: "practice", RecordID: "0b7e2c1a-1111-2222-3333-444455556666",
			URI: "https://maplewood.example.org/practices/0b7e2c1a", Origin: "https://maplewood.example.org", District: "maplewood",
			Title: "Worked examples for equivalent fractions in 4th grade", Summary: "Studying worked examples before practice helps 4th grade students recognize and generate equivalent fractions.",
			TitleHTML: "Worked examples for <mark>equivalent</mark> <mark>fractions</mark> in 4th grade", SummaryHTML: "Studying worked examples before practice helps 4th grade students recognize and generate <mark>equivalent</mark> <mark>fractions</mark>.",
			Subjects: []string{"math"}, GradeLevels: []string{"04"}, EvidenceLevel: "replicated", PooledEffect: &eff, TestCount: 3, DistrictCount: 2,
			UpdatedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Score: 12.3456})
	}
	b.Run("encoding/json", func(b *testing.B) {
		for range b.N {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		buf := make([]byte, 0, 16<<10)
		for range b.N {
			buf = r.AppendJSON(buf[:0])
		}
	})
}
