package evidence

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// Measures over time (docs/measures.md, "Measures over time"): a test's practical measures, each a
// dated series of aggregate points, with the run-chart rules R's qicharts2 applies (Anhøj), the
// IHI shift and trend rules, and a Shewhart chart (I chart for means, p chart for percentages).

// Measure kinds, types and directions.
const (
	MeasureMean    = "mean"
	MeasurePercent = "percent"

	DirectionUp   = "up"
	DirectionDown = "down"
)

// MeasureTypes, MeasureKinds and Directions list the allowed values.
var (
	MeasureTypes = []string{"outcome", "process", "balancing"}
	MeasureKinds = []string{MeasureMean, MeasurePercent}
	Directions   = []string{DirectionUp, DirectionDown}
)

// Limits on a test's measures.
const (
	MaxMeasures      = 10
	MaxMeasurePoints = 200
	MaxMeasureNotes  = 50
	// MinRunsPoints is the number of useful points below which the Anhøj rules are not applied.
	MinRunsPoints = 10
	// ShiftLength and TrendLength are the IHI rules' thresholds.
	ShiftLength = 6
	TrendLength = 5
)

// MeasurePoint is one aggregate over the students measured on a date: never a row.
type MeasurePoint struct {
	Date  string  `json:"date"` // YYYY-MM-DD
	N     int     `json:"n"`
	Value float64 `json:"value"` // a mean on the measure's scale, or a percentage 0–100
	// Coarse is set on published percentages: "≤5%" or "≥95%" (the value is then 5 or 95).
	Coarse string `json:"coarse,omitempty"`
	// Identical marks, in the team's view only, a mean whose students all had the same score (from
	// a score file): the mean is each student's score, so the point is never published.
	Identical bool `json:"identical,omitempty"`
}

// MeasureNote is a change the team made along the way (a new PDSA cycle, a new routine).
type MeasureNote struct {
	Date string `json:"date"`
	Text string `json:"text"`
}

// Measure is a practical measure taken repeatedly during a cycle.
type Measure struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Type       string         `json:"type"`      // outcome | process | balancing
	Kind       string         `json:"kind"`      // mean | percent
	Direction  string         `json:"direction"` // up | down: which way is better
	Definition string         `json:"definition,omitempty"`
	ScoreMin   *float64       `json:"score_min,omitempty"`
	ScoreMax   *float64       `json:"score_max,omitempty"`
	Cut        *float64       `json:"cut,omitempty"`      // kind percent: the score that counts as meeting
	Baseline   *int           `json:"baseline,omitempty"` // nil: all points
	Target     *float64       `json:"target,omitempty"`   // drawn as a line when set
	Points     []MeasurePoint `json:"points"`
	Notes      []MeasureNote  `json:"notes,omitempty"`
	// Withheld counts the points kept inside the district (n below the minimum); published only as
	// a count so readers know the series has gaps.
	Withheld int              `json:"withheld,omitempty"`
	Analysis *MeasureAnalysis `json:"analysis,omitempty"` // computed by the server
}

// BaselineLen is the baseline as a number of points, 0 meaning all.
func (m *Measure) BaselineLen() int {
	if m.Baseline == nil {
		return 0
	}
	return *m.Baseline
}

// Span is the dates a signal covers.
type Span struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Limit is a control limit: one value for an I chart, one per point for a p chart. It is encoded as
// a number or an array accordingly, or null when there is none (an I chart with one baseline point).
type Limit struct {
	Value    *float64
	PerPoint []float64
}

// At is the limit at point i, and whether there is one.
func (l Limit) At(i int) (float64, bool) {
	if l.PerPoint != nil {
		if i < len(l.PerPoint) {
			return l.PerPoint[i], true
		}
		return 0, false
	}
	if l.Value != nil {
		return *l.Value, true
	}
	return 0, false
}

// Defined reports whether the limit exists.
func (l Limit) Defined() bool { return l.Value != nil || l.PerPoint != nil }

