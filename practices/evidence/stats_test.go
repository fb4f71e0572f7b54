package evidence

import (
	"math"
	"math/rand"
	"testing"
	"testing/quick"
)

const tol = 0.0005

func near(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.6f, want %.4f (±%g)", name, got, want, tol)
	}
}

func nearPtr(t *testing.T, name string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s is missing, want %.4f", name, want)
		return
	}
	near(t, name, *got, want)
}

var (
	districtAPre  = []float64{55, 62, 48, 70, 66, 58, 73, 51, 64, 60, 68, 57}
	districtAPost = []float64{61, 72, 50, 74, 75, 60, 79, 60, 66, 70, 70, 66}
	compPre       = []float64{57, 60, 50, 69, 63, 59, 71, 52, 62, 61, 66, 55}
	compPost      = []float64{58, 64, 49, 72, 67, 58, 74, 56, 61, 65, 68, 57}
)

func scores(g Group, pre, post []float64) []Score {
	out := make([]Score, len(pre))
	for i := range pre {
		out[i] = Score{Group: g, Pre: pre[i], Post: post[i]}
	}
	return out
}

func TestDescribeDistrictA(t *testing.T) {
	cut := 65.0
	d := Describe(scores(Treatment, districtAPre, districtAPost), &cut)
	s := d.Summary()
	if d.N != 12 {
		t.Fatalf("n = %d, want 12", d.N)
	}
	for _, c := range []struct {
		name string
		got  *float64
		want float64
	}{
		{"mean_pre", &d.MeanPre, 61.000}, {"sd_pre", d.SDPre, 7.628}, {"mean_post", &d.MeanPost, 66.917},
		{"sd_post", d.SDPost, 8.118}, {"mean_gain", &d.MeanGain, 5.917}, {"gain_ci_lower", d.GainCILower, 3.758},
		{"gain_ci_upper", d.GainCIUpper, 8.075}, {"paired_t", d.PairedT, 6.034}, {"r", d.R, 0.909},
		{"pct_proficient_pre", d.PctProficientPre, 33.333}, {"pct_proficient_post", d.PctProficientPost, 66.667},
		{"pct_improved", d.PctImproved, 100},
	} {
		t.Run(c.name, func(t *testing.T) { nearPtr(t, c.name, c.got, c.want) })
	}
	// The same gain CI and t from the summary statistics alone.
	g, err := PairedGain(s)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "summary gain_ci_lower", g.CILower, 3.758)
	near(t, "summary gain_ci_upper", g.CIUpper, 8.075)
	near(t, "summary paired_t", g.T, 6.034)
}

func TestReferenceEffects(t *testing.T) {
	a := Describe(scores(Treatment, districtAPre, districtAPost), nil).Summary()
	c := Describe(scores(Comparison, compPre, compPost), nil).Summary()
	smd := func() (Effect, error) { return SMD(a.N, a.MeanPost, a.SDPost, c.N, c.MeanPost, c.SDPost) }
	tests := []struct {
		name    string
		compute func() (Effect, error)
		g, v    float64
		measure string
	}{
		{"district A g_RM", func() (Effect, error) { return SMCR(a) }, 0.7214, 0.0369, MeasureSMCR},
		{"comparison class g_RM", func() (Effect, error) { return SMCR(c) }, 0.2911, 0.0097, MeasureSMCR},
		{"pre/post with comparison", func() (Effect, error) { return SMCRDifference(a, c) }, 0.4302, 0.0466, MeasureSMCRDifference},
		{"post-only comparison", smd, 0.5643, 0.1733, MeasureSMD},
		{"EffectFor single group", func() (Effect, error) { return EffectFor(SingleGroup, a, c) }, 0.7214, 0.0369, MeasureSMCR},
		{"EffectFor pre/post comparison", func() (Effect, error) { return EffectFor(PrePostComparison, a, c) }, 0.4302, 0.0466, MeasureSMCRDifference},
		{"EffectFor post-only", func() (Effect, error) { return EffectFor(PostOnlyComparison, a, c) }, 0.5643, 0.1733, MeasureSMD},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := tc.compute()
			if err != nil {
				t.Fatal(err)
			}
			near(t, "g", e.G, tc.g)
			near(t, "v", e.Variance, tc.v)
			near(t, "ci_lower", e.CILower, tc.g-1.959964*math.Sqrt(tc.v))
			near(t, "ci_upper", e.CIUpper, tc.g+1.959964*math.Sqrt(tc.v))
			if e.Measure != tc.measure {
				t.Errorf("measure = %q, want %q", e.Measure, tc.measure)
			}
		})
	}
	t.Run("baseline", func(t *testing.T) {
		b, err := BaselineEquivalence(a, c)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "baseline g", b.G, 0.0800)
		if b.Status != BaselineNeedsAdjustment {
			t.Errorf("status = %q, want %q", b.Status, BaselineNeedsAdjustment)
		}
	})
}

