package evidence

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

const measureTol = 0.0005

func seriesPoints(y []float64, n []int) []MeasurePoint {
	start := time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC)
	out := make([]MeasurePoint, len(y))
	for i, v := range y {
		nn := 20
		if n != nil {
			nn = n[i]
		}
		out[i] = MeasurePoint{Date: start.AddDate(0, 0, 7*i).Format(time.DateOnly), N: nn, Value: v}
	}
	return out
}

func nearM(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > measureTol {
		t.Errorf("%s = %.6f, want %.4f", name, got, want)
	}
}

func wantInt(t *testing.T, name string, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d", name, got, want)
	}
}

func wantSignal(t *testing.T, got *bool, want bool) {
	t.Helper()
	if got == nil || *got != want {
		t.Errorf("runs_signal = %v, want %v", fmtBool(got), want)
	}
}

func fmtBool(b *bool) string {
	if b == nil {
		return "null"
	}
	return fmt.Sprint(*b)
}

// The test vectors of docs/measures.md ("Measures over time"), values from R 4.2 base functions.
func TestMeasureVectorsMean(t *testing.T) {
	y := []float64{2.1, 2.4, 2.2, 2.0, 2.3, 2.2, 2.5, 2.6, 2.7, 2.6, 2.8, 2.9, 2.7, 3.0}
	pts := seriesPoints(y, nil)

	a := AnalyzeMeasure(MeasureMean, 6, pts)
	nearM(t, "center", a.Center, 2.2)
	wantInt(t, "n_useful", a.NUseful, 12)
	wantInt(t, "longest_run", a.LongestRun, 9)
	wantInt(t, "longest_run_max", a.LongestRunMax, 7)
	wantInt(t, "crossings", a.Crossings, 3)
	wantInt(t, "crossings_min", a.CrossingsMin, 3)
	wantSignal(t, a.RunsSignal, true)
	if a.Chart != ChartI {
		t.Errorf("chart = %q, want i", a.Chart)
	}
	nearM(t, "cl", a.CL, 2.2)
	nearM(t, "amr", *a.AMR, 0.22)
	nearM(t, "lcl", *a.LCL.Value, 1.6148)
	nearM(t, "ucl", *a.UCL.Value, 2.7852)
	want := []string{pts[10].Date, pts[11].Date, pts[13].Date}
	if fmt.Sprint(a.Outside) != fmt.Sprint(want) {
		t.Errorf("outside = %v, want %v (points 11, 12, 14)", a.Outside, want)
	}
	// The longest run (9 useful points above the median: point 5, then 7–14, point 6 on the line)
	// is also an IHI shift.
	if a.Shift == nil || a.ShiftSide != 1 || a.Shift.From != pts[4].Date || a.Shift.To != pts[13].Date {
		t.Errorf("shift = %+v side %d, want points 5–14 above", a.Shift, a.ShiftSide)
	}

	all := AnalyzeMeasure(MeasureMean, 0, pts)
	nearM(t, "center (all)", all.Center, 2.55)
	wantInt(t, "n_useful (all)", all.NUseful, 14)
	wantInt(t, "longest_run (all)", all.LongestRun, 7)
	wantInt(t, "longest_run_max (all)", all.LongestRunMax, 7)
	wantInt(t, "crossings (all)", all.Crossings, 1)
	wantInt(t, "crossings_min (all)", all.CrossingsMin, 4)
	wantSignal(t, all.RunsSignal, true)
	if b14 := AnalyzeMeasure(MeasureMean, 14, pts); b14.Center != all.Center || b14.Baseline != 14 {
		t.Errorf("baseline 14 differs from baseline all: %+v", b14)
	}
}

