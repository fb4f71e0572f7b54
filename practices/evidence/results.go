package evidence

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"time"
)

// Minimum group sizes (docs/records.md, "What never leaves a district", rule 4).
const (
	DefaultMinimumN = 10
	MinMinimumN     = 5
	MaxMinimumN     = 30
)

// CheckMinimumN returns the minimum n to apply: DefaultMinimumN for 0, m itself when it is within
// 5–30, an error otherwise.
func CheckMinimumN(m int) (int, error) {
	if m == 0 {
		return DefaultMinimumN, nil
	}
	if m < MinMinimumN || m > MaxMinimumN {
		return 0, &InputError{Field: "minimum_n", Rule: RuleInvalidOption,
			Message: fmt.Sprintf("minimum_n must be between %d and %d", MinMinimumN, MaxMinimumN)}
	}
	return m, nil
}

// Options are the test's settings that the computation and the checks depend on.
type Options struct {
	Design         Design
	ScoreMin       float64 // the assessment's range: scores outside it are refused
	ScoreMax       float64
	ProficiencyCut *float64 // score ≥ cut is proficient; nil leaves % proficient out
	MinimumN       int      // 0 means DefaultMinimumN; otherwise 5–30
}

func (o Options) normalize() (Options, error) {
	if !o.Design.Valid() {
		return o, &InputError{Field: "design", Rule: RuleInvalidOption,
			Message: "design must be single_group_pre_post, pre_post_with_comparison or post_only_comparison"}
	}
	if !finite(o.ScoreMin) || !finite(o.ScoreMax) || o.ScoreMin >= o.ScoreMax {
		return o, &InputError{Field: "assessment.score_max", Rule: RuleInvalidOption,
			Message: "the assessment needs a score range with score_min below score_max"}
	}
	if o.ProficiencyCut != nil && (!finite(*o.ProficiencyCut) || *o.ProficiencyCut < o.ScoreMin || *o.ProficiencyCut > o.ScoreMax) {
		return o, &InputError{Field: "assessment.proficiency_cut", Rule: RuleInvalidOption,
			Message: "the proficiency cut must lie within the assessment's score range"}
	}
	m, err := CheckMinimumN(o.MinimumN)
	if err != nil {
		return o, err
	}
	o.MinimumN = m
	return o, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// Sources of results.
const (
	SourceScores  = "scores"  // a de-identified score table (CSV)
	SourceSummary = "summary" // summary statistics entered by the team
)

// Partitions for subgroup statistics: each column splits a group into Y and N cells.
var Partitions = []string{"el", "swd", "econ_disadv"}

// GroupAnalysis is one group's internal statistics.
type GroupAnalysis struct {
	Group Group `json:"group"`
	Descriptives
}

// SubgroupAnalysis is one cell of a partition (for example treatment, el = Y).
type SubgroupAnalysis struct {
	Group     Group  `json:"group"`
	Partition string `json:"partition"`
	Value     string `json:"value"` // Y, N, or "" for students whose flag was blank
	Descriptives
}

// Analysis is the internal view of one test's results: unsuppressed and uncoarsened, for the team
// inside the district only. Results gives the published view; only that one is ever shared.
type Analysis struct {
	Design         Design             `json:"design"`
	Source         string             `json:"source"`
	ScoreMin       float64            `json:"score_min"`
	ScoreMax       float64            `json:"score_max"`
	ProficiencyCut *float64           `json:"proficiency_cut,omitempty"`
	MinimumN       int                `json:"minimum_n"`
	RowsUsed       int                `json:"rows_used"`
	RowsDropped    int                `json:"rows_dropped"` // rows missing pre or post
	FileSHA256     string             `json:"file_sha256,omitempty"`
	Groups         []GroupAnalysis    `json:"groups"` // treatment first
	Subgroups      []SubgroupAnalysis `json:"subgroups,omitempty"`
	Effect         *Effect            `json:"effect,omitempty"`
	EffectProblem  string             `json:"effect_problem,omitempty"` // why there is no effect
	Baseline       *Baseline          `json:"baseline,omitempty"`
}

// Analyze computes a test's results from a parsed score table. It does not keep the rows.
func Analyze(t *ScoreTable, opts Options) (*Analysis, error) {
	opts, err := opts.normalize()
	if err != nil {
		return nil, fmt.Errorf("analyze scores: %w", err)
	}
	if err := checkGroups(opts.Design, t); err != nil {
		return nil, fmt.Errorf("analyze scores: %w", err)
	}
	a := newAnalysis(opts, SourceScores)
	a.RowsUsed, a.RowsDropped, a.FileSHA256 = len(t.rows), t.Dropped, t.SHA256
	groups := []Group{Treatment}
	if opts.Design.Comparison() {
		groups = append(groups, Comparison)
	}
	byGroup := map[Group][]Score{}
	for _, r := range t.rows {
		byGroup[r.Group] = append(byGroup[r.Group], r)
	}
	for _, g := range groups {
		rows := byGroup[g]
		a.Groups = append(a.Groups, GroupAnalysis{Group: g, Descriptives: Describe(rows, opts.ProficiencyCut)})
		for _, p := range Partitions {
			if !t.Has(p) {
				continue
			}
			cells := map[Flag][]Score{}
			for _, r := range rows {
				f := r.flag(p)
				cells[f] = append(cells[f], r)
			}
			for _, f := range []Flag{FlagYes, FlagNo, FlagUnknown} {
				if len(cells[f]) == 0 {
					continue
				}
				d := Describe(cells[f], opts.ProficiencyCut)
				a.Subgroups = append(a.Subgroups, SubgroupAnalysis{Group: g, Partition: p, Value: f.String(), Descriptives: d})
			}
		}
	}
	a.computeEffect()
	return a, nil
}

func (s Score) flag(partition string) Flag {
	switch partition {
	case "el":
		return s.EL
	case "swd":
		return s.SWD
	}
	return s.EconDisadv
}

func (f Flag) String() string {
	if f == FlagUnknown {
		return ""
	}
	return string(rune(f))
}

func checkGroups(d Design, t *ScoreTable) error {
	var nt, nc int
	for _, r := range t.rows {
		if r.Group == Comparison {
			nc++
		} else {
			nt++
		}
	}
	switch {
	case len(t.rows) == 0:
		return &InputError{Rule: RuleNoRows, Message: "no row has both a pre and a post score"}
	case !d.Comparison() && nc > 0:
		return &InputError{Column: "group", Rule: RuleDesignMismatch, Message: fmt.Sprintf(
			"the design is %s but %d rows are in the comparison group: choose a comparison design or remove those rows", d, nc)}
	case d.Comparison() && nc == 0:
		return &InputError{Column: "group", Rule: RuleDesignMismatch, Message: fmt.Sprintf(
			"the design is %s but no row has group = comparison: add the comparison group's rows or choose single_group_pre_post", d)}
	case nt == 0:
		return &InputError{Column: "group", Rule: RuleDesignMismatch, Message: "no row is in the treatment group"}
	}
	return nil
}

func newAnalysis(o Options, source string) *Analysis {
	return &Analysis{Design: o.Design, Source: source, ScoreMin: o.ScoreMin, ScoreMax: o.ScoreMax,
		ProficiencyCut: o.ProficiencyCut, MinimumN: o.MinimumN}
}

func (a *Analysis) computeEffect() {
	t := a.Groups[0].Summary()
	var c GroupSummary
	if len(a.Groups) > 1 {
		c = a.Groups[1].Summary()
		if b, err := BaselineEquivalence(t, c); err == nil {
			a.Baseline = &b
		}
	}
	e, err := EffectFor(a.Design, t, c)
	if err != nil {
		a.EffectProblem = err.Error()
		return
	}
	a.Effect = &e
}

// Group returns the internal statistics of group g, or nil.
func (a *Analysis) Group(g Group) *GroupAnalysis {
	for i := range a.Groups {
		if a.Groups[i].Group == g {
			return &a.Groups[i]
		}
	}
	return nil
}

// Shareable reports whether the test may leave the district (be shared, mirrored or pooled): its
// treatment group has at least the minimum number of students.
func (a *Analysis) Shareable() bool {
	return len(a.Groups) > 0 && a.Groups[0].N >= a.MinimumN
}

// Results are the published results of one test: suppressed and coarsened, the only view that is
// ever shared. The shape is part of federated documents: keep field names stable.
type Results struct {
	Design         string           `json:"design"`
	Source         string           `json:"source"`
	ScoreMin       float64          `json:"score_min"`
	ScoreMax       float64          `json:"score_max"`
	ProficiencyCut *float64         `json:"proficiency_cut,omitempty"`
	MinimumN       int              `json:"minimum_n"`
	Shareable      bool             `json:"shareable"`
	Groups         []GroupResult    `json:"groups"`
	Subgroups      []SubgroupResult `json:"subgroups,omitempty"`
	Effect         *Effect          `json:"effect,omitempty"`
	EffectNote     string           `json:"effect_note,omitempty"` // why no effect is published
	Baseline       *Baseline        `json:"baseline,omitempty"`
}

// Stats are published descriptives: what publishStats keeps of Descriptives, field for field. All
// are absent when the cell is suppressed; percentages are coarsened strings ("≤5%", "37%", "≥95%").
// No minimum, maximum, median or histogram, ever.
type Stats struct {
	N                 *int     `json:"n,omitempty"`
	MeanPre           *float64 `json:"mean_pre,omitempty"`
	SDPre             *float64 `json:"sd_pre,omitempty"`
	MeanPost          *float64 `json:"mean_post,omitempty"`
	SDPost            *float64 `json:"sd_post,omitempty"`
	MeanGain          *float64 `json:"mean_gain,omitempty"`
	GainCILower       *float64 `json:"gain_ci_lower,omitempty"`
	GainCIUpper       *float64 `json:"gain_ci_upper,omitempty"`
	PairedT           *float64 `json:"paired_t,omitempty"`
	R                 *float64 `json:"r,omitempty"`
	PctProficientPre  string   `json:"pct_proficient_pre,omitempty"`
	PctProficientPost string   `json:"pct_proficient_post,omitempty"`
	PctImproved       string   `json:"pct_improved,omitempty"`
}

// GroupResult is one group's published statistics.
type GroupResult struct {
	Group      Group  `json:"group"`
	Suppressed bool   `json:"suppressed"`
	Note       string `json:"note,omitempty"` // e.g. "fewer than 10 students"
	Stats
}

// SubgroupResult is one published cell of a partition.
type SubgroupResult struct {
	Group      Group  `json:"group"`
	Partition  string `json:"partition"` // el | swd | econ_disadv
	Value      string `json:"value"`     // Y | N
	Suppressed bool   `json:"suppressed"`
	Note       string `json:"note,omitempty"`
	Stats
}

// Suppression reasons, recorded in the audit.
const (
	ReasonPublished       = "published"
	ReasonBelowMinimum    = "below_minimum"            // the cell has fewer than minimum_n students
	ReasonComplement      = "complement_below_minimum" // total − n is below minimum_n
	ReasonComplementary   = "complementary"            // next-smallest cell, so a suppressed one cannot be derived
	ReasonGroupSuppressed = "group_suppressed"         // the whole group is suppressed
)

// Decision is one suppression decision: a cell, its size and whether it was published. It is kept
// in the audit inside the district and never shared.
type Decision struct {
	Cell      string `json:"cell"` // "treatment" or "treatment/el=Y"
	N         int    `json:"n"`
	Published bool   `json:"published"`
	Reason    string `json:"reason"`
}

// FewerThan is the published note for a suppressed cell.
func FewerThan(minimumN int) string { return fmt.Sprintf("fewer than %d students", minimumN) }

const complementaryNote = "not shown, so that a smaller group cannot be worked out"

// Results returns the published view with the suppression decisions applied.
func (a *Analysis) Results() *Results {
	r, _ := a.publish()
	return r
}

// Decisions returns the suppression decisions behind Results, for the audit.
func (a *Analysis) Decisions() []Decision {
	_, d := a.publish()
	return d
}

func (a *Analysis) publish() (*Results, []Decision) {
	r := &Results{Design: string(a.Design), Source: a.Source, ScoreMin: a.ScoreMin, ScoreMax: a.ScoreMax,
		ProficiencyCut: a.ProficiencyCut, MinimumN: a.MinimumN, Shareable: a.Shareable()}
	var decisions []Decision
	groupOK := map[Group]bool{}
	for _, g := range a.Groups {
		gr := GroupResult{Group: g.Group}
		d := Decision{Cell: string(g.Group), N: g.N, Published: g.N >= a.MinimumN, Reason: ReasonPublished}
		switch {
		case d.Published && g.IdenticalScores:
			gr.Stats, gr.Note = publishCounts(g.Descriptives), IdenticalScoresNote
		case d.Published:
			gr.Stats = publishStats(g.Descriptives)
		default:
			d.Reason = ReasonBelowMinimum
			gr.Suppressed, gr.Note = true, FewerThan(a.MinimumN)
		}
		groupOK[g.Group] = d.Published
		decisions = append(decisions, d)
		r.Groups = append(r.Groups, gr)
	}
	// Subgroups, partition by partition.
	for _, g := range a.Groups {
		for _, p := range Partitions {
			var cells []*Cell
			var subs []SubgroupAnalysis
			for _, s := range a.Subgroups {
				if s.Group == g.Group && s.Partition == p {
					cells = append(cells, &Cell{N: s.N})
					subs = append(subs, s)
				}
			}
			if len(cells) == 0 {
				continue
			}
			if groupOK[g.Group] {
				SuppressPartition(g.N, cells, a.MinimumN)
			} else {
				for _, c := range cells {
					c.Suppressed, c.Reason = true, ReasonGroupSuppressed
				}
			}
			// One cell with identical scores (a blank-flag cell too) hides the means of every cell
			// of the partition: the group's total and the other cells would give its mean away.
			identical := false
			for _, s := range subs {
				identical = identical || s.IdenticalScores
			}
			for i, s := range subs {
				c := cells[i]
				decisions = append(decisions, Decision{Cell: fmt.Sprintf("%s/%s=%s", g.Group, p, valueLabel(s.Value)),
					N: s.N, Published: !c.Suppressed, Reason: c.Reason})
				if s.Value == "" {
					continue // students with a blank flag are never a published cell
				}
				sr := SubgroupResult{Group: g.Group, Partition: p, Value: s.Value}
				switch {
				case !c.Suppressed && identical:
					sr.Stats, sr.Note = publishCounts(s.Descriptives), IdenticalScoresNote
				case !c.Suppressed:
					sr.Stats = publishStats(s.Descriptives)
				case c.Reason == ReasonBelowMinimum || c.Reason == ReasonGroupSuppressed && s.N < a.MinimumN:
					sr.Suppressed, sr.Note = true, FewerThan(a.MinimumN)
				default:
					sr.Suppressed, sr.Note = true, complementaryNote
				}
				r.Subgroups = append(r.Subgroups, sr)
			}
		}
	}
	// The effect and the baseline combine every group: publish them only when every group is.
	all, identical := true, false
	for _, g := range a.Groups {
		all = all && groupOK[g.Group]
		identical = identical || g.IdenticalScores
	}
	switch {
	case !all:
		r.EffectNote = "no effect size: a group has " + FewerThan(a.MinimumN)
	case identical:
		// With the other group's statistics, an effect size (or the baseline g) would give the
		// hidden mean away.
		r.EffectNote = "no effect size: every student in a group has the same score, and an effect size would show it"
	case a.Effect == nil:
		r.EffectNote = "no effect size: the scores do not define one (for example, every pre-test score is the same)"
	default:
		e := *a.Effect
		r.Effect = &e
		if a.Baseline != nil {
			b := *a.Baseline
			r.Baseline = &b
		}
	}
	return r, decisions
}

func valueLabel(v string) string {
	if v == "" {
		return "blank"
	}
	return v
}

// Cell is one cell of a partition for complementary suppression.
type Cell struct {
	N          int
	Suppressed bool
	Reason     string
}

// SuppressPartition applies primary and complementary suppression to the cells of one partition
// whose total is published (docs/records.md rule 5), in place:
//
//   - a cell with fewer than minimumN students is suppressed;
//   - a cell whose complement (total − n) is between 1 and minimumN−1 is suppressed;
//   - when exactly one cell is suppressed, or the suppressed cells together hold fewer than
//     minimumN students, the next-smallest published cell is suppressed too;
//
// repeated until nothing changes. Empty cells are ignored: they reveal nothing.
func SuppressPartition(total int, cells []*Cell, minimumN int) {
	for _, c := range cells {
		c.Suppressed, c.Reason = false, ReasonPublished
		if c.N > 0 && c.N < minimumN {
			c.Suppressed, c.Reason = true, ReasonBelowMinimum
		}
	}
	for changed := true; changed; {
		changed = false
		for _, c := range cells {
			if c.N > 0 && !c.Suppressed && total-c.N > 0 && total-c.N < minimumN {
				c.Suppressed, c.Reason, changed = true, ReasonComplement, true
			}
		}
		var nSup, sumSup int
		var smallest *Cell
		for _, c := range cells {
			switch {
			case c.N == 0:
			case c.Suppressed:
				nSup++
				sumSup += c.N
			case smallest == nil || c.N < smallest.N:
				smallest = c
			}
		}
		if smallest != nil && (nSup == 1 || nSup > 1 && sumSup < minimumN) {
			smallest.Suppressed, smallest.Reason, changed = true, ReasonComplementary, true
		}
	}
}

// Coarsen publishes a percentage: whole numbers, with anything that rounds to 5 or below shown as
// "≤5%" and anything that rounds to 95 or above as "≥95%".
func Coarsen(pct float64) string {
	p := math.Round(pct)
	switch {
	case p <= 5:
		return "≤5%"
	case p >= 95:
		return "≥95%"
	}
	return fmt.Sprintf("%d%%", int(p))
}

func round(f float64, places int) float64 {
	s := math.Pow(10, float64(places))
	return math.Round(f*s) / s
}

func roundPtr(f *float64, places int) *float64 {
	if f == nil {
		return nil
	}
	return ptr(round(*f, places))
}

func coarsenPtr(f *float64) string {
	if f == nil {
		return ""
	}
	return Coarsen(*f)
}

func publishStats(d Descriptives) Stats {
	n := d.N
	return Stats{
		N: &n, MeanPre: ptr(round(d.MeanPre, 2)), SDPre: roundPtr(d.SDPre, 2),
		MeanPost: ptr(round(d.MeanPost, 2)), SDPost: roundPtr(d.SDPost, 2),
		MeanGain: ptr(round(d.MeanGain, 2)), GainCILower: roundPtr(d.GainCILower, 2), GainCIUpper: roundPtr(d.GainCIUpper, 2),
		PairedT: roundPtr(d.PairedT, 3), R: roundPtr(d.R, 3),
		PctProficientPre: coarsenPtr(d.PctProficientPre), PctProficientPost: coarsenPtr(d.PctProficientPost),
		PctImproved: coarsenPtr(d.PctImproved),
	}
}

// publishCounts publishes what a group with identical scores may show: its n and the coarsened
// percentages, no mean, SD or anything computed from them.
func publishCounts(d Descriptives) Stats {
	n := d.N
	return Stats{N: &n, PctProficientPre: coarsenPtr(d.PctProficientPre), PctProficientPost: coarsenPtr(d.PctProficientPost),
		PctImproved: coarsenPtr(d.PctImproved)}
}

// PublishedCounts are the sizes of the cells a version publishes, keyed like Decision.Cell. Keep
// them with the audit: CheckCorrection compares two versions' counts.
func (a *Analysis) PublishedCounts() map[string]int {
	out := map[string]int{}
	for _, d := range a.Decisions() {
		if d.Published {
			out[d.Cell] = d.N
		}
	}
	return out
}

// ErrCorrectionTooSmall refuses a correction that would single out students.
var ErrCorrectionTooSmall = errors.New("correction changes a published group by fewer than the minimum number of students")

// CheckCorrection refuses a new version of published results when a cell published in both
// versions changes size by more than zero and fewer than minimumN students (docs/records.md rule 7):
// the difference of the two versions would describe those few students.
func CheckCorrection(previous, next map[string]int, minimumN int) error {
	minimumN, err := CheckMinimumN(minimumN)
	if err != nil {
		return fmt.Errorf("check correction: %w", err)
	}
	keys := make([]string, 0, len(previous))
	for k := range previous {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n, ok := next[k]
		if !ok {
			continue
		}
		d := n - previous[k]
		if d < 0 {
			d = -d
		}
		if d > 0 && d < minimumN {
			return fmt.Errorf("check correction, cell %s changes by %d: %w", k, d, ErrCorrectionTooSmall)
		}
	}
	return nil
}

// Audit records how results were produced: who uploaded, when, the file's SHA-256, the thresholds
// and the suppression decisions. Never row data.
type Audit struct {
	UploadedBy      string         `json:"uploaded_by"`
	UploadedAt      time.Time      `json:"uploaded_at"`
	Source          string         `json:"source"`
	FileSHA256      string         `json:"file_sha256,omitempty"`
	Design          Design         `json:"design"`
	MinimumN        int            `json:"minimum_n"`
	ScoreMin        float64        `json:"score_min"`
	ScoreMax        float64        `json:"score_max"`
	ProficiencyCut  *float64       `json:"proficiency_cut,omitempty"`
	RowsUsed        int            `json:"rows_used"`
	RowsDropped     int            `json:"rows_dropped"`
	Shareable       bool           `json:"shareable"`
	Decisions       []Decision     `json:"decisions"`
	PublishedCounts map[string]int `json:"published_counts"`
}

// Audit returns the audit record of this analysis.
func (a *Analysis) Audit(uploadedBy string, at time.Time) Audit {
	return Audit{
		UploadedBy: uploadedBy, UploadedAt: at.UTC(), Source: a.Source, FileSHA256: a.FileSHA256,
		Design: a.Design, MinimumN: a.MinimumN, ScoreMin: a.ScoreMin, ScoreMax: a.ScoreMax,
		ProficiencyCut: a.ProficiencyCut, RowsUsed: a.RowsUsed, RowsDropped: a.RowsDropped,
		Shareable: a.Shareable(), Decisions: a.Decisions(), PublishedCounts: a.PublishedCounts(),
	}
}

// AnalyzeCSV parses an uploaded score table, computes its results and discards the rows: the one
// call an upload handler needs. The returned Analysis holds aggregates only.
func AnalyzeCSV(r io.Reader, opts Options) (*Analysis, error) {
	if _, err := opts.normalize(); err != nil {
		return nil, fmt.Errorf("analyze upload: %w", err)
	}
	t, err := ParseScores(r, opts)
	if err != nil {
		return nil, fmt.Errorf("analyze upload: %w", err)
	}
	defer t.Discard()
	a, err := Analyze(t, opts)
	if err != nil {
		return nil, fmt.Errorf("analyze upload: %w", err)
	}
	return a, nil
}