func TestBaselineStatus(t *testing.T) {
	for _, c := range []struct {
		g    float64
		want string
	}{
		{0, BaselineSatisfied}, {0.05, BaselineSatisfied}, {-0.05, BaselineSatisfied}, {0.0501, BaselineNeedsAdjustment},
		{0.25, BaselineNeedsAdjustment}, {-0.2, BaselineNeedsAdjustment}, {0.2501, BaselineNotSatisfied}, {-0.9, BaselineNotSatisfied},
	} {
		if got := BaselineStatus(c.g); got != c.want {
			t.Errorf("BaselineStatus(%v) = %q, want %q", c.g, got, c.want)
		}
	}
}

// Morris (2008) as reproduced in metafor's documentation (dat.morris2008).
func TestMorris2008(t *testing.T) {
	mPre := []float64{30.6, 23.5, 0.5, 53.4, 35.6}
	mPost := []float64{38.5, 26.8, 0.7, 75.9, 36.0}
	sdPre := []float64{15.0, 3.1, 0.1, 14.5, 4.7}
	n := []int{20, 50, 9, 10, 14}
	r := []float64{.47, .64, .77, .89, .44}
	wantG := []float64{0.5056, 1.0481, 1.8054, 1.4181, 0.0801}
	wantV := []float64{0.0594, 0.0254, 0.2322, 0.1225, 0.0802}
	for i := range n {
		t.Run(string(rune('1'+i)), func(t *testing.T) {
			e, err := SMCR(GroupSummary{N: n[i], MeanPre: mPre[i], SDPre: sdPre[i], MeanPost: mPost[i], R: r[i]})
			if err != nil {
				t.Fatal(err)
			}
			near(t, "g_RM", e.G, wantG[i])
			near(t, "v", e.Variance, wantV[i])
		})
	}
}

func TestSmallSampleFactor(t *testing.T) {
	// c(m) ≈ 1 − 3/(4m − 1) and → 1.
	for _, m := range []float64{10, 22, 50, 200} {
		if got, approx := SmallSampleFactor(m), 1-3/(4*m-1); math.Abs(got-approx) > 0.001 {
			t.Errorf("c(%v) = %v, want ≈ %v", m, got, approx)
		}
	}
	if got := SmallSampleFactor(1e6); math.Abs(got-1) > 1e-6 {
		t.Errorf("c(1e6) = %v, want ≈ 1", got)
	}
}