func TestMeasureVectorsPercent(t *testing.T) {
	p := []float64{40, 45, 38, 42, 44, 41, 55, 58, 61, 60, 66, 63}
	n := []int{24, 25, 23, 24, 26, 25, 24, 25, 24, 23, 25, 24}
	pts := seriesPoints(p, n)
	a := AnalyzeMeasure(MeasurePercent, 6, pts)
	nearM(t, "center", a.Center, 41.5)
	wantInt(t, "n_useful", a.NUseful, 12)
	wantInt(t, "longest_run", a.LongestRun, 6)
	wantInt(t, "longest_run_max", a.LongestRunMax, 7)
	wantInt(t, "crossings", a.Crossings, 5)
	wantInt(t, "crossings_min", a.CrossingsMin, 3)
	wantSignal(t, a.RunsSignal, false)
	if a.Shift == nil || a.Shift.From != pts[6].Date || a.Shift.To != pts[11].Date || a.ShiftSide != 1 {
		t.Errorf("shift = %+v, want the last six points, above", a.Shift)
	}
	if a.Chart != ChartP {
		t.Errorf("chart = %q, want p", a.Chart)
	}
	nearM(t, "cl", a.CL, 41.7415)
	nearM(t, "lcl[0]", a.LCL.PerPoint[0], 11.5434)
	nearM(t, "ucl[0]", a.UCL.PerPoint[0], 71.9396)
	if len(a.Outside) != 0 {
		t.Errorf("outside = %v, want none", a.Outside)
	}
}

func TestQBinomVectors(t *testing.T) {
	// The sizes of the docs/measures.md vectors (n_useful − 1 = 11 and 13), the edges, and sizes
	// where the 5 % point falls close to a cumulative probability.
	for _, c := range []struct{ size, want int }{{0, 0}, {1, 0}, {4, 0}, {5, 1}, {11, 3}, {13, 4}, {18, 6}, {199, 88}} {
		if got := QBinom(0.05, c.size, 0.5); got != c.want {
			t.Errorf("qbinom(0.05, %d, 0.5) = %d, want %d", c.size, got, c.want)
		}
	}
}

func TestTrendsSkipTies(t *testing.T) {
	cases := []struct {
		y         []float64
		trend     bool
		from, to  int
		side, len int
	}{
		{[]float64{1, 2, 3, 4, 5}, true, 0, 4, 1, 5},
		{[]float64{1, 2, 3, 4}, false, 0, 0, 0, 0},
		{[]float64{1, 2, 2, 3, 4, 5}, true, 0, 5, 1, 5}, // the tie neither extends nor breaks
		{[]float64{1, 2, 2, 2, 3, 4}, false, 0, 0, 0, 0},
		{[]float64{9, 8, 7, 7, 6, 5, 6}, true, 0, 5, -1, 5},
		// Two equally long trends: the latest wins.
		{[]float64{1, 2, 3, 4, 5, 1, 2, 3, 4, 5}, true, 5, 9, 1, 5},
		{[]float64{5, 4, 3, 2, 1, 2, 3, 4, 5}, true, 4, 8, 1, 5},
	}
	for i, tc := range cases {
		pts := seriesPoints(tc.y, nil)
		a := AnalyzeMeasure(MeasureMean, 0, pts)
		if (a.Trend != nil) != tc.trend {
			t.Errorf("case %d: trend = %+v, want %v", i, a.Trend, tc.trend)
			continue
		}
		if tc.trend && (a.Trend.From != pts[tc.from].Date || a.Trend.To != pts[tc.to].Date || a.TrendSide != tc.side) {
			t.Errorf("case %d: trend %+v side %d, want points %d–%d side %d", i, a.Trend, a.TrendSide, tc.from+1, tc.to+1, tc.side)
		}
	}
}

