package evidence

import (
	"fmt"
	"math"
)

// SummaryInput is what a team enters when it has summary statistics instead of score rows: one
// entry per group. It decodes from JSON:
//
//	{"groups": [{"group": "treatment", "n": 25, "mean_pre": 48.2, "sd_pre": 10.5,
//	             "mean_post": 53.9, "sd_post": 11.0, "r": 0.78}]}
type SummaryInput struct {
	Groups []SummaryGroup `json:"groups"`
}

// SummaryGroup is one group's summary statistics. Percentages are optional (0–100).
type SummaryGroup struct {
	Group             Group    `json:"group"` // treatment (default) | comparison
	N                 int      `json:"n"`
	MeanPre           *float64 `json:"mean_pre"`
	SDPre             *float64 `json:"sd_pre"`
	MeanPost          *float64 `json:"mean_post"`
	SDPost            *float64 `json:"sd_post"`
	R                 *float64 `json:"r"` // required except for post_only_comparison
	PctProficientPre  *float64 `json:"pct_proficient_pre,omitempty"`
	PctProficientPost *float64 `json:"pct_proficient_post,omitempty"`
	PctImproved       *float64 `json:"pct_improved,omitempty"`
}

// maxSummaryN bounds n in summary statistics; larger tests are not classrooms.
const maxSummaryN = 100000

func fieldErr(i int, field, rule, msg string) error {
	return &InputError{Field: fmt.Sprintf("groups[%d].%s", i, field), Rule: rule, Message: msg}
}

// Validate checks the input against the design and the assessment; errors name the field.
func (in SummaryInput) Validate(opts Options) error {
	opts, err := opts.normalize()
	if err != nil {
		return fmt.Errorf("summary statistics: %w", err)
	}
	if err := in.validate(opts); err != nil {
		return fmt.Errorf("summary statistics: %w", err)
	}
	return nil
}

func (in SummaryInput) validate(opts Options) error {
	want := 1
	if opts.Design.Comparison() {
		want = 2
	}
	if len(in.Groups) != want {
		return &InputError{Field: "groups", Rule: RuleDesignMismatch, Message: fmt.Sprintf(
			"the design %s needs %d group(s), treatment%s; got %d", opts.Design, want,
			map[bool]string{true: " and comparison", false: ""}[want == 2], len(in.Groups))}
	}
	seen := map[Group]bool{}
	for i, g := range in.Groups {
		grp := g.Group
		if grp == "" {
			grp = Treatment
		}
		if grp != Treatment && grp != Comparison {
			return fieldErr(i, "group", RuleInvalidValue, "group must be treatment or comparison")
		}
		if seen[grp] {
			return fieldErr(i, "group", RuleDesignMismatch, fmt.Sprintf("the %s group appears twice", grp))
		}
		seen[grp] = true
		if grp == Comparison && !opts.Design.Comparison() {
			return fieldErr(i, "group", RuleDesignMismatch, fmt.Sprintf("the design %s has no comparison group", opts.Design))
		}
		if g.N < 2 || g.N > maxSummaryN {
			return fieldErr(i, "n", RuleInvalidValue, fmt.Sprintf("n must be a whole number from 2 to %d", maxSummaryN))
		}
		width := opts.ScoreMax - opts.ScoreMin
		for _, f := range []struct {
			name string
			v    *float64
			mean bool
		}{{"mean_pre", g.MeanPre, true}, {"sd_pre", g.SDPre, false}, {"mean_post", g.MeanPost, true}, {"sd_post", g.SDPost, false}} {
			switch {
			case f.v == nil:
				return fieldErr(i, f.name, RuleRequired, "the field is required")
			case !finite(*f.v):
				return fieldErr(i, f.name, RuleNotNumber, "the field must be a number")
			case f.mean && (*f.v < opts.ScoreMin || *f.v > opts.ScoreMax):
				return fieldErr(i, f.name, RuleOutOfRange, fmt.Sprintf("the mean must lie within the assessment's range %g–%g", opts.ScoreMin, opts.ScoreMax))
			case !f.mean && (*f.v <= 0 || *f.v > width):
				return fieldErr(i, f.name, RuleOutOfRange, fmt.Sprintf("the SD must be above 0 and at most the width of the score range (%g)", width))
			}
		}
		switch {
		case g.R == nil && opts.Design != PostOnlyComparison:
			return fieldErr(i, "r", RuleRequired, "the pre–post correlation r is required for this design")
		case g.R != nil && (!finite(*g.R) || *g.R < -1 || *g.R > 1):
			return fieldErr(i, "r", RuleOutOfRange, "r must be between −1 and 1")
		}
		for _, f := range []struct {
			name string
			v    *float64
		}{{"pct_proficient_pre", g.PctProficientPre}, {"pct_proficient_post", g.PctProficientPost}, {"pct_improved", g.PctImproved}} {
			if f.v != nil && (!finite(*f.v) || *f.v < 0 || *f.v > 100) {
				return fieldErr(i, f.name, RuleOutOfRange, "a percentage must be between 0 and 100")
			}
		}
	}
	if !seen[Treatment] {
		return &InputError{Field: "groups", Rule: RuleDesignMismatch, Message: "the treatment group is missing"}
	}
	return nil
}

// AnalyzeSummary computes a test's results from summary statistics.
func AnalyzeSummary(in SummaryInput, opts Options) (*Analysis, error) {
	opts, err := opts.normalize()
	if err != nil {
		return nil, fmt.Errorf("analyze summary statistics: %w", err)
	}
	if err := in.validate(opts); err != nil {
		return nil, fmt.Errorf("analyze summary statistics: %w", err)
	}
	a := newAnalysis(opts, SourceSummary)
	order := []Group{Treatment}
	if opts.Design.Comparison() {
		order = append(order, Comparison)
	}
	for _, want := range order {
		for _, g := range in.Groups {
			grp := g.Group
			if grp == "" {
				grp = Treatment
			}
			if grp != want {
				continue
			}
			s := GroupSummary{N: g.N, MeanPre: *g.MeanPre, SDPre: *g.SDPre, MeanPost: *g.MeanPost, SDPost: *g.SDPost, R: math.NaN()}
			if g.R != nil {
				s.R = *g.R
			}
			d := DescribeSummary(s)
			d.PctProficientPre, d.PctProficientPost, d.PctImproved = g.PctProficientPre, g.PctProficientPost, g.PctImproved
			a.Groups = append(a.Groups, GroupAnalysis{Group: want, Descriptives: d})
			a.RowsUsed += g.N
		}
	}
	a.computeEffect()
	return a, nil
}
