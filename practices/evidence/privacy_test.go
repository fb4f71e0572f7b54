package evidence

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// genCSV writes n rows for a group with the given EL flags ("" for none).
func genCSV(rng *rand.Rand, header bool, group string, n int, el func(i int) string) string {
	var b strings.Builder
	if header {
		b.WriteString("pre,post,group,el\n")
	}
	for i := range n {
		pre := 40 + rng.Intn(40)
		fmt.Fprintf(&b, "%d,%d,%s,%s\n", pre, pre+rng.Intn(15)-3, group, el(i))
	}
	return b.String()
}

func TestGroupBelowMinimumPublishesNothing(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	cut := 60.0
	a, err := AnalyzeCSV(strings.NewReader(genCSV(rng, true, "treatment", 9, func(int) string { return "Y" })),
		Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100, ProficiencyCut: &cut})
	if err != nil {
		t.Fatal(err)
	}
	if a.Groups[0].N != 9 || a.Groups[0].SDPre == nil {
		t.Fatalf("internal view lost statistics: %+v", a.Groups[0])
	}
	if a.Shareable() {
		t.Error("a test with 9 treatment students is shareable")
	}
	r := a.Results()
	g := r.Groups[0]
	if !g.Suppressed || g.Note != "fewer than 10 students" || g.Stats != (Stats{}) {
		t.Errorf("published group = %+v", g)
	}
	if r.Effect != nil || r.Shareable {
		t.Errorf("published effect %v, shareable %v", r.Effect, r.Shareable)
	}
	js, _ := json.Marshal(r)
	for _, key := range []string{`"n"`, "mean_pre", "sd_pre", "mean_post", "mean_gain", "pct_", `"r"`, "paired_t", `"effect"`} {
		if strings.Contains(string(js), key) {
			t.Errorf("published JSON contains %s: %s", key, js)
		}
	}
	for _, s := range r.Subgroups {
		if !s.Suppressed || s.Stats != (Stats{}) {
			t.Errorf("subgroup of a suppressed group published: %+v", s)
		}
	}
}

func TestMinimumNBoundary(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for _, c := range []struct {
		n, min    int
		shareable bool
	}{{10, 0, true}, {9, 0, false}, {5, 5, true}, {4, 5, false}, {29, 30, false}, {30, 30, true}} {
		a, err := AnalyzeCSV(strings.NewReader(genCSV(rng, true, "treatment", c.n, func(int) string { return "" })),
			Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100, MinimumN: c.min})
		if err != nil {
			t.Fatal(err)
		}
		r := a.Results()
		if a.Shareable() != c.shareable || r.Shareable != c.shareable || r.Groups[0].Suppressed == c.shareable {
			t.Errorf("n %d, minimum %d: shareable %v, published %v, suppressed %v", c.n, c.min, a.Shareable(), r.Shareable, r.Groups[0].Suppressed)
		}
	}
}