func TestRunsRulesNotAppliedBelowTenUsefulPoints(t *testing.T) {
	a := AnalyzeMeasure(MeasureMean, 0, seriesPoints([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, nil))
	// Median 5.5, no point on it: ten useful points, the rules apply.
	if a.RunsSignal == nil {
		t.Fatalf("10 useful points: runs_signal is null")
	}
	b := AnalyzeMeasure(MeasureMean, 0, seriesPoints([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}, nil))
	// Median 5 is on a point: eight useful points.
	if b.NUseful != 8 || b.RunsSignal != nil {
		t.Errorf("n_useful %d, runs_signal %s; want 8 and null", b.NUseful, fmtBool(b.RunsSignal))
	}
	js, _ := json.Marshal(b)
	var m map[string]any
	_ = json.Unmarshal(js, &m)
	if v, ok := m["runs_signal"]; !ok || v != nil {
		t.Errorf("runs_signal encodes as %v, want null", v)
	}
}

func TestLimitJSON(t *testing.T) {
	one := 2.5
	for _, l := range []Limit{{}, {Value: &one}, {PerPoint: []float64{1, 2}}} {
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		var back Limit
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		b2, _ := json.Marshal(back)
		if string(b) != string(b2) {
			t.Errorf("round trip %s → %s", b, b2)
		}
	}
	var l Limit
	if err := json.Unmarshal([]byte(`"x"`), &l); err == nil {
		t.Error("a string limit decoded")
	}
}

// --- An independent reference, written from the definitions in docs/measures.md and R's sources ---

// refMedian: R's median via a counting selection, not a sort.
func refMedian(xs []float64) float64 {
	n := len(xs)
	kth := func(k int) float64 { // k-th smallest, 0-based
		for _, c := range xs {
			less, eq := 0, 0
			for _, d := range xs {
				if d < c {
					less++
				} else if d == c {
					eq++
				}
			}
			if less <= k && k < less+eq {
				return c
			}
		}
		panic("unreachable")
	}
	if n%2 == 1 {
		return kth(n / 2)
	}
	return (kth(n/2-1) + kth(n/2)) / 2
}

// refQBinom: qbinom(0.05, size, 0.5) from exact rational binomial sums: the smallest k with
// Σ_{i≤k} C(size, i) / 2^size ≥ 0.05.
func refQBinom(size int) int {
	if size == 0 {
		return 0
	}
	total := new(big.Int).Lsh(big.NewInt(1), uint(size))
	cum := new(big.Int)
	c := big.NewInt(1)
	for k := 0; k <= size; k++ {
		cum.Add(cum, c)
		// cum / total ≥ 1/20  ⇔  20·cum ≥ total
		if new(big.Int).Mul(cum, big.NewInt(20)).Cmp(total) >= 0 {
			return k
		}
		c.Mul(c, big.NewInt(int64(size-k)))
		c.Div(c, big.NewInt(int64(k+1)))
	}
	return size
}

type refRuns struct {
	nUseful, longest, longestMax, crossings, crossingsMin int
	signal                                                *bool
}

// refRunsAnalysis follows qicharts2's runs.analysis line by line: sign, drop zeros, rle.
func refRunsAnalysis(y []float64, cl float64) refRuns {
	var signs []int
	for _, v := range y {
		switch {
		case v > cl:
			signs = append(signs, 1)
		case v < cl:
			signs = append(signs, -1)
		}
	}
	var r refRuns
	r.nUseful = len(signs)
	if r.nUseful == 0 {
		return r
	}
	var lengths []int
	for i, s := range signs {
		if i == 0 || s != signs[i-1] {
			lengths = append(lengths, 0)
		}
		lengths[len(lengths)-1]++
	}
	for _, l := range lengths {
		r.longest = max(r.longest, l)
	}
	// round(log2(n)) + 3, by comparing squares: round(log2 n) = k where 2^(k-1/2) ≤ n < 2^(k+1/2).
	k := 0
	for n2 := r.nUseful * r.nUseful; 1<<(2*k+1) <= n2; k++ {
	}
	r.longestMax = k + 3
	r.crossings = len(lengths) - 1
	r.crossingsMin = refQBinom(r.nUseful - 1)
	if r.nUseful >= 10 {
		s := r.longest > r.longestMax || r.crossings < r.crossingsMin
		r.signal = &s
	}
	return r
}

// TestMeasureProperty compares the analysis with the independent reference on random series:
// integer-valued exit-ticket means (many ties with the median), decimals, percentages with n.
func TestMeasureProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 2026))
	for iter := 0; iter < 3000; iter++ {
		length := 1 + rng.IntN(60)
		y := make([]float64, length)
		n := make([]int, length)
		kind := MeasureMean
		shape := rng.IntN(3)
		drift := rng.Float64() * 0.2
		for i := range y {
			switch shape {
			case 0: // small integer scale: many points on the median
				y[i] = float64(rng.IntN(5))
			case 1: // tenths, with a possible drift
				y[i] = math.Round((2+rng.NormFloat64()*0.3+drift*float64(i))*10) / 10
			default:
				kind = MeasurePercent
				y[i] = float64(rng.IntN(101))
			}
			n[i] = 1 + rng.IntN(40)
		}
		baseline := 0
		if rng.IntN(2) == 0 {
			baseline = 1 + rng.IntN(length)
		}
		pts := seriesPoints(y, n)
		a := AnalyzeMeasure(kind, baseline, pts)
		b := baseline
		if b == 0 {
			b = length
		}
		center := refMedian(y[:b])
		if math.Abs(a.Center-center) > measureTol {
			t.Fatalf("iter %d: center %v, reference %v (y %v, b %d)", iter, a.Center, center, y, b)
		}
		ref := refRunsAnalysis(y, center)
		got := refRuns{a.NUseful, a.LongestRun, a.LongestRunMax, a.Crossings, a.CrossingsMin, a.RunsSignal}
		if got.nUseful != ref.nUseful || got.longest != ref.longest || got.longestMax != ref.longestMax ||
			got.crossings != ref.crossings || got.crossingsMin != ref.crossingsMin || fmtBool(got.signal) != fmtBool(ref.signal) {
			t.Fatalf("iter %d: runs %+v (signal %s), reference %+v (signal %s); y %v b %d", iter, got, fmtBool(got.signal), ref, fmtBool(ref.signal), y, b)
		}
		// Shewhart chart, recomputed from the definitions.
		if kind == MeasureMean {
			sum := 0.0
			for _, v := range y[:b] {
				sum += v
			}
			cl := sum / float64(b)
			if math.Abs(a.CL-cl) > measureTol {
				t.Fatalf("iter %d: cl %v, reference %v", iter, a.CL, cl)
			}
			if b < 2 {
				if a.LCL.Defined() || a.UCL.Defined() {
					t.Fatalf("iter %d: limits from one baseline point", iter)
				}
				continue
			}
			mr := 0.0
			for i := 1; i < b; i++ {
				mr += math.Abs(y[i] - y[i-1])
			}
			amr := mr / float64(b-1)
			if math.Abs(*a.LCL.Value-(cl-2.66*amr)) > measureTol || math.Abs(*a.UCL.Value-(cl+2.66*amr)) > measureTol {
				t.Fatalf("iter %d: limits [%v, %v], reference cl %v amr %v", iter, *a.LCL.Value, *a.UCL.Value, cl, amr)
			}
		} else {
			pn, nn := 0.0, 0
			for i := 0; i < b; i++ {
				pn += y[i] / 100 * float64(n[i])
				nn += n[i]
			}
			cl := pn / float64(nn)
			if math.Abs(a.CL-cl*100) > measureTol {
				t.Fatalf("iter %d: p cl %v, reference %v", iter, a.CL, cl*100)
			}
			for i := range y {
				h := 3 * math.Sqrt(cl*(1-cl)/float64(n[i]))
				lo, hi := math.Max(0, cl-h)*100, math.Min(1, cl+h)*100
				if math.Abs(a.LCL.PerPoint[i]-lo) > measureTol || math.Abs(a.UCL.PerPoint[i]-hi) > measureTol {
					t.Fatalf("iter %d point %d: limits [%v, %v], reference [%v, %v]", iter, i, a.LCL.PerPoint[i], a.UCL.PerPoint[i], lo, hi)
				}
			}
		}
	}
}

