package evidence

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
)

// referenceTests are the four districts of docs/records.md as published single-group tests.
func referenceTests(t testing.TB) []TestEvidence {
	es := fourDistricts(t)
	ns := []int{12, 25, 18, 30}
	out := make([]TestEvidence, len(es))
	for i := range es {
		e := es[i]
		d := string(rune('A' + i))
		out[i] = TestEvidence{Test: "https://" + d + ".example/tests/1", Label: "Number talks", District: d,
			Design: SingleGroup, N: ns[i], MinGroupN: ns[i], Effect: &e}
	}
	return out
}

func comparisonTest(district string, g, lo float64, baseline float64) TestEvidence {
	e := Effect{Measure: MeasureSMD, G: g, Variance: 0.02, CILower: lo, CIUpper: g + (g - lo)}
	return TestEvidence{Test: "https://" + district + ".example/tests/c", District: district, Design: PostOnlyComparison,
		N: 40, MinGroupN: 20, Effect: &e, Baseline: &Baseline{G: baseline, Status: BaselineStatus(baseline)}}
}

func TestSummarizeReference(t *testing.T) {
	s, err := Summarize(referenceTests(t), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Pools) != 1 || s.Pools[0].Family != FamilySingleGroup || s.Pools[0].Districts != 4 {
		t.Fatalf("pools %+v", s.Pools)
	}
	p := s.Pools[0].Result
	near(t, "RE estimate", p.Estimate, 0.5278)
	near(t, "RE SE", p.SE, 0.1053)
	near(t, "tau2", p.Tau2, 0.0173)
	// Four districts, CI above 0, I² < 50 %, but no comparison test: the ladder stops at replicated.
	if s.Level != LevelReplicated {
		t.Errorf("level = %q, want %q", s.Level, LevelReplicated)
	}
	var sum float64
	for i, r := range s.Pools[0].Rows {
		sum += r.Weight
		if r.District != string(rune('A'+i)) || r.N == 0 {
			t.Errorf("row %d = %+v", i, r)
		}
	}
	near(t, "weights", sum, 100)
}

func TestEvidenceLevels(t *testing.T) {
	ref := func() []TestEvidence { return referenceTests(t) }
	small := ref()[0]
	small.MinGroupN, small.N = 8, 8
	noEffect := ref()[1]
	noEffect.Effect = nil
	sameDistrict := ref()[:2]
	sameDistrict[1].District = "A"
	tests := []struct {
		name  string
		tests []TestEvidence
		want  string
	}{
		{"no tests", nil, LevelDescribed},
		{"one test", ref()[:1], LevelTested},
		{"one small test", []TestEvidence{small}, LevelTested},
		{"a test without an effect", []TestEvidence{noEffect}, LevelTested},
		{"two districts", ref()[:2], LevelReplicated},
		{"two tests, one district", sameDistrict, LevelTested},
		{"two districts, CI crossing 0", []TestEvidence{ref()[2], comparisonTestSG("B", 0.05)}, LevelTested},
		{"replicated and a balanced comparison", append(ref()[:2], comparisonTest("C", 0.5, 0.1, 0.1)), LevelCompared},
		{"comparison with unbalanced baseline", append(ref()[:2], comparisonTest("C", 0.5, 0.1, 0.3)), LevelReplicated},
		{"comparison with CI crossing 0", append(ref()[:2], comparisonTest("C", 0.5, -0.1, 0.0)), LevelReplicated},
		{"comparison but not replicated", []TestEvidence{comparisonTest("C", 0.5, 0.1, 0.0)}, LevelTested},
		{"network confirmed", append(ref(), comparisonTest("E", 0.5, 0.1, -0.2)), LevelNetworkConfirmed},
		{"three districts but heterogeneous", append(heterogeneous(), comparisonTest("E", 0.5, 0.1, 0.0)), LevelCompared},
		{"small tests are not pooled", append(ref()[:1], small), LevelTested},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Summarize(tc.tests, 10)
			if err != nil {
				t.Fatal(err)
			}
			if s.Level != tc.want {
				t.Errorf("level = %q, want %q (%+v)", s.Level, tc.want, s)
			}
		})
	}
}