func (l Limit) MarshalJSON() ([]byte, error) {
	switch {
	case l.PerPoint != nil:
		return json.Marshal(l.PerPoint)
	case l.Value != nil:
		return json.Marshal(*l.Value)
	}
	return []byte("null"), nil
}

func (l *Limit) UnmarshalJSON(b []byte) error {
	*l = Limit{}
	var f *float64
	if err := json.Unmarshal(b, &f); err == nil {
		l.Value = f
		return nil
	}
	var fs []float64
	if err := json.Unmarshal(b, &fs); err != nil {
		return errors.New("a limit must be a number, an array of numbers or null")
	}
	l.PerPoint = fs
	return nil
}

// Chart types of the Shewhart chart.
const (
	ChartI = "i" // individuals chart, for means
	ChartP = "p" // proportion chart, for percentages
)

// MeasureAnalysis is what the server computes for a measure. Field names are published.
type MeasureAnalysis struct {
	Baseline      int     `json:"baseline"` // points the centre line and limits come from
	Center        float64 `json:"center"`   // median of the baseline
	NUseful       int     `json:"n_useful"`
	LongestRun    int     `json:"longest_run"`
	LongestRunMax int     `json:"longest_run_max"`
	Crossings     int     `json:"crossings"`
	CrossingsMin  int     `json:"crossings_min"`
	// RunsSignal is null when there are fewer than MinRunsPoints useful points.
	RunsSignal *bool `json:"runs_signal"`
	// RunsAbove says on which side of the median the longest run lies (+1 above, −1 below).
	RunsAbove int   `json:"longest_run_side,omitempty"`
	Shift     *Span `json:"shift"`
	ShiftSide int   `json:"shift_side,omitempty"` // +1 above the median, −1 below
	Trend     *Span `json:"trend"`
	TrendSide int   `json:"trend_side,omitempty"` // +1 rising, −1 falling
	// The Shewhart chart: i (mean measures) or p (percent measures, values in percent).
	Chart   string   `json:"chart"`
	CL      float64  `json:"cl"`
	AMR     *float64 `json:"amr,omitempty"` // I chart: mean moving range of the baseline
	LCL     Limit    `json:"lcl"`
	UCL     Limit    `json:"ucl"`
	Outside []string `json:"outside"` // dates of points outside their limits
}

// median is R's median: the middle value, or the mean of the two middle values.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func mean(xs []float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// QBinom is R's qbinom(p, size, prob): the smallest k whose cumulative probability reaches p,
// computed exactly from gonum's binomial distribution (not a normal approximation). R compares
// against p·(1 + 64ε) to absorb rounding in the sum; so does this.
func QBinom(p float64, size int, prob float64) int {
	if size <= 0 {
		return 0
	}
	b := distuv.Binomial{N: float64(size), P: prob}
	target := p * (1 + 64*2.220446049250313e-16)
	for k := 0; k < size; k++ {
		if b.CDF(float64(k)) >= target {
			return k
		}
	}
	return size
}

// RunsAnalysis is qicharts2's runs.analysis on y around center.
type RunsAnalysis struct {
	NUseful, LongestRun, LongestRunMax, Crossings, CrossingsMin int
	Signal                                                      *bool
	// Runs are the maximal runs of useful points on one side: indexes into y of their first and
	// last points, and the side.
	Runs []Run
}

// Run is a stretch of useful points on one side of the centre line.
type Run struct {
	First, Last, Len, Side int
}