func TestQBinomMatchesExactSums(t *testing.T) {
	for n := 0; n <= 200; n++ {
		if got, want := QBinom(0.05, n, 0.5), refQBinom(n); got != want {
			t.Errorf("qbinom(0.05, %d, 0.5) = %d, exact %d", n, got, want)
		}
	}
}

func TestPublishMeasure(t *testing.T) {
	four := 4
	m := Measure{ID: "exit", Kind: MeasurePercent, Baseline: &four, Points: []MeasurePoint{
		{Date: "2026-09-07", N: 22, Value: 3.4},
		{Date: "2026-09-14", N: 6, Value: 50}, // below the minimum: stays in the district
		{Date: "2026-09-21", N: 24, Value: 41.6},
		{Date: "2026-09-28", N: 25, Value: 97.2},
		{Date: "2026-10-05", N: 25, Value: 60.5},
	}}
	pub := PublishMeasure(m, 10)
	if len(pub.Points) != 4 || pub.Withheld != 1 {
		t.Fatalf("published %d points, withheld %d; want 4 and 1", len(pub.Points), pub.Withheld)
	}
	for _, p := range pub.Points {
		if p.Date == "2026-09-14" {
			t.Fatal("a point below the minimum n was published")
		}
	}
	want := []MeasurePoint{{"2026-09-07", 22, 5, "≤5%", false}, {"2026-09-21", 24, 42, "", false}, {"2026-09-28", 25, 95, "≥95%", false}, {"2026-10-05", 25, 61, "", false}}
	if fmt.Sprint(pub.Points) != fmt.Sprint(want) {
		t.Errorf("points %v, want %v", pub.Points, want)
	}
	if pub.Baseline == nil || *pub.Baseline != 3 {
		t.Errorf("baseline %d, want 3 (the first four dates, one withheld)", pub.Baseline)
	}
	// The published analysis is exactly the analysis of the published points.
	again := AnalyzeMeasure(pub.Kind, pub.BaselineLen(), pub.Points)
	if a, b := fmt.Sprint(*again), fmt.Sprint(*pub.Analysis); a != b {
		t.Errorf("published analysis %s differs from the analysis of the published points %s", b, a)
	}
	mean := PublishMeasure(Measure{Kind: MeasureMean, Points: []MeasurePoint{{Date: "2026-09-07", N: 12, Value: 2.349}}}, 10)
	if mean.Points[0].Value != 2.3 {
		t.Errorf("mean published as %v, want 2.3", mean.Points[0].Value)
	}
	// The team's measure is not changed.
	if m.Points[0].Value != 3.4 || len(m.Points) != 5 {
		t.Error("PublishMeasure changed its input")
	}
}