func TestUndefinedEffects(t *testing.T) {
	for name, f := range map[string]func() (Effect, error){
		"n of 1":         func() (Effect, error) { return SMCR(GroupSummary{N: 1, SDPre: 1, R: .5}) },
		"zero sd_pre":    func() (Effect, error) { return SMCR(GroupSummary{N: 10, SDPre: 0, R: .5}) },
		"unknown r":      func() (Effect, error) { return SMCR(GroupSummary{N: 10, SDPre: 1, R: math.NaN()}) },
		"zero pooled SD": func() (Effect, error) { return SMD(5, 1, 0, 5, 1, 0) },
		"unknown design": func() (Effect, error) { return EffectFor("nonsense", GroupSummary{}, GroupSummary{}) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// fourDistricts are docs/records.md's pooling vectors: A from rows, B–D from summary statistics.
func fourDistricts(t testing.TB) []Effect {
	t.Helper()
	a := Describe(scores(Treatment, districtAPre, districtAPost), nil).Summary()
	in := []GroupSummary{
		a,
		{N: 25, MeanPre: 48.2, SDPre: 10.5, MeanPost: 53.9, R: 0.78},
		{N: 18, MeanPre: 61.0, SDPre: 9.0, MeanPost: 62.8, R: 0.70},
		{N: 30, MeanPre: 52.4, SDPre: 12.1, MeanPost: 60.3, R: 0.82},
	}
	out := make([]Effect, len(in))
	for i, s := range in {
		e, err := SMCR(s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = e
	}
	return out
}

func TestFourDistrictEffects(t *testing.T) {
	want := []struct{ g, v float64 }{{0.7214, 0.0369}, {0.5257, 0.0231}, {0.1910, 0.0343}, {0.6358, 0.0187}}
	for i, e := range fourDistricts(t) {
		near(t, "g"+string(rune('A'+i)), e.G, want[i].g)
		near(t, "v"+string(rune('A'+i)), e.Variance, want[i].v)
	}
}

func yv(es []Effect) (y, v []float64) {
	for _, e := range es {
		y = append(y, e.G)
		v = append(v, e.Variance)
	}
	return y, v
}

func TestPoolDLReference(t *testing.T) {
	y, v := yv(fourDistricts(t))
	p, err := PoolDL(y, v)
	if err != nil {
		t.Fatal(err)
	}
	if p.K != 4 || p.DF != 3 {
		t.Errorf("k, df = %d, %d, want 4, 3", p.K, p.DF)
	}
	// docs/records.md prints I² as a percentage with two decimals (39.18 %); it is compared as the
	// fraction 0.3918 so that the four-decimal tolerance applies.
	for _, c := range []struct {
		name string
		got  *float64
		want float64
	}{
		{"fixed effect", &p.FixedEffect, 0.5351}, {"fixed SE", &p.FixedSE, 0.0809}, {"Q", &p.Q, 4.9327},
		{"p_Q", p.PQ, 0.1768}, {"tau2", &p.Tau2, 0.0173}, {"I2 as a fraction", ptr(p.I2 / 100), 0.3918}, {"H2", &p.H2, 1.6442},
		{"estimate", &p.Estimate, 0.5278}, {"SE", &p.SE, 0.1053}, {"CI lower", &p.CILower, 0.3215},
		{"CI upper", &p.CIUpper, 0.7341}, {"PI lower", p.PILower, -0.1973}, {"PI upper", p.PIUpper, 1.2528},
	} {
		t.Run(c.name, func(t *testing.T) { nearPtr(t, c.name, c.got, c.want) })
	}
	var sum float64
	for _, w := range p.Weights {
		sum += w
	}
	near(t, "sum of weights", sum, 100)
	// The docs/records.md formulas for I² and H² agree with metafor's τ²-based ones when Q > df.
	near(t, "I2 from Q", 100*(p.Q-float64(p.DF))/p.Q, p.I2)
	near(t, "H2 from Q", p.Q/float64(p.DF), p.H2)
}

func TestPoolDLErrors(t *testing.T) {
	if _, err := PoolDL(nil, nil); err != ErrNoTests {
		t.Errorf("empty: err = %v, want ErrNoTests", err)
	}
	if _, err := PoolDL([]float64{1}, []float64{0}); err == nil {
		t.Error("zero variance: no error")
	}
	if _, err := PoolDL([]float64{1, 2}, []float64{1}); err == nil {
		t.Error("length mismatch: no error")
	}
}

func TestPoolProperties(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	randomTests := func(k int) (y, v []float64) {
		for range k {
			y = append(y, rng.NormFloat64()*0.5+0.3)
			v = append(v, 0.005+rng.Float64()*0.2)
		}
		return y, v
	}
	t.Run("invariant to order", func(t *testing.T) {
		for trial := range 200 {
			k := 2 + rng.Intn(12)
			y, v := randomTests(k)
			a, err := PoolDL(y, v)
			if err != nil {
				t.Fatal(err)
			}
			perm := rng.Perm(k)
			y2, v2 := make([]float64, k), make([]float64, k)
			for i, j := range perm {
				y2[i], v2[i] = y[j], v[j]
			}
			b, err := PoolDL(y2, v2)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range [][2]float64{{a.Estimate, b.Estimate}, {a.SE, b.SE}, {a.Tau2, b.Tau2}, {a.Q, b.Q}, {a.I2, b.I2}} {
				if math.Abs(c[0]-c[1]) > 1e-9 {
					t.Fatalf("trial %d: order changed a result: %v vs %v", trial, c[0], c[1])
				}
			}
		}
	})
	t.Run("one test pools to itself", func(t *testing.T) {
		f := func(g float64, v8 uint8) bool {
			if math.IsNaN(g) || math.IsInf(g, 0) || math.Abs(g) > 100 {
				return true
			}
			v := 0.001 + float64(v8)/100
			p, err := PoolDL([]float64{g}, []float64{v})
			return err == nil && p.Tau2 == 0 && math.Abs(p.Estimate-g) < 1e-12 && math.Abs(p.SE-math.Sqrt(v)) < 1e-12 &&
				p.PILower == nil && p.I2 == 0
		}
		if err := quick.Check(f, &quick.Config{Rand: rng}); err != nil {
			t.Error(err)
		}
	})
	t.Run("identical tests have no heterogeneity", func(t *testing.T) {
		for range 100 {
			k := 2 + rng.Intn(10)
			g, v := rng.NormFloat64(), 0.01+rng.Float64()
			y, vs := make([]float64, k), make([]float64, k)
			for i := range y {
				y[i], vs[i] = g, v
			}
			p, err := PoolDL(y, vs)
			if err != nil {
				t.Fatal(err)
			}
			if p.I2 != 0 || p.Tau2 != 0 || p.Q > 1e-12 || math.Abs(p.Estimate-g) > 1e-12 {
				t.Fatalf("k=%d identical tests: I2 %v tau2 %v Q %v estimate %v (g %v)", k, p.I2, p.Tau2, p.Q, p.Estimate, g)
			}
		}
	})
}

// Scaling every score by a positive constant (and shifting it) changes no standardized effect.
func TestEffectsScaleInvariant(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for trial := range 200 {
		n1, n2 := 5+rng.Intn(30), 5+rng.Intn(30)
		gen := func(g Group, n int) []Score {
			out := make([]Score, n)
			for i := range out {
				pre := 50 + rng.NormFloat64()*10
				out[i] = Score{Group: g, Pre: pre, Post: pre + 3 + rng.NormFloat64()*5}
			}
			return out
		}
		t1, c1 := gen(Treatment, n1), gen(Comparison, n2)
		k, shift := 0.1+rng.Float64()*20, rng.NormFloat64()*100
		scale := func(rows []Score) []Score {
			out := append([]Score(nil), rows...)
			for i := range out {
				out[i].Pre, out[i].Post = out[i].Pre*k+shift, out[i].Post*k+shift
			}
			return out
		}
		ta := Describe(t1, nil).Summary()
		ca := Describe(c1, nil).Summary()
		tb := Describe(scale(t1), nil).Summary()
		cb := Describe(scale(c1), nil).Summary()
		for _, d := range []Design{SingleGroup, PrePostComparison, PostOnlyComparison} {
			ea, err1 := EffectFor(d, ta, ca)
			eb, err2 := EffectFor(d, tb, cb)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if math.Abs(ea.G-eb.G) > 1e-9 || math.Abs(ea.Variance-eb.Variance) > 1e-9 {
				t.Fatalf("trial %d %s: g %v → %v after scaling by %v", trial, d, ea.G, eb.G, k)
			}
		}
		ba, _ := BaselineEquivalence(ta, ca)
		bb, _ := BaselineEquivalence(tb, cb)
		if math.Abs(ba.G-bb.G) > 1e-9 {
			t.Fatalf("trial %d: baseline g %v → %v after scaling", trial, ba.G, bb.G)
		}
	}
}
