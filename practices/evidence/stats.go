package evidence

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// z975 is the 0.975 quantile of the standard normal, as metafor prints it.
const z975 = 1.959964

// Design is a test's design; it chooses the effect size.
type Design string

const (
	SingleGroup        Design = "single_group_pre_post"
	PrePostComparison  Design = "pre_post_with_comparison"
	PostOnlyComparison Design = "post_only_comparison"
)

// Valid reports whether d is one of the three designs.
func (d Design) Valid() bool {
	return d == SingleGroup || d == PrePostComparison || d == PostOnlyComparison
}

// Comparison reports whether the design has a comparison group.
func (d Design) Comparison() bool { return d == PrePostComparison || d == PostOnlyComparison }

// Family is the pooling family of the design: single-group tests pool together, and the two
// comparison designs pool together.
func (d Design) Family() Family {
	if d.Comparison() {
		return FamilyComparison
	}
	return FamilySingleGroup
}

// Family names a set of designs whose effect sizes may be pooled.
type Family string

const (
	FamilySingleGroup Family = "single_group"
	FamilyComparison  Family = "comparison"
)

// Metafor measure names, recorded with every effect so a research office knows which escalc call
// reproduces it.
const (
	MeasureSMCR           = "SMCR"            // escalc(measure = "SMCR", m1i = post, m2i = pre, sd1i = sd_pre, ni, ri)
	MeasureSMCRDifference = "SMCR_difference" // g_RM(treatment) − g_RM(comparison), variances added
	MeasureSMD            = "SMD"             // escalc(measure = "SMD"), Hedges' g, vtype "LS"
)

// ErrUndefined reports a statistic that the data cannot define (for example an SD of zero).
var ErrUndefined = errors.New("statistic undefined")

// SmallSampleFactor is metafor's c(m) = Γ(m/2) / (√(m/2) · Γ((m−1)/2)), computed on the log scale.
func SmallSampleFactor(m float64) float64 {
	a, _ := math.Lgamma(m / 2)
	b, _ := math.Lgamma((m - 1) / 2)
	return math.Exp(a - math.Log(math.Sqrt(m/2)) - b)
}

// GroupSummary is the sufficient statistics of one group: everything an effect size needs.
// It comes either from score rows (Describe) or from a team's summary statistics.
type GroupSummary struct {
	N        int
	MeanPre  float64
	SDPre    float64
	MeanPost float64
	SDPost   float64
	R        float64 // pre–post correlation; NaN when unknown
}

// Effect is one effect size with its sampling variance and 95% confidence interval.
type Effect struct {
	Measure  string  `json:"measure"`
	G        float64 `json:"g"`
	Variance float64 `json:"variance"`
	SE       float64 `json:"se"`
	CILower  float64 `json:"ci_lower"`
	CIUpper  float64 `json:"ci_upper"`
}

func newEffect(measure string, g, v float64) Effect {
	se := math.Sqrt(v)
	return Effect{Measure: measure, G: g, Variance: v, SE: se, CILower: g - z975*se, CIUpper: g + z975*se}
}

// SMCR is the standardized mean change with raw-score standardization (Becker's g_RM), exactly as
// metafor's escalc(measure = "SMCR"): c(n−1)·(mean_post − mean_pre)/sd_pre with variance
// 2(1−r)/n + g²/(2n).
func SMCR(s GroupSummary) (Effect, error) {
	switch {
	case s.N < 2:
		return Effect{}, fmt.Errorf("SMCR with n = %d: %w", s.N, ErrUndefined)
	case !(s.SDPre > 0):
		return Effect{}, fmt.Errorf("SMCR with pre-test SD of zero: %w", ErrUndefined)
	case math.IsNaN(s.R) || s.R < -1 || s.R > 1:
		return Effect{}, fmt.Errorf("SMCR without a pre–post correlation: %w", ErrUndefined)
	}
	n := float64(s.N)
	g := SmallSampleFactor(n-1) * (s.MeanPost - s.MeanPre) / s.SDPre
	v := 2*(1-s.R)/n + g*g/(2*n)
	return newEffect(MeasureSMCR, g, v), nil
}

// SMCRDifference is the pre/post-with-comparison effect: g_RM of the treatment group minus g_RM of
// the comparison group, with the variances added.
func SMCRDifference(treatment, comparison GroupSummary) (Effect, error) {
	t, err := SMCR(treatment)
	if err != nil {
		return Effect{}, fmt.Errorf("treatment group: %w", err)
	}
	c, err := SMCR(comparison)
	if err != nil {
		return Effect{}, fmt.Errorf("comparison group: %w", err)
	}
	return newEffect(MeasureSMCRDifference, t.G-c.G, t.Variance+c.Variance), nil
}