func TestParseMeasureScores(t *testing.T) {
	cut := 3.0
	mean := MeasureScoreOptions{Kind: MeasureMean, ScoreMin: 0, ScoreMax: 4}
	pct := MeasureScoreOptions{Kind: MeasurePercent, ScoreMin: 0, ScoreMax: 4, Cut: &cut}
	csvText := "\uFEFFDate,Score\n2026-09-14,3\n2026-09-07,2\n2026-09-14,4\n2026-09-07,\n2026-09-07,1\n"
	ms, err := ParseMeasureScores(strings.NewReader(csvText), mean)
	if err != nil {
		t.Fatal(err)
	}
	want := []MeasurePoint{{Date: "2026-09-07", N: 2, Value: 1.5}, {Date: "2026-09-14", N: 2, Value: 3.5}}
	if fmt.Sprint(ms.Points) != fmt.Sprint(want) || ms.Read != 5 || ms.Blank != 1 || len(ms.SHA256) != 64 {
		t.Errorf("got %+v, want points %v, 5 rows read, 1 blank", ms, want)
	}
	ms, err = ParseMeasureScores(strings.NewReader(csvText), pct)
	if err != nil {
		t.Fatal(err)
	}
	want = []MeasurePoint{{Date: "2026-09-07", N: 2, Value: 0}, {Date: "2026-09-14", N: 2, Value: 100}}
	if fmt.Sprint(ms.Points) != fmt.Sprint(want) {
		t.Errorf("percent points %v, want %v", ms.Points, want)
	}

	secret := "Jordan.Rivera@example.org"
	refused := []struct {
		name, body, rule string
		opts             MeasureScoreOptions
	}{
		{"identifier header", "date,score,student_name\n2026-09-07,3,Ana\n", RuleIdentifier, mean},
		{"unknown header", "date,score,period\n2026-09-07,3,2\n", RuleUnknownColumn, mean},
		{"missing score", "date\n2026-09-07\n", RuleMissingColumn, mean},
		{"email cell", "date,score\n2026-09-07," + secret + "\n", RuleEmail, mean},
		{"formula", "date,score\n2026-09-07,=A1\n", RuleFormula, mean},
		{"formula date", "date,score\n=TODAY(),3\n", RuleFormula, mean},
		{"bad date", "date,score\n09/07/2026,3\n", RuleInvalidValue, mean},
		{"impossible date", "date,score\n2026-02-30,3\n", RuleInvalidValue, mean},
		{"out of range", "date,score\n2026-09-07,5\n", RuleOutOfRange, mean},
		{"letters", "date,score\n2026-09-07,three\n", RuleLetters, mean},
		{"no date", "date,score\n,3\n", RuleRequired, mean},
		{"empty", "", RuleEmpty, mean},
		{"header only", "date,score\n", RuleNoRows, mean},
		{"no cut", "date,score\n2026-09-07,3\n", RuleInvalidOption, MeasureScoreOptions{Kind: MeasurePercent, ScoreMax: 4}},
		{"too many rows", "date,score\n" + strings.Repeat("2026-09-07,3\n", MaxDataRows+1), RuleTooManyRows, mean},
	}
	for _, tc := range refused {
		_, err := ParseMeasureScores(strings.NewReader(tc.body), tc.opts)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Rule != tc.rule {
			t.Errorf("%s: error %v, want rule %s", tc.name, err, tc.rule)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "Ana") {
			t.Errorf("%s: the error echoes a cell: %v", tc.name, err)
		}
	}
}