func TestDOMAINSuppressionExample(t *testing.T) {
	// Total 30, EL = Y 6, EL = N 24, minimum 10 → total published, both EL cells suppressed.
	y, n := &Cell{N: 6}, &Cell{N: 24}
	SuppressPartition(30, []*Cell{y, n}, 10)
	if !y.Suppressed || !n.Suppressed {
		t.Fatalf("EL Y suppressed %v, EL N suppressed %v", y.Suppressed, n.Suppressed)
	}
	if y.Reason != ReasonBelowMinimum || n.Reason != ReasonComplement {
		t.Errorf("reasons %q, %q", y.Reason, n.Reason)
	}

	rng := rand.New(rand.NewSource(5))
	csv := genCSV(rng, true, "treatment", 30, func(i int) string { return map[bool]string{true: "Y", false: "N"}[i < 6] })
	a, err := AnalyzeCSV(strings.NewReader(csv), Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100})
	if err != nil {
		t.Fatal(err)
	}
	r := a.Results()
	if r.Groups[0].Suppressed || *r.Groups[0].N != 30 {
		t.Errorf("total not published: %+v", r.Groups[0])
	}
	if len(r.Subgroups) != 2 {
		t.Fatalf("subgroups = %+v", r.Subgroups)
	}
	for _, s := range r.Subgroups {
		if !s.Suppressed || s.Stats != (Stats{}) || s.Note == "" {
			t.Errorf("EL %s published: %+v", s.Value, s)
		}
	}
	if r.Subgroups[0].Note != "fewer than 10 students" || r.Subgroups[1].Note != complementaryNote {
		t.Errorf("notes %q, %q", r.Subgroups[0].Note, r.Subgroups[1].Note)
	}
	// The internal view keeps both cells for the team.
	if len(a.Subgroups) != 2 || a.Subgroups[0].N != 6 || a.Subgroups[1].N != 24 {
		t.Errorf("internal subgroups = %+v", a.Subgroups)
	}
	audit := a.Audit("teacher@district", time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	want := map[string]bool{"treatment": true, "treatment/el=Y": false, "treatment/el=N": false}
	for _, d := range audit.Decisions {
		if p, ok := want[d.Cell]; !ok || p != d.Published {
			t.Errorf("decision %+v", d)
		}
	}
	if len(audit.Decisions) != len(want) || audit.PublishedCounts["treatment"] != 30 || len(audit.PublishedCounts) != 1 {
		t.Errorf("audit %+v", audit)
	}
}

func TestSuppressPartition(t *testing.T) {
	tests := []struct {
		name       string
		total, min int
		cells      []int
		suppressed []bool
	}{
		{"both large", 30, 10, []int{15, 15}, []bool{false, false}},
		{"complement small", 30, 10, []int{25, 5}, []bool{true, true}},
		{"boundary complement", 20, 10, []int{10, 10}, []bool{false, false}},
		{"three cells, two small", 30, 10, []int{4, 4, 22}, []bool{true, true, true}},
		{"one small of three: next smallest too", 60, 10, []int{5, 20, 35}, []bool{true, true, false}},
		{"two small summing to the minimum", 50, 10, []int{4, 6, 40}, []bool{true, true, false}},
		{"two small summing below the minimum", 60, 10, []int{3, 4, 23, 30}, []bool{true, true, true, false}},
		{"empty cell ignored", 20, 10, []int{0, 20}, []bool{false, false}},
		{"all large", 40, 10, []int{12, 12, 16}, []bool{false, false, false}},
		{"minimum 5", 30, 5, []int{6, 24}, []bool{false, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cells := make([]*Cell, len(tc.cells))
			for i, n := range tc.cells {
				cells[i] = &Cell{N: n}
			}
			SuppressPartition(tc.total, cells, tc.min)
			for i, c := range cells {
				if c.Suppressed != tc.suppressed[i] {
					t.Errorf("cell %d (n %d): suppressed %v, want %v (%s)", i, c.N, c.Suppressed, tc.suppressed[i], c.Reason)
				}
			}
			// Whatever is published, the suppressed cells together never hold 1..min−1 students, and
			// never exactly one non-empty cell is suppressed.
			var nSup, sum int
			for _, c := range cells {
				if c.Suppressed && c.N > 0 {
					nSup++
					sum += c.N
				}
			}
			if nSup == 1 || sum > 0 && sum < tc.min {
				t.Errorf("a suppressed cell can be derived: %d suppressed holding %d", nSup, sum)
			}
		})
	}
}

func TestSuppressPartitionRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	for trial := range 2000 {
		k, min := 2+rng.Intn(4), 5+rng.Intn(26)
		cells := make([]*Cell, k)
		total := 0
		for i := range cells {
			cells[i] = &Cell{N: rng.Intn(3 * min)}
			total += cells[i].N
		}
		if total < min {
			continue // partitions are only published under a published total
		}
		SuppressPartition(total, cells, min)
		var nSup, sum int
		for _, c := range cells {
			if c.N > 0 && c.N < min && !c.Suppressed {
				t.Fatalf("trial %d: small cell published", trial)
			}
			if c.Suppressed && c.N > 0 {
				nSup++
				sum += c.N
			}
			if !c.Suppressed && c.N > 0 && total-c.N > 0 && total-c.N < min {
				t.Fatalf("trial %d: cell with a small complement published", trial)
			}
		}
		if nSup == 1 || sum > 0 && sum < min {
			t.Fatalf("trial %d: suppressed cells derivable (%d holding %d, min %d)", trial, nSup, sum, min)
		}
	}
}