// AnalyzeRuns applies the Anhøj rules exactly as qicharts2: signs of y − center, points on the
// centre line dropped, the longest run against round(log2(n_useful)) + 3 and the number of
// crossings against qbinom(0.05, n_useful − 1, 0.5).
func AnalyzeRuns(y []float64, center float64) RunsAnalysis {
	var ra RunsAnalysis
	var cur *Run
	for i, v := range y {
		d := v - center
		if d == 0 || math.IsNaN(d) {
			continue
		}
		side := 1
		if d < 0 {
			side = -1
		}
		ra.NUseful++
		if cur != nil && cur.Side == side {
			cur.Last, cur.Len = i, cur.Len+1
			continue
		}
		ra.Runs = append(ra.Runs, Run{First: i, Last: i, Len: 1, Side: side})
		cur = &ra.Runs[len(ra.Runs)-1]
	}
	if ra.NUseful == 0 {
		return ra
	}
	for _, r := range ra.Runs {
		ra.LongestRun = max(ra.LongestRun, r.Len)
	}
	ra.LongestRunMax = int(math.Round(math.Log2(float64(ra.NUseful)))) + 3
	ra.Crossings = max(len(ra.Runs)-1, 0)
	ra.CrossingsMin = QBinom(0.05, max(ra.NUseful-1, 0), 0.5)
	if ra.NUseful >= MinRunsPoints {
		s := ra.LongestRun > ra.LongestRunMax || ra.Crossings < ra.CrossingsMin
		ra.Signal = &s
	}
	return ra
}

// longestLatest picks, among candidates, the longest and among equally long the latest.
func longestLatest(runs []Run, minLen int) (Run, bool) {
	var best Run
	found := false
	for _, r := range runs {
		if r.Len >= minLen && (!found || r.Len >= best.Len) {
			best, found = r, true
		}
	}
	return best, found
}

// Trends finds the stretches of points each strictly above (or each strictly below) the previous
// one, where a point equal to the previous is skipped: it neither extends nor breaks a trend. Len
// counts the points that moved (the first point and each strict step).
func Trends(y []float64) []Run {
	var out []Run
	if len(y) == 0 {
		return nil
	}
	cur := Run{First: 0, Last: 0, Len: 1}
	prev := y[0]
	for i := 1; i < len(y); i++ {
		v := y[i]
		if v == prev || math.IsNaN(v) {
			continue
		}
		side := 1
		if v < prev {
			side = -1
		}
		if cur.Side == side {
			cur.Last, cur.Len = i, cur.Len+1
		} else {
			if cur.Len > 1 {
				out = append(out, cur)
			}
			// The previous point starts the new direction.
			cur = Run{First: cur.Last, Last: i, Len: 2, Side: side}
		}
		prev = v
	}
	if cur.Len > 1 {
		out = append(out, cur)
	}
	return out
}

// AnalyzeMeasure computes a measure's analysis from its points (in date order) and baseline. It
// returns nil when there are no points.
func AnalyzeMeasure(kind string, baseline int, points []MeasurePoint) *MeasureAnalysis {
	if len(points) == 0 {
		return nil
	}
	y := make([]float64, len(points))
	for i, p := range points {
		y[i] = p.Value
	}
	b := baseline
	if b <= 0 || b > len(points) {
		b = len(points)
	}
	a := &MeasureAnalysis{Baseline: b, Center: median(y[:b]), Outside: []string{}}
	ra := AnalyzeRuns(y, a.Center)
	a.NUseful, a.LongestRun, a.LongestRunMax = ra.NUseful, ra.LongestRun, ra.LongestRunMax
	a.Crossings, a.CrossingsMin, a.RunsSignal = ra.Crossings, ra.CrossingsMin, ra.Signal
	if r, ok := longestLatest(ra.Runs, 1); ok {
		a.RunsAbove = r.Side
	}
	if r, ok := longestLatest(ra.Runs, ShiftLength); ok {
		a.Shift = &Span{From: points[r.First].Date, To: points[r.Last].Date}
		a.ShiftSide = r.Side
	}
	if r, ok := longestLatest(Trends(y), TrendLength); ok {
		a.Trend = &Span{From: points[r.First].Date, To: points[r.Last].Date}
		a.TrendSide = r.Side
	}
	switch kind {
	case MeasurePercent:
		a.Chart = ChartP
		num, den := 0.0, 0.0
		for _, p := range points[:b] {
			num += p.Value / 100 * float64(p.N)
			den += float64(p.N)
		}
		cl := 0.0
		if den > 0 {
			cl = num / den
		}
		a.CL = cl * 100
		a.LCL.PerPoint = make([]float64, len(points))
		a.UCL.PerPoint = make([]float64, len(points))
		for i, p := range points {
			h := 0.0
			if p.N > 0 {
				h = 3 * math.Sqrt(cl*(1-cl)/float64(p.N))
			}
			a.LCL.PerPoint[i] = math.Max(0, cl-h) * 100
			a.UCL.PerPoint[i] = math.Min(1, cl+h) * 100
		}
	default:
		a.Chart = ChartI
		a.CL = mean(y[:b])
		if b >= 2 {
			mr := 0.0
			for i := 1; i < b; i++ {
				mr += math.Abs(y[i] - y[i-1])
			}
			amr := mr / float64(b-1)
			lo, hi := a.CL-2.66*amr, a.CL+2.66*amr
			a.AMR, a.LCL.Value, a.UCL.Value = &amr, &lo, &hi
		}
	}
	for i, p := range points {
		lo, okLo := a.LCL.At(i)
		hi, okHi := a.UCL.At(i)
		if (okLo && p.Value < lo) || (okHi && p.Value > hi) {
			a.Outside = append(a.Outside, p.Date)
		}
	}
	return a
}