func FuzzParseMeasureScores(f *testing.F) {
	for _, s := range []string{"date,score\n2026-09-07,3\n", "score,date\n1,2026-01-01\n2,2026-01-01\n", "date,score\n=1,2\n", "\uFEFFdate,score\n2026-09-07,\"4\"\n"} {
		f.Add(s)
	}
	cut := 2.0
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseMeasureScores(strings.NewReader(s), MeasureScoreOptions{Kind: MeasurePercent, ScoreMin: 0, ScoreMax: 4, Cut: &cut})
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error is not an InputError: %v", err)
			}
			return
		}
		for i, p := range ms.Points {
			if p.N <= 0 || p.Value < 0 || p.Value > 100 || (i > 0 && ms.Points[i-1].Date >= p.Date) {
				t.Fatalf("bad point %+v", p)
			}
		}
	})
}

func TestMeasureSentenceAndSVG(t *testing.T) {
	p := []float64{40, 45, 38, 42, 44, 41, 55, 58, 61, 60, 66, 63}
	n := []int{24, 25, 23, 24, 26, 25, 24, 25, 24, 23, 25, 24}
	six := 6
	m := Measure{ID: "fluency", Name: "Students meeting the fluency goal", Kind: MeasurePercent, Direction: DirectionUp,
		Baseline: &six, Points: seriesPoints(p, n), Notes: []MeasureNote{{Date: "2026-10-12", Text: "Cycle 2: daily <practice> & feedback"}}}
	m.Analysis = AnalyzeMeasure(m.Kind, 6, m.Points)
	s := MeasureSentence(m)
	want := "6 points in a row above the median from 19 October 2026: a shift upwards, which for this measure is improvement."
	if !strings.HasPrefix(s, want) {
		t.Errorf("sentence %q, want it to start %q", s, want)
	}
	m.Direction = DirectionDown
	if s := MeasureSentence(m); !strings.Contains(s, "a change for the worse") {
		t.Errorf("direction down: %q", s)
	}
	m.Direction = DirectionUp
	for _, opts := range []ChartOptions{{}, {Control: true}, {Small: true, YMin: 0, YMax: 100}} {
		svg := string(RenderMeasureSVG(m, opts))
		for _, want := range []string{"<title id=", "<desc id=", "a shift upwards", "19 Oct", "class=\"cl\"", "50%"} {
			if !strings.Contains(svg, want) {
				t.Errorf("%+v: the SVG lacks %q", opts, want)
			}
		}
		if strings.Contains(svg, "<practice>") {
			t.Errorf("a note's text is not escaped")
		}
		if !opts.Small && !strings.Contains(svg, "daily &lt;practice&gt; &amp; feedback") {
			t.Errorf("%+v: the note's text is missing", opts)
		}
		if opts.Control != strings.Contains(svg, `class="lim"`) {
			t.Errorf("%+v: limits drawn %v", opts, !opts.Control)
		}
	}
	if got := FormatValue(m.Kind, m.Points[0]); got != "40%" {
		t.Errorf("value written %q", got)
	}
	flat := Measure{ID: "x", Name: "Flat", Kind: MeasureMean, Direction: DirectionUp, Points: seriesPoints([]float64{2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3}, nil)}
	flat.Analysis = AnalyzeMeasure(flat.Kind, 0, flat.Points)
	if s := MeasureSentence(flat); !strings.HasPrefix(s, "No signal") {
		t.Errorf("flat series: %q", s)
	}
	short := Measure{ID: "x", Name: "Short", Kind: MeasureMean, Points: seriesPoints([]float64{2, 3, 2}, nil)}
	short.Analysis = AnalyzeMeasure(short.Kind, 0, short.Points)
	if s := MeasureSentence(short); !strings.Contains(s, "no signal can be read yet") {
		t.Errorf("short series: %q", s)
	}
}