func TestCoarsen(t *testing.T) {
	for _, c := range []struct {
		pct  float64
		want string
	}{
		{3, "≤5%"}, {97, "≥95%"}, {0, "≤5%"}, {5, "≤5%"}, {5.4, "≤5%"}, {5.6, "6%"}, {33.333, "33%"},
		{66.667, "67%"}, {50, "50%"}, {94.4, "94%"}, {94.6, "≥95%"}, {95, "≥95%"}, {100, "≥95%"},
	} {
		if got := Coarsen(c.pct); got != c.want {
			t.Errorf("Coarsen(%v) = %q, want %q", c.pct, got, c.want)
		}
	}
}

func TestPublishedDistrictA(t *testing.T) {
	cut := 65.0
	a, err := AnalyzeCSV(strings.NewReader(districtACSV()), Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100, ProficiencyCut: &cut})
	if err != nil {
		t.Fatal(err)
	}
	r := a.Results()
	g := r.Groups[0]
	if g.PctProficientPre != "33%" || g.PctProficientPost != "67%" || g.PctImproved != "≥95%" {
		t.Errorf("percentages %q %q %q", g.PctProficientPre, g.PctProficientPost, g.PctImproved)
	}
	if *g.N != 12 || *g.MeanPost != 66.92 || *g.SDPre != 7.63 || *g.R != 0.909 {
		t.Errorf("published stats %+v", g.Stats)
	}
	if !r.Shareable || r.Effect == nil {
		t.Fatalf("not shareable or no effect: %+v", r)
	}
	near(t, "published g", r.Effect.G, 0.7214)
	js, _ := json.Marshal(r)
	var doc any
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"score_min": true, "score_max": true, "minimum_n": true}
	for _, key := range jsonKeys(doc) {
		for _, forbidden := range []string{"min", "max", "median", "histogram", "rows", "scores"} {
			if strings.Contains(key, forbidden) && !allowed[key] {
				t.Errorf("published JSON has the key %q", key)
			}
		}
	}
	for _, score := range []string{"55,", "73,", "79,"} { // individual scores never appear as values
		if strings.Contains(string(js), ":"+score) {
			t.Errorf("published JSON holds an individual score %s: %s", score, js)
		}
	}
}

func jsonKeys(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			out = append(out, k)
			out = append(out, jsonKeys(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, jsonKeys(x)...)
		}
	}
	return out
}

func TestComparisonGroupBelowMinimum(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	csv := genCSV(rng, true, "treatment", 15, func(int) string { return "N" }) + genCSV(rng, false, "comparison", 8, func(int) string { return "N" })
	a, err := AnalyzeCSV(strings.NewReader(csv), Options{Design: PrePostComparison, ScoreMin: 0, ScoreMax: 100})
	if err != nil {
		t.Fatal(err)
	}
	r := a.Results()
	if !r.Shareable || r.Groups[0].Suppressed || !r.Groups[1].Suppressed {
		t.Errorf("shareable %v, groups %+v", r.Shareable, r.Groups)
	}
	if r.Effect != nil || r.Baseline != nil || r.EffectNote == "" {
		t.Errorf("an effect involving a suppressed group was published: %+v %+v", r.Effect, r.Baseline)
	}
	if a.Effect == nil {
		t.Error("the internal view lost the effect")
	}
	te := FromResults(r)
	if te.MinGroupN != 0 {
		t.Errorf("min group n = %d", te.MinGroupN)
	}
}