// SMD is Hedges' g for two independent groups, exactly as metafor's escalc(measure = "SMD") with
// the default large-sample variance: c(n₁+n₂−2)·(m₁ − m₂)/s_pooled, 1/n₁ + 1/n₂ + g²/(2(n₁+n₂)).
func SMD(n1 int, m1, sd1 float64, n2 int, m2, sd2 float64) (Effect, error) {
	if n1 < 2 || n2 < 2 {
		return Effect{}, fmt.Errorf("SMD with group sizes %d and %d: %w", n1, n2, ErrUndefined)
	}
	a, b := float64(n1), float64(n2)
	sp := math.Sqrt(((a-1)*sd1*sd1 + (b-1)*sd2*sd2) / (a + b - 2))
	if !(sp > 0) {
		return Effect{}, fmt.Errorf("SMD with a pooled SD of zero: %w", ErrUndefined)
	}
	g := SmallSampleFactor(a+b-2) * (m1 - m2) / sp
	v := 1/a + 1/b + g*g/(2*(a+b))
	return newEffect(MeasureSMD, g, v), nil
}

// Baseline equivalence statuses (What Works Clearinghouse thresholds on |g| of the pre-test).
const (
	BaselineSatisfied       = "satisfied"        // |g| ≤ 0.05
	BaselineNeedsAdjustment = "needs_adjustment" // 0.05 < |g| ≤ 0.25
	BaselineNotSatisfied    = "not_satisfied"    // |g| > 0.25
)

// Baseline is the pre-test difference between the groups of a comparison design.
type Baseline struct {
	G      float64 `json:"g"`
	Status string  `json:"status"`
}

// BaselineStatus classifies a baseline Hedges' g by its absolute value.
func BaselineStatus(g float64) string {
	switch a := math.Abs(g); {
	case a <= 0.05:
		return BaselineSatisfied
	case a <= 0.25:
		return BaselineNeedsAdjustment
	default:
		return BaselineNotSatisfied
	}
}

// BaselineEquivalence is Hedges' g of treatment minus comparison on the pre-test, classified.
func BaselineEquivalence(treatment, comparison GroupSummary) (Baseline, error) {
	e, err := SMD(treatment.N, treatment.MeanPre, treatment.SDPre, comparison.N, comparison.MeanPre, comparison.SDPre)
	if err != nil {
		return Baseline{}, fmt.Errorf("baseline equivalence: %w", err)
	}
	return Baseline{G: e.G, Status: BaselineStatus(e.G)}, nil
}

// EffectFor computes the design's effect size from the groups' summaries. comparison is ignored
// for the single-group design.
func EffectFor(d Design, treatment, comparison GroupSummary) (Effect, error) {
	switch d {
	case SingleGroup:
		return SMCR(treatment)
	case PrePostComparison:
		return SMCRDifference(treatment, comparison)
	case PostOnlyComparison:
		return SMD(treatment.N, treatment.MeanPost, treatment.SDPost, comparison.N, comparison.MeanPost, comparison.SDPost)
	}
	return Effect{}, fmt.Errorf("effect for design %q: unknown design", d)
}

// Gain is the mean pre-to-post change of a group with its 95% CI (t with n−1 df) and paired t.
type Gain struct {
	Mean    float64
	CILower float64
	CIUpper float64
	T       float64
}

// PairedGain computes the mean gain, its CI and the paired t from summary statistics; the SD of
// the differences is √(sd_pre² + sd_post² − 2·r·sd_pre·sd_post), which equals the SD computed from
// rows.
func PairedGain(s GroupSummary) (Gain, error) {
	if s.N < 2 || math.IsNaN(s.R) {
		return Gain{}, fmt.Errorf("paired gain: %w", ErrUndefined)
	}
	return pairedGain(s.N, s.MeanPost-s.MeanPre, diffSD(s))
}

func diffSD(s GroupSummary) float64 {
	v := s.SDPre*s.SDPre + s.SDPost*s.SDPost - 2*s.R*s.SDPre*s.SDPost
	return math.Sqrt(math.Max(0, v))
}

