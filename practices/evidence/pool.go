package evidence

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// DL is a DerSimonian–Laird random-effects meta-analysis, as metafor's rma(yi, vi, method = "DL").
type DL struct {
	K           int       `json:"k"`
	FixedEffect float64   `json:"fixed_effect"`
	FixedSE     float64   `json:"fixed_se"`
	Q           float64   `json:"q"`
	DF          int       `json:"df"`
	PQ          *float64  `json:"p_q,omitempty"` // nil when k = 1
	Tau2        float64   `json:"tau2"`
	I2          float64   `json:"i2"` // percent
	H2          float64   `json:"h2"`
	Estimate    float64   `json:"estimate"`
	SE          float64   `json:"se"`
	CILower     float64   `json:"ci_lower"`
	CIUpper     float64   `json:"ci_upper"`
	PILower     *float64  `json:"pi_lower,omitempty"` // prediction interval, k ≥ 3 only
	PIUpper     *float64  `json:"pi_upper,omitempty"`
	Weights     []float64 `json:"-"` // random-effects weights in percent, in input order
}

// ErrNoTests is returned when there is nothing to pool.
var ErrNoTests = errors.New("no tests to pool")

// PoolDL pools effect sizes y with sampling variances v by DerSimonian–Laird.
//
// I² and H² follow metafor for random-effects models (100·τ²/(ṽ+τ²) and 1+τ²/ṽ with the typical
// within-study variance ṽ = df/C); for DL these equal max(0,(Q−df)/Q)·100 and Q/df whenever Q > df,
// and are 0 and 1 otherwise.
func PoolDL(y, v []float64) (DL, error) {
	k := len(y)
	if k == 0 {
		return DL{}, ErrNoTests
	}
	if len(v) != k {
		return DL{}, fmt.Errorf("pool: %d effects but %d variances", k, len(v))
	}
	for i := range v {
		if !(v[i] > 0) || math.IsInf(v[i], 0) || math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return DL{}, fmt.Errorf("pool: test %d has effect %v with variance %v: %w", i+1, y[i], v[i], ErrUndefined)
		}
	}
	var sw, sw2, swy float64
	for i := range y {
		w := 1 / v[i]
		sw += w
		sw2 += w * w
		swy += w * y[i]
	}
	fe := swy / sw
	var q float64
	for i := range y {
		d := y[i] - fe
		q += d * d / v[i]
	}
	df := k - 1
	r := DL{K: k, FixedEffect: fe, FixedSE: 1 / math.Sqrt(sw), Q: q, DF: df, H2: 1}
	if df > 0 {
		r.PQ = ptr(distuv.ChiSquared{K: float64(df)}.Survival(q))
		c := sw - sw2/sw
		if c > 0 {
			r.Tau2 = math.Max(0, (q-float64(df))/c)
			vt := float64(df) / c
			r.I2 = 100 * r.Tau2 / (vt + r.Tau2)
			r.H2 = 1 + r.Tau2/vt
		}
	}
	var sws, swsy float64
	ws := make([]float64, k)
	for i := range y {
		ws[i] = 1 / (v[i] + r.Tau2)
		sws += ws[i]
		swsy += ws[i] * y[i]
	}
	r.Estimate = swsy / sws
	r.SE = 1 / math.Sqrt(sws)
	r.CILower, r.CIUpper = r.Estimate-z975*r.SE, r.Estimate+z975*r.SE
	if k >= 3 {
		t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(k - 2)}.Quantile(0.975)
		h := t * math.Sqrt(r.Tau2+r.SE*r.SE)
		r.PILower, r.PIUpper = ptr(r.Estimate-h), ptr(r.Estimate+h)
	}
	r.Weights = make([]float64, k)
	for i := range ws {
		r.Weights[i] = 100 * ws[i] / sws
	}
	return r, nil
}

// Evidence levels, a search facet. Never call them ESSA tiers.
const (
	LevelDescribed        = "described"         // no published test
	LevelTested           = "tested"            // at least one published test
	LevelReplicated       = "replicated"        // tests in ≥ 2 districts, pooled CI above 0
	LevelCompared         = "compared"          // and a comparison test with |baseline g| ≤ 0.25 and CI above 0
	LevelNetworkConfirmed = "network_confirmed" // and ≥ 3 districts, pooled CI above 0, I² < 50 %
)

// TestEvidence is what pooling needs from one published, visible test of a practice (local or
// mirrored). Build it from a test's published Results with FromResults.
type TestEvidence struct {
	Test      string    `json:"test"`     // the test's URI
	Label     string    `json:"label"`    // display label (title or team)
	District  string    `json:"district"` // origin node id: tests from one district count once
	Design    Design    `json:"design"`
	N         int       `json:"n"`           // students in the effect (both groups)
	MinGroupN int       `json:"min_group_n"` // smallest group in the effect
	Effect    *Effect   `json:"effect,omitempty"`
	Baseline  *Baseline `json:"baseline,omitempty"`
	Adapted   bool      `json:"adapted"` // a test of an adaptation of the practice
}