func TestCheckMinimumN(t *testing.T) {
	for _, c := range []struct {
		in, want int
		ok       bool
	}{{0, 10, true}, {5, 5, true}, {30, 30, true}, {4, 0, false}, {31, 0, false}, {-1, 0, false}} {
		got, err := CheckMinimumN(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("CheckMinimumN(%d) = %d, %v", c.in, got, err)
		}
	}
}

func TestCheckCorrection(t *testing.T) {
	prev := map[string]int{"treatment": 30, "treatment/el=N": 18}
	for _, c := range []struct {
		name string
		next map[string]int
		ok   bool
	}{
		{"unchanged", map[string]int{"treatment": 30, "treatment/el=N": 18}, true},
		{"one student added", map[string]int{"treatment": 31, "treatment/el=N": 18}, false},
		{"nine removed", map[string]int{"treatment": 21, "treatment/el=N": 18}, false},
		{"ten added", map[string]int{"treatment": 40, "treatment/el=N": 28}, true},
		{"ten removed", map[string]int{"treatment": 20, "treatment/el=N": 8}, true},
		{"subgroup changes by two", map[string]int{"treatment": 40, "treatment/el=N": 20}, false},
		{"cell no longer published", map[string]int{"treatment": 40}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckCorrection(prev, c.next, 10)
			if (err == nil) != c.ok {
				t.Errorf("err = %v, want ok %v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrCorrectionTooSmall) {
				t.Errorf("err %v is not ErrCorrectionTooSmall", err)
			}
		})
	}
	if err := CheckCorrection(prev, prev, 3); err == nil {
		t.Error("invalid minimum accepted")
	}
}

func TestAuditHoldsNoRowData(t *testing.T) {
	var b strings.Builder
	b.WriteString("pre,post\n")
	for i := range 20 {
		fmt.Fprintf(&b, "%d.125,%d.375\n", 40+i, 45+i)
	}
	a, err := AnalyzeCSV(strings.NewReader(b.String()), Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100})
	if err != nil {
		t.Fatal(err)
	}
	au := a.Audit("coach-7", time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)))
	js, _ := json.Marshal(au)
	if strings.Contains(string(js), ".125") || strings.Contains(string(js), ".375") {
		t.Errorf("audit holds scores: %s", js)
	}
	if au.FileSHA256 == "" || au.UploadedBy != "coach-7" || au.MinimumN != 10 || au.UploadedAt.Location() != time.UTC || au.RowsUsed != 20 {
		t.Errorf("audit %+v", au)
	}
}

func f64(f float64) *float64 { return &f }