func pairedGain(n int, mean, sdDiff float64) (Gain, error) {
	if n < 2 {
		return Gain{}, fmt.Errorf("paired gain with n = %d: %w", n, ErrUndefined)
	}
	se := sdDiff / math.Sqrt(float64(n))
	if !(se > 0) {
		return Gain{}, fmt.Errorf("paired gain with identical changes: %w", ErrUndefined)
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(0.975)
	return Gain{Mean: mean, CILower: mean - t*se, CIUpper: mean + t*se, T: mean / se}, nil
}

// Score is one student's pair of scores with the optional flags, as it stays in memory.
type Score struct {
	Group      Group
	Pre, Post  float64
	EL         Flag
	SWD        Flag
	EconDisadv Flag
}

// Group names the arm a student belongs to.
type Group string

const (
	Treatment  Group = "treatment"
	Comparison Group = "comparison"
)

// Flag is a Y/N subgroup marker; FlagUnknown when the column is absent or the cell blank.
type Flag byte

const (
	FlagUnknown Flag = 0
	FlagYes     Flag = 'Y'
	FlagNo      Flag = 'N'
)

// Descriptives are the internal (unsuppressed) statistics of one group or subgroup. Pointers are
// nil where the statistic is undefined or, for summary-statistics input, unavailable.
type Descriptives struct {
	N                 int      `json:"n"`
	MeanPre           float64  `json:"mean_pre"`
	SDPre             *float64 `json:"sd_pre,omitempty"`
	MeanPost          float64  `json:"mean_post"`
	SDPost            *float64 `json:"sd_post,omitempty"`
	MeanGain          float64  `json:"mean_gain"`
	GainCILower       *float64 `json:"gain_ci_lower,omitempty"`
	GainCIUpper       *float64 `json:"gain_ci_upper,omitempty"`
	PairedT           *float64 `json:"paired_t,omitempty"`
	R                 *float64 `json:"r,omitempty"`
	PctProficientPre  *float64 `json:"pct_proficient_pre,omitempty"`
	PctProficientPost *float64 `json:"pct_proficient_post,omitempty"`
	PctImproved       *float64 `json:"pct_improved,omitempty"`
	// IdenticalScores: every pre score, every post score or every gain is the same, so a mean
	// would be each student's own score (published without means; see IdenticalScores).
	IdenticalScores bool `json:"identical_scores,omitempty"`
}

func ptr(f float64) *float64 { return &f }

// Summary is the sufficient statistics the descriptives hold, for effect sizes: one group's
// statistics are described once (Descriptives) and this view is derived from them.
func (d Descriptives) Summary() GroupSummary {
	s := GroupSummary{N: d.N, MeanPre: d.MeanPre, MeanPost: d.MeanPost, R: math.NaN()}
	if d.SDPre != nil && d.SDPost != nil {
		s.SDPre, s.SDPost = *d.SDPre, *d.SDPost
	}
	if d.R != nil {
		s.R = *d.R
	}
	return s
}

// Describe computes the descriptives of a set of score rows. cut is the proficiency cut (score ≥
// cut is proficient); nil leaves the proficiency percentages out.
func Describe(rows []Score, cut *float64) Descriptives {
	n := len(rows)
	d := Descriptives{N: n}
	if n == 0 {
		return d
	}
	var sumPre, sumPost float64
	var profPre, profPost, improved int
	pres, posts, gains := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, r := range rows {
		pres[i], posts[i], gains[i] = r.Pre, r.Post, r.Post-r.Pre
		sumPre += r.Pre
		sumPost += r.Post
		if cut != nil {
			if r.Pre >= *cut {
				profPre++
			}
			if r.Post >= *cut {
				profPost++
			}
		}
		if r.Post > r.Pre {
			improved++
		}
	}
	d.IdenticalScores = IdenticalScores(pres) || IdenticalScores(posts) || IdenticalScores(gains)
	fn := float64(n)
	mPre, mPost := sumPre/fn, sumPost/fn
	d.MeanPre, d.MeanPost, d.MeanGain = mPre, mPost, mPost-mPre
	d.PctImproved = ptr(100 * float64(improved) / fn)
	if cut != nil {
		d.PctProficientPre = ptr(100 * float64(profPre) / fn)
		d.PctProficientPost = ptr(100 * float64(profPost) / fn)
	}
	if n < 2 {
		return d
	}
	// Two-pass sums of squares and cross-products around the means.
	var ssPre, ssPost, sp, ssDiff float64
	mGain := mPost - mPre
	for _, r := range rows {
		a, b := r.Pre-mPre, r.Post-mPost
		ssPre += a * a
		ssPost += b * b
		sp += a * b
		g := (r.Post - r.Pre) - mGain
		ssDiff += g * g
	}
	sdPre, sdPost := math.Sqrt(ssPre/(fn-1)), math.Sqrt(ssPost/(fn-1))
	d.SDPre, d.SDPost = ptr(sdPre), ptr(sdPost)
	if ssPre > 0 && ssPost > 0 {
		d.R = ptr(sp / math.Sqrt(ssPre*ssPost))
	}
	if g, err := pairedGain(n, mGain, math.Sqrt(ssDiff/(fn-1))); err == nil {
		d.GainCILower, d.GainCIUpper, d.PairedT = ptr(g.CILower), ptr(g.CIUpper), ptr(g.T)
	}
	return d
}

// DescribeSummary turns summary statistics into descriptives: the percentages are unavailable.
func DescribeSummary(s GroupSummary) Descriptives {
	d := Descriptives{N: s.N, MeanPre: s.MeanPre, MeanPost: s.MeanPost, MeanGain: s.MeanPost - s.MeanPre}
	if s.N >= 2 {
		d.SDPre, d.SDPost = ptr(s.SDPre), ptr(s.SDPost)
	}
	if !math.IsNaN(s.R) {
		d.R = ptr(s.R)
		if g, err := PairedGain(s); err == nil {
			d.GainCILower, d.GainCIUpper, d.PairedT = ptr(g.CILower), ptr(g.CIUpper), ptr(g.T)
		}
	}
	return d
}