func comparisonTestSG(district string, g float64) TestEvidence {
	e := newEffect(MeasureSMCR, g, 0.05)
	return TestEvidence{Test: "t-" + district, District: district, Design: SingleGroup, N: 20, MinGroupN: 20, Effect: &e}
}

func heterogeneous() []TestEvidence {
	var out []TestEvidence
	for i, g := range []float64{0.1, 1.2, 0.2, 1.4} {
		e := newEffect(MeasureSMCR, g, 0.01)
		out = append(out, TestEvidence{Test: fmt.Sprint(i), District: string(rune('A' + i)), Design: SingleGroup, N: 30, MinGroupN: 30, Effect: &e})
	}
	return out
}

func TestSummarizeFamiliesSeparate(t *testing.T) {
	ts := append(referenceTests(t), comparisonTest("E", 0.5, 0.1, 0.0), comparisonTest("F", 0.3, 0.05, 0.0))
	ts[len(ts)-1].Design = PrePostComparison
	s, err := Summarize(ts, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Pools) != 2 || s.Pools[0].Result.K != 4 || s.Pools[1].Family != FamilyComparison || s.Pools[1].Result.K != 2 {
		t.Fatalf("pools %+v", s.Pools)
	}
	near(t, "single-group pool unaffected", s.Pools[0].Result.Estimate, 0.5278)
	if s.Tests != 6 || s.Eligible != 6 || s.Districts != 6 {
		t.Errorf("counts %+v", s)
	}
}

func TestSummarizeOrderInvariant(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	base := append(referenceTests(t), comparisonTest("E", 0.5, 0.1, 0.0), comparisonTest("F", 0.3, 0.05, 0.2))
	want, err := Summarize(base, 10)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		ts := append([]TestEvidence(nil), base...)
		rng.Shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
		got, err := Summarize(ts, 10)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(want)
		if !bytes.Equal(a, b) {
			t.Fatalf("order changed the summary:\n%s\n%s", a, b)
		}
	}
}

func TestFromResults(t *testing.T) {
	cut := 65.0
	a, err := AnalyzeCSV(strings.NewReader(districtACSV()), Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100, ProficiencyCut: &cut})
	if err != nil {
		t.Fatal(err)
	}
	te := FromResults(a.Results())
	if te.N != 12 || te.MinGroupN != 12 || te.Design != SingleGroup || te.Effect == nil {
		t.Errorf("evidence %+v", te)
	}
}

// wellFormed parses b as XML to the end.
func wellFormed(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, b)
		}
	}
}

func TestRenderForestSVG(t *testing.T) {
	ts := referenceTests(t)
	ts[1].Label = `<script>alert("x")</script> & co`
	ts[2].Adapted = true
	s, err := Summarize(ts, 10)
	if err != nil {
		t.Fatal(err)
	}
	svg := RenderForestSVG(s.Pools[0])
	wellFormed(t, svg)
	out := string(svg)
	for _, want := range []string{"<title", "<desc", "reference, not a pass mark", `class="ref"`, `class="zero"`, "<polygon", `class="pi"`,
		"&lt;script&gt;", "(adapted)", "0.53 [0.32, 0.73]", "prediction interval -0.20 to 1.25"} {
		if !strings.Contains(out, want) {
			t.Errorf("forest SVG lacks %q", want)
		}
	}
	if strings.Contains(out, "<script>") {
		t.Error("label not escaped")
	}
	// Two tests: no prediction interval.
	s2, _ := Summarize(ts[:2], 10)
	if out := string(RenderForestSVG(s2.Pools[0])); strings.Contains(out, `class="pi"`) {
		t.Error("prediction interval drawn for k = 2")
	}
}