// FromResults extracts the pooling inputs from published results; the caller adds the test's URI,
// label, district and whether it tested an adaptation.
func FromResults(r *Results) TestEvidence {
	te := TestEvidence{Design: Design(r.Design), Effect: r.Effect, Baseline: r.Baseline}
	for i, g := range r.Groups {
		n := 0
		if g.N != nil {
			n = *g.N
		}
		te.N += n
		if i == 0 || n < te.MinGroupN {
			te.MinGroupN = n
		}
	}
	return te
}

// ForestRow is one line of a forest plot.
type ForestRow struct {
	Test     string  `json:"test"`
	Label    string  `json:"label"`
	District string  `json:"district"`
	Design   Design  `json:"design"`
	N        int     `json:"n"`
	G        float64 `json:"g"`
	CILower  float64 `json:"ci_lower"`
	CIUpper  float64 `json:"ci_upper"`
	Weight   float64 `json:"weight_pct"` // random-effects weight
	Adapted  bool    `json:"adapted"`
}

// Pool is the pooled evidence of one design family.
type Pool struct {
	Family    Family      `json:"family"`
	Districts int         `json:"districts"`
	Result    DL          `json:"result"`
	Rows      []ForestRow `json:"rows"`
}

// Summary is the practice-level evidence: the level and the pooled effect per design family.
type Summary struct {
	Level         string `json:"level"`
	Tests         int    `json:"tests"`     // published tests considered
	Districts     int    `json:"districts"` // districts among them
	Eligible      int    `json:"eligible"`  // tests with an effect and every group ≥ minimum_n
	MinimumN      int    `json:"minimum_n"`
	Pools         []Pool `json:"pools,omitempty"` // single_group first, then comparison
	HasComparison bool   `json:"has_qualifying_comparison"`
}

// Summarize pools a practice's published tests by design family and assigns the evidence level.
// Only tests whose every group has at least minimumN students (and so a published effect) are
// pooled. Levels form a ladder: each requires the one below it.
func Summarize(tests []TestEvidence, minimumN int) (Summary, error) {
	minimumN, err := CheckMinimumN(minimumN)
	if err != nil {
		return Summary{}, fmt.Errorf("summarize evidence: %w", err)
	}
	s := Summary{Level: LevelDescribed, Tests: len(tests), MinimumN: minimumN}
	s.Districts = countDistricts(tests)
	if len(tests) == 0 {
		return s, nil
	}
	s.Level = LevelTested
	byFamily := map[Family][]TestEvidence{}
	for _, t := range tests {
		if t.Effect == nil || t.MinGroupN < minimumN || !t.Design.Valid() {
			continue
		}
		s.Eligible++
		f := t.Design.Family()
		byFamily[f] = append(byFamily[f], t)
		if t.Design.Comparison() && t.Baseline != nil && math.Abs(t.Baseline.G) <= 0.25 && t.Effect.CILower > 0 {
			s.HasComparison = true
		}
	}
	replicated, confirmed := false, false
	for _, f := range []Family{FamilySingleGroup, FamilyComparison} {
		ts := byFamily[f]
		if len(ts) == 0 {
			continue
		}
		p, err := poolFamily(f, ts)
		if err != nil {
			return Summary{}, fmt.Errorf("summarize evidence, %s family: %w", f, err)
		}
		s.Pools = append(s.Pools, p)
		if p.Result.CILower > 0 && p.Districts >= 2 {
			replicated = true
		}
		if p.Result.CILower > 0 && p.Districts >= 3 && p.Result.I2 < 50 {
			confirmed = true
		}
	}
	switch {
	case !replicated:
	case !s.HasComparison:
		s.Level = LevelReplicated
	case !confirmed:
		s.Level = LevelCompared
	default:
		s.Level = LevelNetworkConfirmed
	}
	return s, nil
}

func countDistricts(ts []TestEvidence) int {
	seen := map[string]bool{}
	for _, t := range ts {
		seen[t.District] = true
	}
	return len(seen)
}

func poolFamily(f Family, ts []TestEvidence) (Pool, error) {
	// A stable order (by district, then test) so the forest plot does not depend on input order.
	ts = append([]TestEvidence(nil), ts...)
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].District != ts[j].District {
			return ts[i].District < ts[j].District
		}
		return ts[i].Test < ts[j].Test
	})
	y, v := make([]float64, len(ts)), make([]float64, len(ts))
	for i, t := range ts {
		y[i], v[i] = t.Effect.G, t.Effect.Variance
	}
	dl, err := PoolDL(y, v)
	if err != nil {
		return Pool{}, err
	}
	p := Pool{Family: f, Districts: countDistricts(ts), Result: dl, Rows: make([]ForestRow, len(ts))}
	for i, t := range ts {
		p.Rows[i] = ForestRow{
			Test: t.Test, Label: t.Label, District: t.District, Design: t.Design, N: t.N,
			G: t.Effect.G, CILower: t.Effect.CILower, CIUpper: t.Effect.CIUpper,
			Weight: dl.Weights[i], Adapted: t.Adapted,
		}
	}
	return p, nil
}