// FuzzRenderMeasure: a measure as a peer might send it — any JSON — is drawn without a panic, and
// nothing it holds escapes the SVG's text and attributes.
func FuzzRenderMeasure(f *testing.F) {
	f.Add(`{"id":"exit","name":"Exit <ticket>","kind":"mean","direction":"up","points":[{"date":"2026-09-07","n":12,"value":2.5},{"date":"2026-09-14","n":12,"value":3}],"notes":[{"date":"2026-09-10","text":"a & b"}]}`)
	f.Add(`{"id":"x\" onload=\"alert(1)","kind":"percent","baseline":9,"points":[{"date":"bad","n":0,"value":-5}],"analysis":{"baseline":40,"lcl":[1],"ucl":7,"shift":{"from":"z","to":"a"}}}`)
	f.Add(`{"kind":"percent","points":[{"date":"2026-01-01","n":3,"value":1e308}],"target":-1e308}`)
	f.Fuzz(func(t *testing.T, doc string) {
		var m Measure
		if json.Unmarshal([]byte(doc), &m) != nil {
			return
		}
		for _, opts := range []ChartOptions{{}, {Control: true}, {Small: true, YMin: 0, YMax: 4}} {
			svg := string(RenderMeasureSVG(m, opts))
			if strings.Contains(svg, "onload=") || strings.Contains(svg, `\" `) {
				t.Fatalf("an attribute escaped: %s", svg)
			}
			if strings.Contains(svg, "<script") {
				t.Fatalf("markup escaped: %s", svg)
			}
		}
		_ = MeasureSentence(m)
		if len(m.Points) <= MaxMeasurePoints {
			_ = AnalyzeMeasure(m.Kind, m.BaselineLen(), m.Points)
		}
	})
}

func TestIdenticalMeanIsWithheld(t *testing.T) {
	ms, err := ParseMeasureScores(strings.NewReader("date,score\n"+strings.Repeat("2026-09-07,3\n", 12)+strings.Repeat("2026-09-14,3\n2026-09-14,2\n", 6)),
		MeasureScoreOptions{Kind: MeasureMean, ScoreMax: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !ms.Points[0].Identical || ms.Points[1].Identical {
		t.Fatalf("identical marks %+v", ms.Points)
	}
	pub := PublishMeasure(Measure{Kind: MeasureMean, Points: ms.Points}, 10)
	if len(pub.Points) != 1 || pub.Points[0].Date != "2026-09-14" || pub.Withheld != 1 || pub.Points[0].Identical {
		t.Fatalf("published %+v", pub)
	}
	// A percentage of identical scores is coarsened instead (0 % or 100 % of students meeting).
	cut := 3.0
	ps, _ := ParseMeasureScores(strings.NewReader("date,score\n"+strings.Repeat("2026-09-07,3\n", 12)), MeasureScoreOptions{Kind: MeasurePercent, ScoreMax: 4, Cut: &cut})
	if pp := PublishMeasure(Measure{Kind: MeasurePercent, Points: ps.Points}, 10); len(pp.Points) != 1 || pp.Points[0].Coarse != "≥95%" {
		t.Fatalf("percent published %+v", pp.Points)
	}
}