// PublishMeasure returns the measure as it may leave the district: points with n below minimumN
// left out (and counted in Withheld), means rounded to one decimal, percentages to whole numbers
// with ≤ 5 shown as "≤5%" and ≥ 95 as "≥95%" (plotted at 5 and 95), and the analysis computed
// from exactly the published points, so that any reader can reproduce it.
func PublishMeasure(m Measure, minimumN int) Measure {
	out := m
	out.Points = make([]MeasurePoint, 0, len(m.Points))
	out.Withheld = 0
	out.Notes = slices.Clone(m.Notes)
	for _, p := range m.Points {
		if !Publishable(m.Kind, p, minimumN) {
			out.Withheld++
			continue
		}
		out.Points = append(out.Points, publishPoint(m.Kind, p))
	}
	// The baseline counts the team's points; the published one covers the same stretch of dates
	// (all points when none of the baseline's points may be published).
	out.Baseline = nil
	if m.Baseline != nil {
		kept := 0
		for _, p := range m.Points[:min(max(*m.Baseline, 0), len(m.Points))] {
			if Publishable(m.Kind, p, minimumN) {
				kept++
			}
		}
		if kept > 0 {
			out.Baseline = &kept
		}
	}
	out.Analysis = AnalyzeMeasure(m.Kind, out.BaselineLen(), out.Points)
	return out
}

// Publishable reports whether a team's point may leave the district: enough students, and not a
// mean of identical scores.
func Publishable(kind string, p MeasurePoint, minimumN int) bool {
	return p.N >= minimumN && !(kind == MeasureMean && p.Identical)
}

func publishPoint(kind string, p MeasurePoint) MeasurePoint {
	q := MeasurePoint{Date: p.Date, N: p.N}
	if kind == MeasurePercent {
		v := math.Round(p.Value)
		switch {
		case p.Value <= 5:
			q.Value, q.Coarse = 5, "≤5%"
		case p.Value >= 95:
			q.Value, q.Coarse = 95, "≥95%"
		default:
			q.Value = v
		}
		return q
	}
	q.Value = math.Round(p.Value*10) / 10
	return q
}

// FormatValue writes a point's value for people: "2.4" for a mean, "42%" or "≤5%" for a percentage.
func FormatValue(kind string, p MeasurePoint) string {
	if p.Coarse != "" {
		return p.Coarse
	}
	if kind == MeasurePercent {
		return fmt.Sprintf("%s%%", trimFloat(p.Value, 1))
	}
	return trimFloat(p.Value, 2)
}

// trimFloat formats f with at most places decimals and no trailing zeros.
func trimFloat(f float64, places int) string {
	s := num(f, places)
	for places > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
		places--
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