func TestRenderResultsSVG(t *testing.T) {
	cut := 65.0
	a, err := AnalyzeCSV(strings.NewReader(districtACSV()), Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100, ProficiencyCut: &cut})
	if err != nil {
		t.Fatal(err)
	}
	r := a.Results()
	svg := RenderResultsSVG(r)
	wellFormed(t, svg)
	for _, want := range []string{"<title", "<desc", "33%", "67%", "<circle", "n = 12", "g = 0.72"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("results SVG lacks %q", want)
		}
	}

	// A suppressed group draws no statistics.
	rng := rand.New(rand.NewSource(9))
	b, err := AnalyzeCSV(strings.NewReader(genCSV(rng, true, "treatment", 9, func(int) string { return "" })),
		Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100, ProficiencyCut: &cut})
	if err != nil {
		t.Fatal(err)
	}
	svg = RenderResultsSVG(b.Results())
	wellFormed(t, svg)
	if !strings.Contains(string(svg), "fewer than 10 students") || strings.Contains(string(svg), "<circle") || strings.Contains(string(svg), "<rect") {
		t.Errorf("suppressed group drawn:\n%s", svg)
	}
}

func BenchmarkParseAnalyze5000(b *testing.B) {
	rng := rand.New(rand.NewSource(10))
	var sb strings.Builder
	sb.WriteString("row,pre,post,group,el,swd,econ_disadv\n")
	yn := func() string { return []string{"Y", "N"}[rng.Intn(2)] }
	for i := range MaxDataRows {
		g := "treatment"
		if i%2 == 1 {
			g = "comparison"
		}
		pre := 30 + rng.Intn(50)
		fmt.Fprintf(&sb, "%d,%d,%d,%s,%s,%s,%s\n", i+1, pre, pre+rng.Intn(20)-5, g, yn(), yn(), yn())
	}
	data := []byte(sb.String())
	cut := 60.0
	opts := Options{Design: PrePostComparison, ScoreMin: 0, ScoreMax: 100, ProficiencyCut: &cut}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		a, err := AnalyzeCSV(bytes.NewReader(data), opts)
		if err != nil {
			b.Fatal(err)
		}
		_ = a.Results()
	}
}

func BenchmarkSummarize1000(b *testing.B) {
	rng := rand.New(rand.NewSource(11))
	ts := make([]TestEvidence, 1000)
	for i := range ts {
		e := newEffect(MeasureSMCR, 0.4+rng.NormFloat64()*0.3, 0.01+rng.Float64()*0.1)
		ts[i] = TestEvidence{Test: fmt.Sprint(i), District: fmt.Sprint(i % 37), Design: SingleGroup, N: 30, MinGroupN: 30, Effect: &e}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Summarize(ts, 10); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRenderForestSVGLinked(t *testing.T) {
	ts := referenceTests(t)
	ts[0].Label = "Grade 4 newcomers, winter 2026 — cycle 1 with a much longer name"
	ts[1].Label = `<b>x</b>"`
	s, err := Summarize(ts, 10)
	if err != nil {
		t.Fatal(err)
	}
	svg := RenderForestSVGLinked(s.Pools[0], "pool-a", func(r ForestRow) string {
		if r.Label == `<b>x</b>"` {
			return "" // a row whose test cannot be shown is not a link
		}
		return "/tests/" + r.District + `?q="&`
	})
	wellFormed(t, svg)
	out := string(svg)
	for _, want := range []string{`id="pool-a-title"`, `id="pool-a-desc"`, `role="group"`, `class="bs-svg"`,
		`<a href="/tests/A?q=&#34;&amp;">`, "…", "&lt;b&gt;x&lt;/b&gt;"} {
		if !strings.Contains(out, want) {
			t.Errorf("linked forest SVG lacks %q", want)
		}
	}
	if strings.Contains(out, "<style") || strings.Contains(out, "bs-forest") {
		t.Error("inline SVG carries a <style> element or the standalone ids")
	}
	if n := strings.Count(out, "<a href="); n != len(ts)-1 {
		t.Errorf("%d links, want %d", n, len(ts)-1)
	}
}