func TestSummaryInput(t *testing.T) {
	b := SummaryGroup{N: 25, MeanPre: f64(48.2), SDPre: f64(10.5), MeanPost: f64(53.9), SDPost: f64(11), R: f64(0.78)}
	opts := Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100}
	a, err := AnalyzeSummary(SummaryInput{Groups: []SummaryGroup{b}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "g_RM B", a.Effect.G, 0.5257)
	near(t, "v B", a.Effect.Variance, 0.0231)
	if a.Source != SourceSummary || a.Groups[0].PctProficientPre != nil || a.Groups[0].GainCILower == nil {
		t.Errorf("analysis %+v", a.Groups[0])
	}

	var decoded SummaryInput
	if err := json.Unmarshal([]byte(`{"groups":[{"group":"treatment","n":25,"mean_pre":48.2,"sd_pre":10.5,"mean_post":53.9,"sd_post":11,"r":0.78}]}`), &decoded); err != nil {
		t.Fatal(err)
	}
	if err := decoded.Validate(opts); err != nil {
		t.Errorf("decoded input refused: %v", err)
	}

	with := func(f func(g *SummaryGroup)) SummaryInput {
		g := b
		f(&g)
		return SummaryInput{Groups: []SummaryGroup{g}}
	}
	comp := b
	comp.Group = Comparison
	tests := []struct {
		name  string
		in    SummaryInput
		opts  Options
		field string
		rule  string
	}{
		{"no groups", SummaryInput{}, opts, "groups", RuleDesignMismatch},
		{"missing mean_pre", with(func(g *SummaryGroup) { g.MeanPre = nil }), opts, "groups[0].mean_pre", RuleRequired},
		{"missing sd_post", with(func(g *SummaryGroup) { g.SDPost = nil }), opts, "groups[0].sd_post", RuleRequired},
		{"missing r", with(func(g *SummaryGroup) { g.R = nil }), opts, "groups[0].r", RuleRequired},
		{"r above 1", with(func(g *SummaryGroup) { g.R = f64(1.2) }), opts, "groups[0].r", RuleOutOfRange},
		{"n of 1", with(func(g *SummaryGroup) { g.N = 1 }), opts, "groups[0].n", RuleInvalidValue},
		{"zero SD", with(func(g *SummaryGroup) { g.SDPre = f64(0) }), opts, "groups[0].sd_pre", RuleOutOfRange},
		{"mean out of range", with(func(g *SummaryGroup) { g.MeanPost = f64(120) }), opts, "groups[0].mean_post", RuleOutOfRange},
		{"percentage", with(func(g *SummaryGroup) { g.PctImproved = f64(101) }), opts, "groups[0].pct_improved", RuleOutOfRange},
		{"bad group", with(func(g *SummaryGroup) { g.Group = "control" }), opts, "groups[0].group", RuleInvalidValue},
		{"comparison in single group", SummaryInput{Groups: []SummaryGroup{comp}}, opts, "groups[0].group", RuleDesignMismatch},
		{"comparison design, one group", SummaryInput{Groups: []SummaryGroup{b}}, Options{Design: PrePostComparison, ScoreMin: 0, ScoreMax: 100}, "groups", RuleDesignMismatch},
		{"comparison design, two treatments", SummaryInput{Groups: []SummaryGroup{b, b}}, Options{Design: PrePostComparison, ScoreMin: 0, ScoreMax: 100}, "groups[1].group", RuleDesignMismatch},
		{"bad design", SummaryInput{Groups: []SummaryGroup{b}}, Options{Design: "rct", ScoreMin: 0, ScoreMax: 100}, "design", RuleInvalidOption},
		{"bad minimum", SummaryInput{Groups: []SummaryGroup{b}}, Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100, MinimumN: 40}, "minimum_n", RuleInvalidOption},
		{"cut outside range", SummaryInput{Groups: []SummaryGroup{b}}, Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100, ProficiencyCut: f64(150)}, "assessment.proficiency_cut", RuleInvalidOption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := AnalyzeSummary(tc.in, tc.opts)
			ie := inputErr(t, err)
			if ie.Field != tc.field || ie.Rule != tc.rule {
				t.Errorf("field, rule = %q, %q, want %q, %q (%v)", ie.Field, ie.Rule, tc.field, tc.rule, err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
	t.Run("post-only without r", func(t *testing.T) {
		tr, cm := b, comp
		tr.R, cm.R = nil, nil
		a, err := AnalyzeSummary(SummaryInput{Groups: []SummaryGroup{cm, tr}}, Options{Design: PostOnlyComparison, ScoreMin: 0, ScoreMax: 100})
		if err != nil {
			t.Fatal(err)
		}
		if a.Groups[0].Group != Treatment || a.Effect == nil || a.Effect.G != 0 || a.Baseline == nil {
			t.Errorf("analysis %+v", a)
		}
	})
}

// Identical scores disclose every student: ten rows of 40,55 would publish mean 40, sd 0, mean 55 —
// each student's exact scores. Such a group publishes its n but no means, SDs or anything derived
// from them, and says why; so does every cell of a partition in which one cell is constant (the
// others and the total would give its mean away), and no effect size is published (issue 12, item 5).
func TestIdenticalScoresPublishNoMeans(t *testing.T) {
	cut := 50.0
	opts := Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100, ProficiencyCut: &cut}
	cases := map[string]string{
		"every pre and post the same": "pre,post\n" + strings.Repeat("40,55\n", 10),
		"every pre the same":          "pre,post\n" + strings.Repeat("40,55\n40,57\n", 6),
		"every post the same":         "pre,post\n" + strings.Repeat("40,55\n42,55\n", 6),
		"every gain the same":         "pre,post\n" + strings.Repeat("40,45\n50,55\n", 6),
	}
	for name, csv := range cases {
		t.Run(name, func(t *testing.T) {
			a, err := AnalyzeCSV(strings.NewReader(csv), opts)
			if err != nil {
				t.Fatal(err)
			}
			r := a.Results()
			g := r.Groups[0]
			if g.N == nil || *g.N != a.Groups[0].N {
				t.Errorf("n not published: %+v", g)
			}
			if g.MeanPre != nil || g.SDPre != nil || g.MeanPost != nil || g.SDPost != nil || g.MeanGain != nil ||
				g.GainCILower != nil || g.GainCIUpper != nil || g.PairedT != nil || g.R != nil {
				t.Errorf("published statistics of a group with identical scores: %+v", g.Stats)
			}
			if g.Note != IdenticalScoresNote {
				t.Errorf("note = %q, want %q", g.Note, IdenticalScoresNote)
			}
			if r.Effect != nil || r.Baseline != nil || r.EffectNote == "" {
				t.Errorf("effect %+v baseline %+v note %q", r.Effect, r.Baseline, r.EffectNote)
			}
		})
	}
	t.Run("one constant cell of a partition", func(t *testing.T) {
		// EL = Y: ten students with 40,55; EL = N: ten varied. The total and the N cell would give
		// the Y cell's mean away, so no cell of the partition publishes means.
		var b strings.Builder
		b.WriteString("pre,post,el\n")
		for i := range 10 {
			fmt.Fprintf(&b, "40,55,Y\n%d,%d,N\n", 30+i, 45+2*i)
		}
		a, err := AnalyzeCSV(strings.NewReader(b.String()), opts)
		if err != nil {
			t.Fatal(err)
		}
		r := a.Results()
		if r.Groups[0].MeanPre == nil {
			t.Errorf("group total with varied scores lost its means: %+v", r.Groups[0])
		}
		for _, s := range r.Subgroups {
			if s.MeanPre != nil || s.MeanPost != nil || s.SDPre != nil || s.MeanGain != nil {
				t.Errorf("subgroup %s=%s published means: %+v", s.Partition, s.Value, s.Stats)
			}
		}
	})
	t.Run("varied scores still publish", func(t *testing.T) {
		a, err := AnalyzeCSV(strings.NewReader(districtACSV()), opts)
		if err != nil {
			t.Fatal(err)
		}
		if g := a.Results().Groups[0]; g.MeanPre == nil || g.SDPre == nil || g.Note != "" {
			t.Errorf("district A lost its statistics: %+v", g)
		}
	})
}

func TestIdenticalScores(t *testing.T) {
	for _, tc := range []struct {
		v    []float64
		want bool
	}{{nil, true}, {[]float64{3}, true}, {[]float64{3, 3, 3}, true}, {[]float64{3, 3, 3.0000001}, false}, {[]float64{1, 2}, false}} {
		if got := IdenticalScores(tc.v); got != tc.want {
			t.Errorf("IdenticalScores(%v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

// The results card renders a group with identical scores by its note, not its means (the table
// beside it is web's results-table partial).
func TestIdenticalScoresRender(t *testing.T) {
	a, err := AnalyzeCSV(strings.NewReader("pre,post\n"+strings.Repeat("40,55\n", 10)), Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100})
	if err != nil {
		t.Fatal(err)
	}
	r := a.Results()
	svg := string(RenderResultsSVG(r))
	for name, out := range map[string]string{"svg": svg} {
		if !strings.Contains(out, "same score") {
			t.Errorf("%s does not say why: %s", name, out)
		}
		for _, leak := range []string{"40.0", "55.0", "mean 40", "mean 55"} {
			if strings.Contains(out, leak) {
				t.Errorf("%s shows %q: %s", name, leak, out)
			}
		}
	}
}
