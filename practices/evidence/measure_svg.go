package evidence

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Drawing measures: run charts (the median and the Anhøj/IHI signals) and control charts (the
// Shewhart centre line and limits), drawn by the server as SVG whose text stays legible when the
// chart is shown 360 px wide. Every chart carries its text alternative: a <title> and a <desc> with
// MeasureSentence; pages add the table of points (the web package's measure-table partial).

// ChartOptions choose what a measure's chart shows.
type ChartOptions struct {
	Control bool // a Shewhart chart (centre line = mean or p̄, with limits) instead of a run chart
	Small   bool // a panel of small multiples: smaller, fewer words
	// YMin and YMax fix the value axis (small multiples share one); both zero: chosen from the
	// measure's scale and its points.
	YMin, YMax float64
	ID         string // prefix for element ids, unique within a page
}

// longDate writes 2026-10-06 as "6 October 2026"; shortDate as "6 Oct".
func longDate(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("2 January 2006")
}

func shortDate(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("2 Jan")
}

func pointsIn(points []MeasurePoint, s *Span) int {
	if s == nil {
		return 0
	}
	n := 0
	for _, p := range points {
		if p.Date >= s.From && p.Date <= s.To {
			n++
		}
	}
	return n
}

// judgement turns a movement (+1 up, −1 down) into words for a measure whose better direction is
// dir.
func judgement(side int, dir string) string {
	switch {
	case dir == "":
		return ""
	case (side > 0) == (dir == DirectionUp):
		return ", which for this measure is improvement"
	default:
		return ", which for this measure is a change for the worse"
	}
}

// MeasureSentence says in words a teacher understands what the rules found, using the measure's
// direction, e.g. "7 points in a row above the median from 6 October 2026: a shift upwards, which
// for this measure is improvement."
func MeasureSentence(m Measure) string {
	a := m.Analysis
	if a == nil || len(m.Points) == 0 {
		return "No points have been published for this measure yet."
	}
	var parts []string
	if a.Shift != nil {
		where, way := "above", "upwards"
		if a.ShiftSide < 0 {
			where, way = "below", "downwards"
		}
		parts = append(parts, fmt.Sprintf("%d points in a row %s the median from %s: a shift %s%s.",
			pointsIn(m.Points, a.Shift), where, longDate(a.Shift.From), way, judgement(a.ShiftSide, m.Direction)))
	}
	if a.Trend != nil {
		way, cmp := "upwards", "higher"
		if a.TrendSide < 0 {
			way, cmp = "downwards", "lower"
		}
		parts = append(parts, fmt.Sprintf("From %s to %s each point was %s than the one before: a trend %s%s.",
			longDate(a.Trend.From), longDate(a.Trend.To), cmp, way, judgement(a.TrendSide, m.Direction)))
	}
	switch {
	case a.RunsSignal == nil:
		if len(parts) == 0 {
			parts = append(parts, fmt.Sprintf("Only %d points lie off the median; the run-chart rules need at least %d, so no signal can be read yet.", a.NUseful, MinRunsPoints))
		} else {
			parts = append(parts, fmt.Sprintf("The run-chart rules need at least %d points off the median (%d so far).", MinRunsPoints, a.NUseful))
		}
	case *a.RunsSignal && a.Shift == nil:
		if a.LongestRun > a.LongestRunMax {
			where := "above"
			if a.RunsAbove < 0 {
				where = "below"
			}
			parts = append(parts, fmt.Sprintf("%d points in a row lie %s the median, more than the %d chance allows: a real change%s.",
				a.LongestRun, where, a.LongestRunMax, judgement(a.RunsAbove, m.Direction)))
		} else {
			parts = append(parts, fmt.Sprintf("The points cross the median only %d times, fewer than the %d chance would give: the measure has changed.",
				a.Crossings, a.CrossingsMin))
		}
	case !*a.RunsSignal && a.Shift == nil && a.Trend == nil:
		parts = append(parts, "No signal: the points vary around the median as they would by chance.")
	}
	if len(a.Outside) > 0 {
		word := "point lies"
		if len(a.Outside) > 1 {
			word = "points lie"
		}
		parts = append(parts, fmt.Sprintf("%d %s outside the control limits (from %s).", len(a.Outside), word, longDate(a.Outside[0])))
	}
	if m.Withheld > 0 {
		parts = append(parts, fmt.Sprintf("%d %s with too few students %s not published.", m.Withheld, plural(m.Withheld, "point", "points"), plural(m.Withheld, "is", "are")))
	}
	return strings.Join(parts, " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// niceTicks returns about n round tick values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

// ValueRange is the value axis a measure's chart uses on its own: the percent scale, or the
// measure's scale widened to hold its points, limits and target.
func ValueRange(m Measure, control bool) (lo, hi float64) {
	if m.Kind == MeasurePercent {
		return 0, 100
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	see := func(v float64) { lo, hi = math.Min(lo, v), math.Max(hi, v) }
	for _, p := range m.Points {
		see(p.Value)
	}
	if m.Target != nil {
		see(*m.Target)
	}
	if a := m.Analysis; a != nil && control {
		for i := range m.Points {
			if v, ok := a.LCL.At(i); ok {
				see(v)
			}
			if v, ok := a.UCL.At(i); ok {
				see(v)
			}
		}
	}
	if m.ScoreMin != nil && m.ScoreMax != nil {
		// The scale bounds the axis when the points use much of it; otherwise zoom, padded.
		if hi-lo > (*m.ScoreMax-*m.ScoreMin)/3 || math.IsInf(lo, 0) {
			return math.Min(lo, *m.ScoreMin), math.Max(hi, *m.ScoreMax)
		}
	}
	if math.IsInf(lo, 0) {
		return 0, 1
	}
	pad := (hi - lo) * 0.15
	if pad == 0 {
		pad = math.Max(math.Abs(hi)*0.1, 0.5)
	}
	return lo - pad, hi + pad
}

const measureStyle = `<style>text{font-family:system-ui,sans-serif;font-size:14px;fill:#222}.s{font-size:13px}.h{font-weight:600}.m{fill:#444}.ax{stroke:#767676;stroke-width:1}.grid{stroke:#e3e3e3;stroke-width:1}.line{fill:none;stroke:#1f5f99;stroke-width:2}.pt{fill:#1f5f99}.sig{fill:#b35900;stroke:#fff;stroke-width:1.5}.out{fill:#fff;stroke:#b00020;stroke-width:2.5}.cl{stroke:#222;stroke-width:1.5}.lim{stroke:#b00020;stroke-width:1.2;stroke-dasharray:6 4}.tgt{stroke:#2e7d32;stroke-width:1.5;stroke-dasharray:2 3}.note{stroke:#6a3d9a;stroke-width:1;stroke-dasharray:3 3}.nm{fill:#6a3d9a}.nt{fill:#fff;font-size:11px;font-weight:600}.base{fill:#f3f3f3}</style>`

// RenderMeasureSVG draws a measure as a run chart (or, with opts.Control, a control chart): the
// points joined in date order on date and value axes with ticks, the centre line, limits for a
// control chart, the target, the team's notes as numbered markers on the date axis with their text
// below, and the points of a shift, a trend or outside the limits highlighted.
func RenderMeasureSVG(m Measure, opts ChartOptions) []byte {
	// 360 units wide: shown at a phone's full width the text keeps (nearly) its nominal size.
	width, height := 360.0, 250.0
	left, right, top, plotBottom := 46.0, 350.0, 30.0, 196.0
	if opts.Small {
		width, height = 300, 170
		left, right, top, plotBottom = 40, 292, 22, 132
	}
	notes := m.Notes
	if !opts.Small {
		height += 18 * float64(len(notes))
	}
	id := opts.ID
	if id == "" {
		id = "bs-measure-" + m.ID
	}
	id = safeID(id) // the id lands in attributes; a peer's record is not trusted to be well-formed
	a := m.Analysis
	kindWord := "run chart"
	if opts.Control {
		kindWord = "control chart"
	}
	var w svgWriter
	// The same header as the other charts, with the measures' own style sheet.
	w.open(width, height, id, m.Name+" — "+kindWord, MeasureSentence(m))
	w.Truncate(strings.LastIndex(w.String(), "<style>"))
	w.WriteString(measureStyle + "\n")

	lo, hi := opts.YMin, opts.YMax
	if lo == 0 && hi == 0 {
		lo, hi = ValueRange(m, opts.Control)
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	yOf := func(v float64) float64 {
		v = math.Max(lo, math.Min(hi, v))
		return plotBottom - (plotBottom-top)*(v-lo)/(hi-lo)
	}
	// Dates on a day scale.
	day := func(d string) float64 {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return 0
		}
		return float64(t.Unix() / 86400)
	}
	var d0, d1 float64
	if len(m.Points) > 0 {
		d0, d1 = day(m.Points[0].Date), day(m.Points[len(m.Points)-1].Date)
	}
	for _, n := range notes {
		if len(m.Points) > 0 {
			d0, d1 = math.Min(d0, day(n.Date)), math.Max(d1, day(n.Date))
		}
	}
	span := d1 - d0
	if span <= 0 {
		span = 1
	}
	xOf := func(d string) float64 {
		inner := right - left - 16
		if len(m.Points) == 1 && d1 == d0 {
			return left + 8 + inner/2
		}
		return left + 8 + inner*(day(d)-d0)/span
	}

	// Heading: the measure's name above the plot (a small multiple's page heading names it).
	if !opts.Small {
		title := m.Name
		if len([]rune(title)) > 44 {
			title = string([]rune(title)[:43]) + "…"
		}
		w.textAt(4, 16, "start", "h", title)
	}

	// Baseline shading: the points the centre line and limits come from.
	if a != nil && a.Baseline > 0 && a.Baseline < len(m.Points) {
		bx := (xOf(m.Points[a.Baseline-1].Date) + xOf(m.Points[a.Baseline].Date)) / 2
		w.f(`<rect class="base" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`+"\n", left, top, bx-left, plotBottom-top)
		if !opts.Small {
			w.textAt(left+4, top+12, "start", "s m", "baseline")
		}
	}
	// Value axis: gridlines and ticks.
	for _, v := range niceTicks(lo, hi, 4) {
		y := yOf(v)
		w.f(`<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", left, y, right, y)
		label := trimFloat(v, 2)
		if m.Kind == MeasurePercent {
			label += "%"
		}
		w.textAt(left-4, y+4, "end", "s", label)
	}
	w.f(`<line class="ax" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", left, top, left, plotBottom)
	w.f(`<line class="ax" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", left, plotBottom, right, plotBottom)
	// Date axis: ticks at up to 4 (small: 3) points, evenly spread, first and last included.
	if k := len(m.Points); k > 0 {
		want := 4
		if opts.Small {
			want = 3
		}
		idx := []int{0}
		if k > 1 {
			for i := 1; i < want && i < k; i++ {
				idx = append(idx, int(math.Round(float64(i*(k-1))/float64(min(want, k)-1))))
			}
		}
		seen := map[int]bool{}
		for _, i := range idx {
			if seen[i] {
				continue
			}
			seen[i] = true
			x := xOf(m.Points[i].Date)
			w.f(`<line class="ax" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", x, plotBottom, x, plotBottom+4)
			anchor := "middle"
			if i == 0 {
				anchor = "start"
				x -= 6
			} else if i == k-1 {
				anchor = "end"
				x += 6
			}
			w.textAt(x, plotBottom+17, anchor, "s", shortDate(m.Points[i].Date))
		}
	}
	if a != nil {
		// The centre line: the median (run chart) or the mean / p̄ (control chart), with limits.
		center, label := a.Center, "median"
		if opts.Control {
			center, label = a.CL, "mean"
			if a.Chart == ChartP {
				label = "average"
			}
		}
		yc := yOf(center)
		w.f(`<line class="cl" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", left, yc, right, yc)
		if !opts.Small {
			w.textAt(right, yc-4, "end", "s m", label+" "+formatNumber(m.Kind, center))
		}
		if opts.Control {
			for _, lim := range []Limit{a.LCL, a.UCL} {
				if !lim.Defined() {
					continue
				}
				var path strings.Builder
				for i, p := range m.Points {
					v, _ := lim.At(i)
					cmd := "L"
					if i == 0 {
						cmd = "M"
					}
					fmt.Fprintf(&path, "%s%.1f %.1f", cmd, xOf(p.Date), yOf(v))
				}
				if len(m.Points) == 1 {
					v, _ := lim.At(0)
					path.Reset()
					fmt.Fprintf(&path, "M%.1f %.1fL%.1f %.1f", left, yOf(v), right, yOf(v))
				}
				w.f(`<path class="lim" fill="none" d="%s"/>`+"\n", path.String())
			}
			// Labelled at the start, inside the baseline, where points are least likely to be.
			if v, ok := a.UCL.At(0); ok && !opts.Small {
				w.textAt(left+4, yOf(v)-4, "start", "s m", "upper limit")
			}
			if v, ok := a.LCL.At(0); ok && !opts.Small && yOf(v) < plotBottom-14 {
				w.textAt(left+4, yOf(v)+13, "start", "s m", "lower limit")
			}
		}
	}
	if m.Target != nil {
		yt := yOf(*m.Target)
		w.f(`<line class="tgt" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", left, yt, right, yt)
		if !opts.Small {
			w.textAt(left+4, yt-4, "start", "s m", "target "+formatNumber(m.Kind, *m.Target))
		}
	}
	// Notes: dotted lines with numbered markers on the date axis, the text listed below the plot.
	for i, n := range notes {
		if len(m.Points) == 0 {
			break
		}
		x := xOf(n.Date)
		w.f(`<line class="note" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", x, top, x, plotBottom)
		w.f(`<circle class="nm" cx="%.1f" cy="%.1f" r="7"/>`+"\n", x, top)
		w.textAt(x, top+4, "middle", "nt", strconv.Itoa(i+1))
	}
	// The points, joined in date order; signals highlighted.
	if len(m.Points) > 0 {
		var path strings.Builder
		for i, p := range m.Points {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f", cmd, xOf(p.Date), yOf(p.Value))
		}
		w.f(`<path class="line" d="%s"/>`+"\n", path.String())
	}
	inSpan := func(d string, s *Span) bool { return s != nil && d >= s.From && d <= s.To }
	outside := map[string]bool{}
	if a != nil && opts.Control {
		for _, d := range a.Outside {
			outside[d] = true
		}
	}
	r := 3.5
	if opts.Small {
		r = 3
	}
	anySignal := false
	for _, p := range m.Points {
		x, y := xOf(p.Date), yOf(p.Value)
		switch {
		case outside[p.Date]:
			w.f(`<circle class="out" cx="%.1f" cy="%.1f" r="%.1f"/>`+"\n", x, y, r+1.5)
			anySignal = true
		case a != nil && !opts.Control && (inSpan(p.Date, a.Shift) || inSpan(p.Date, a.Trend)):
			w.f(`<circle class="sig" cx="%.1f" cy="%.1f" r="%.1f"/>`+"\n", x, y, r+1.5)
			anySignal = true
		default:
			w.f(`<circle class="pt" cx="%.1f" cy="%.1f" r="%.1f"/>`+"\n", x, y, r)
		}
	}
	// Legend and notes below the plot.
	y := plotBottom + 36
	if opts.Small {
		y = plotBottom + 32
		if anySignal {
			w.f(`<circle class="sig" cx="%.1f" cy="%.1f" r="4.5"/>`+"\n", 8.0, y-4)
			w.textAt(16, y, "start", "s", "signal")
		}
		return closeSVG(&w)
	}
	if anySignal {
		if opts.Control {
			w.f(`<circle class="out" cx="%.1f" cy="%.1f" r="5"/>`+"\n", 10.0, y-4)
			w.textAt(20, y, "start", "s", "outside the limits")
		} else {
			w.f(`<circle class="sig" cx="%.1f" cy="%.1f" r="5"/>`+"\n", 10.0, y-4)
			w.textAt(20, y, "start", "s", "part of a shift or trend")
		}
	}
	for i, n := range notes {
		y += 18
		text := n.Text
		if len([]rune(text)) > 40 {
			text = string([]rune(text)[:39]) + "…"
		}
		w.f(`<circle class="nm" cx="%.1f" cy="%.1f" r="7"/>`+"\n", 10.0, y-4)
		w.textAt(10, y, "middle", "nt", strconv.Itoa(i+1))
		w.textAt(22, y, "start", "s", shortDate(n.Date)+": "+text)
	}
	return closeSVG(&w)
}

// safeID keeps the letters, digits, - and _ of s.
func safeID(s string) string {
	b := []byte(s)[:0:0]
	for i := 0; i < len(s) && len(b) < 80; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "bs-measure"
	}
	return string(b)
}

func closeSVG(w *svgWriter) []byte {
	w.f("</svg>\n")
	return w.Bytes()
}

// formatNumber writes an axis or line value: a percentage or a mean.
func formatNumber(kind string, v float64) string {
	if kind == MeasurePercent {
		return trimFloat(v, 0) + "%"
	}
	return trimFloat(v, 2)
}
