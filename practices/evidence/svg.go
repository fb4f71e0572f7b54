package evidence

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"
)

// HattieReference is drawn as a dashed line on forest plots: a reference, never a pass mark — a
// pre/post gain includes ordinary growth.
const HattieReference = 0.40

const hattieLabel = "Hattie's 0.40: reference, not a pass mark"

// svgWriter accumulates SVG markup; text goes through encoding/xml's escaping.
type svgWriter struct{ bytes.Buffer }

func (w *svgWriter) f(format string, args ...any) { fmt.Fprintf(&w.Buffer, format, args...) }

func (w *svgWriter) text(s string) { _ = xml.EscapeText(&w.Buffer, []byte(s)) }

// textAt writes a <text> element with escaped content.
func (w *svgWriter) textAt(x, y float64, anchor, class, s string) {
	w.f(`<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">`, x, y, anchor, class)
	w.text(s)
	w.f("</text>\n")
}

func (w *svgWriter) open(width, height float64, id, title, desc string) {
	w.openAs(width, height, id, title, desc, false)
}

// openAs starts an SVG document; inline SVG (inside a page, whose CSP forbids inline style) has no
// <style> element (the page's stylesheet styles it) and is a group, so links inside stay reachable.
func (w *svgWriter) openAs(width, height float64, id, title, desc string, inline bool) {
	role, class := "img", ""
	if inline {
		role, class = "group", ` class="bs-svg"`
	}
	w.f(`<svg xmlns="http://www.w3.org/2000/svg"%s width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="%s" aria-labelledby="%s-title %s-desc">`+"\n",
		class, width, height, width, height, role, id, id)
	w.f(`<title id="%s-title">`, id)
	w.text(title)
	w.f("</title>\n")
	w.f(`<desc id="%s-desc">`, id)
	w.text(desc)
	w.f("</desc>\n")
	if inline {
		return
	}
	w.f(`<style>text{font-family:system-ui,sans-serif;font-size:12px;fill:#222}.h{font-weight:600;font-size:13px}.m{fill:#555}.ax{stroke:#999;stroke-width:1}.ci{stroke:#222;stroke-width:1.5}.pre{fill:#fff;stroke:#1f5f99;stroke-width:2}.post{fill:#1f5f99}.bar0{fill:#b9cfe4}.bar1{fill:#1f5f99}.ref{stroke:#b35900;stroke-dasharray:5 4}.zero{stroke:#222}.dia{fill:#222}.pi{stroke:#222;stroke-width:1;stroke-dasharray:2 2}</style>` + "\n")
}

func num(f float64, places int) string { return strconv.FormatFloat(f, 'f', places, 64) }

// GroupLabel is how charts and tables name a group.
func GroupLabel(g Group) string {
	if g == Comparison {
		return "Comparison group"
	}
	return "Treatment group"
}

// meanCI is the 95% CI of a published mean, from its SD and n (t with n−1 df).
func meanCI(mean, sd *float64, n *int) (lo, hi float64, ok bool) {
	if mean == nil || sd == nil || n == nil || *n < 2 {
		return 0, 0, false
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(*n - 1)}.Quantile(0.975)
	h := t * *sd / math.Sqrt(float64(*n))
	return *mean - h, *mean + h, true
}

// coarseValue places a coarsened percentage on a bar: "≤5%" at 5, "≥95%" at 95.
func coarseValue(s string) (float64, bool) {
	v := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "≤"), "≥"), "%")
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

// resultsDesc is the text alternative shared by the SVG's <desc>.
func resultsDesc(r *Results) string {
	var b strings.Builder
	for _, g := range r.Groups {
		if g.Suppressed {
			fmt.Fprintf(&b, "%s: no statistics published (%s). ", GroupLabel(g.Group), g.Note)
			continue
		}
		if g.MeanPre == nil || g.MeanPost == nil {
			fmt.Fprintf(&b, "%s, %d students: %s", GroupLabel(g.Group), *g.N, g.Note)
		} else {
			fmt.Fprintf(&b, "%s, %d students: mean %s before, %s after", GroupLabel(g.Group), *g.N, num(*g.MeanPre, 1), num(*g.MeanPost, 1))
		}
		if g.PctProficientPre != "" {
			fmt.Fprintf(&b, "; proficient %s before, %s after", g.PctProficientPre, g.PctProficientPost)
		}
		b.WriteString(". ")
	}
	if r.Effect != nil {
		fmt.Fprintf(&b, "Effect size g = %s (95%% CI %s to %s).", num(r.Effect.G, 2), num(r.Effect.CILower, 2), num(r.Effect.CIUpper, 2))
	} else if r.EffectNote != "" {
		b.WriteString(r.EffectNote + ".")
	}
	return strings.TrimSpace(b.String())
}

// RenderResultsSVG draws a test's published results: each group's mean before and after with 95%
// CIs on the assessment's scale, and % proficient before and after. Suppressed groups show only
// their note. The text alternative is in <desc> and, as a table, in the page that shows the chart.
func RenderResultsSVG(r *Results) []byte {
	// "n = 1234" is drawn after the plot (right+8): the width leaves room for it inside the viewBox.
	const width, left, right, rowH = 680.0, 150.0, 600.0, 46.0
	hasPct := r.ProficiencyCut != nil
	height := 40 + rowH*float64(len(r.Groups)) + 30
	if hasPct {
		height += 30 + rowH*float64(len(r.Groups))
	}
	var w svgWriter
	w.open(width, height, "bs-results", "Results before and after", resultsDesc(r))
	lo, hi := r.ScoreMin, r.ScoreMax
	if !(hi > lo) {
		lo, hi = 0, 1
	}
	x := func(v float64) float64 { return left + (right-left)*(math.Max(lo, math.Min(hi, v))-lo)/(hi-lo) }
	w.textAt(10, 20, "start", "h", "Mean score before (open) and after (filled), with 95% confidence intervals")
	y := 40.0
	for _, g := range r.Groups {
		w.textAt(10, y+20, "start", "", GroupLabel(g.Group))
		if g.Suppressed {
			w.textAt(left, y+20, "start", "m", "No statistics published: "+g.Note)
			y += rowH
			continue
		}
		if g.MeanPre == nil || g.MeanPost == nil {
			w.textAt(left, y+20, "start", "m", fmt.Sprintf("n = %d; %s", *g.N, g.Note))
			y += rowH
			continue
		}
		w.f(`<line class="ax" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", left, y+30, right, y+30)
		for _, m := range []struct {
			mean, sd *float64
			cls      string
			dy       float64
		}{{g.MeanPre, g.SDPre, "pre", 10}, {g.MeanPost, g.SDPost, "post", 22}} {
			if l, h, ok := meanCI(m.mean, m.sd, g.N); ok {
				w.f(`<line class="ci" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", x(l), y+m.dy, x(h), y+m.dy)
			}
			w.f(`<circle class="%s" cx="%.1f" cy="%.1f" r="4.5"/>`+"\n", m.cls, x(*m.mean), y+m.dy)
		}
		w.textAt(right+8, y+20, "start", "m", "n = "+strconv.Itoa(*g.N))
		y += rowH
	}
	w.textAt(left, y, "middle", "m", num(lo, 0))
	w.textAt(right, y, "middle", "m", num(hi, 0))
	y += 30
	if hasPct {
		w.textAt(10, y, "start", "h", "Students proficient (score ≥ "+num(*r.ProficiencyCut, 0)+"), before (light) and after (dark)")
		y += 10
		px := func(p float64) float64 { return left + (right-left)*p/100 }
		for _, g := range r.Groups {
			w.textAt(10, y+22, "start", "", GroupLabel(g.Group))
			switch {
			case g.Suppressed:
				w.textAt(left, y+22, "start", "m", "No statistics published: "+g.Note)
			case g.PctProficientPre == "":
				w.textAt(left, y+22, "start", "m", "Not available")
			default:
				for i, s := range []string{g.PctProficientPre, g.PctProficientPost} {
					v, _ := coarseValue(s)
					by := y + 6 + float64(i)*16
					w.f(`<rect class="bar%d" x="%.1f" y="%.1f" width="%.1f" height="14"/>`+"\n", i, left, by, px(v)-left)
					w.textAt(px(v)+4, by+11, "start", "", s)
				}
			}
			y += rowH
		}
	}
	w.f("</svg>\n")
	return w.Bytes()
}

func rowLabel(row ForestRow) string {
	s := row.District
	if row.Label != "" {
		if s != "" {
			s += ": "
		}
		s += row.Label
	}
	if row.Adapted {
		s += " (adapted)"
	}
	return s
}

func forestDesc(p Pool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Forest plot of %d %s tests from %d districts. ", p.Result.K, strings.ReplaceAll(string(p.Family), "_", "-"), p.Districts)
	for _, row := range p.Rows {
		fmt.Fprintf(&b, "%s, n = %d: g = %s (95%% CI %s to %s), weight %s%%. ", rowLabel(row), row.N, num(row.G, 2), num(row.CILower, 2), num(row.CIUpper, 2), num(row.Weight, 1))
	}
	d := p.Result
	if !pooledDiamond(p) {
		return strings.TrimSpace(b.String())
	}
	fmt.Fprintf(&b, "Pooled (DerSimonian–Laird random effects): %s (95%% CI %s to %s)", num(d.Estimate, 2), num(d.CILower, 2), num(d.CIUpper, 2))
	if d.PILower != nil {
		fmt.Fprintf(&b, ", prediction interval %s to %s", num(*d.PILower, 2), num(*d.PIUpper, 2))
	}
	fmt.Fprintf(&b, "; I² = %s%%. The dashed line marks %s.", num(d.I2, 0), hattieLabel)
	return b.String()
}

// RenderForestSVG draws a pool as a forest plot: one row per test with its CI and a square sized
// by weight, the pooled random-effects diamond, the prediction interval, a reference line at 0
// and a dashed line at Hattie's 0.40 labelled as a reference, not a pass mark.
func RenderForestSVG(p Pool) []byte { return renderForest(p, "bs-forest", nil) }

// RenderForestSVGLinked is RenderForestSVG for putting inline in a page: no <style> element (the
// page's stylesheet styles the classes), ids prefixed with id so several plots can share a page, and
// each row label a link to link(row) (no link when it returns "").
func RenderForestSVGLinked(p Pool, id string, link func(ForestRow) string) []byte {
	if link == nil {
		link = func(ForestRow) string { return "" }
	}
	return renderForest(p, id, link)
}

// RenderForestSVGNarrow is RenderForestSVGLinked laid out for a phone (about 340 px wide): each
// test's label on its own line above its interval, values in words under it, so nothing shrinks
// to an unreadable size. Pages show it instead of the wide plot on narrow screens.
func RenderForestSVGNarrow(p Pool, id string, link func(ForestRow) string) []byte {
	if link == nil {
		link = func(ForestRow) string { return "" }
	}
	return renderForestNarrow(p, id, link)
}

// forestScale is the value axis of a forest plot: it spans 0, the reference line and every
// interval, with a little room on each side.
func forestScale(p Pool) (lo, hi float64) {
	d := p.Result
	lo, hi = math.Min(0, HattieReference), math.Max(0, HattieReference)
	for _, r := range p.Rows {
		lo, hi = math.Min(lo, r.CILower), math.Max(hi, r.CIUpper)
	}
	if pooledDiamond(p) {
		lo, hi = math.Min(lo, d.CILower), math.Max(hi, d.CIUpper)
		if d.PILower != nil {
			lo, hi = math.Min(lo, *d.PILower), math.Max(hi, *d.PIUpper)
		}
	}
	if !finite(lo) || !finite(hi) {
		lo, hi = -1, 1
	}
	pad := (hi - lo) * 0.05
	return lo - pad, hi + pad
}

// pooledDiamond reports whether the plot draws a pooled estimate: only when there is something
// to pool. One test is its own estimate; a diamond would repeat it as if it were a pool.
func pooledDiamond(p Pool) bool { return len(p.Rows) > 1 && p.Result.K > 1 }

// axisTicks are round values across [lo, hi], 3 to 8 of them, always including 0 when in range.
func axisTicks(lo, hi float64) []float64 {
	span := hi - lo
	step := 0.1
	for _, s := range []float64{0.1, 0.2, 0.25, 0.5, 1, 2, 5} {
		step = s
		if span/s <= 7 {
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+1e-9; v += step {
		if math.Abs(v) < 1e-9 {
			v = 0
		}
		out = append(out, v)
	}
	return out
}

func tickLabel(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

// poolNote is the caption line that says how the pool is made, in words.
const poolNote = "Pooled by DerSimonian–Laird random effects, which allow each district's true effect to differ."

// rowLabelText writes a row's label: a link when link gives one, with the full label as its title
// (a label cut to fit the column is readable in full there, in the description and in the table).
func (w *svgWriter) rowLabelText(x, y float64, r ForestRow, label string, link func(ForestRow) string) {
	if href := linkOf(link, r); href != "" {
		w.f(`<a href="`)
		w.text(href)
		w.f(`"><title>`)
		w.text(rowLabel(r))
		w.f(`</title>`)
		w.textAt(x, y, "start", "link", label)
		w.f("</a>\n")
		return
	}
	w.f(`<g><title>`)
	w.text(rowLabel(r))
	w.f(`</title>`)
	w.textAt(x, y, "start", "", label)
	w.f("</g>\n")
}

func renderForest(p Pool, id string, link func(ForestRow) string) []byte {
	// The label column ends at 230 px; labels are cut to 32 characters (about 210 px of 12 px
	// text), so they never reach the intervals, which start at 240 px.
	const width, plotL, plotR, rowH = 760.0, 240.0, 560.0, 24.0
	d := p.Result
	pooled := pooledDiamond(p)
	lo, hi := forestScale(p)
	x := func(v float64) float64 { return plotL + (plotR-plotL)*(v-lo)/(hi-lo) }
	top := 50.0
	rows := len(p.Rows)
	if pooled {
		rows++
	}
	height := top + rowH*float64(rows) + 8 + 110
	var w svgWriter
	w.openAs(width, height, id, "Evidence across districts", forestDesc(p), link != nil)
	w.textAt(10, 20, "start", "h", "Test")
	w.textAt((plotL+plotR)/2, 20, "middle", "h", "Effect size g with 95% CI")
	w.textAt(plotR+10, 20, "start", "h", "g [95% CI]")
	w.textAt(width-10, 20, "end", "h", "Weight")
	bottom := top + rowH*float64(rows) + 8 - rowH/2
	w.f(`<line class="zero" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", x(0), top-14, x(0), bottom)
	w.f(`<line class="ref" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", x(HattieReference), top-14, x(HattieReference), bottom)
	y := top
	for _, r := range p.Rows {
		w.rowLabelText(10, y+4, r, fitLabel(rowLabel(r), " (n = "+strconv.Itoa(r.N)+")", 32), link)
		w.f(`<line class="ci" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", x(r.CILower), y, x(r.CIUpper), y)
		s := 4 + 8*math.Sqrt(math.Max(0, r.Weight)/100)
		w.f(`<rect class="post" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`+"\n", x(r.G)-s/2, y-s/2, s, s)
		w.textAt(plotR+10, y+4, "start", "", num(r.G, 2)+" ["+num(r.CILower, 2)+", "+num(r.CIUpper, 2)+"]")
		w.textAt(width-10, y+4, "end", "", num(r.Weight, 1)+"%")
		y += rowH
	}
	if pooled {
		// The pooled diamond and the prediction interval.
		if d.PILower != nil {
			w.f(`<line class="pi" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", x(*d.PILower), y, x(*d.PIUpper), y)
		}
		w.f(`<polygon class="dia" points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f"/>`+"\n",
			x(d.CILower), y, x(d.Estimate), y-7, x(d.CIUpper), y, x(d.Estimate), y+7)
		w.textAt(10, y+4, "start", "h", "Pooled (random effects)")
		w.textAt(plotR+10, y+4, "start", "h", num(d.Estimate, 2)+" ["+num(d.CILower, 2)+", "+num(d.CIUpper, 2)+"]")
		w.textAt(width-10, y+4, "end", "h", "100%")
	}
	// The axis with its ticks sits right under the plot; the notes go below, so nothing overlaps.
	w.f(`<line class="ax" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", plotL, bottom, plotR, bottom)
	for _, v := range axisTicks(lo, hi) {
		w.f(`<line class="ax" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", x(v), bottom, x(v), bottom+5)
		w.textAt(x(v), bottom+18, "middle", "m", tickLabel(v))
	}
	w.textAt((plotL+plotR)/2, bottom+34, "middle", "m", "Effect size g (0 = no difference)")
	y = bottom + 56
	w.textAt(10, y, "start", "m", "Dashed line: "+hattieLabel+".")
	y += 18
	if pooled {
		w.textAt(10, y, "start", "m", poolNote)
		y += 18
		if d.PILower != nil {
			w.textAt(10, y, "start", "m", "Prediction interval (dotted): "+num(*d.PILower, 2)+" to "+num(*d.PIUpper, 2))
			y += 18
		}
		w.textAt(10, y, "start", "m", fmt.Sprintf("Heterogeneity: I² = %s%%, τ² = %s, Q = %s (df %d)", num(d.I2, 0), num(d.Tau2, 3), num(d.Q, 2), d.DF))
	}
	w.f("</svg>\n")
	return w.Bytes()
}

// renderForestNarrow is the phone layout: one block per test (label; values; interval), the
// plot as wide as the screen, ticks under it, notes wrapped to the width.
func renderForestNarrow(p Pool, id string, link func(ForestRow) string) []byte {
	const width, plotL, plotR, rowH = 340.0, 14.0, 326.0, 54.0
	d := p.Result
	pooled := pooledDiamond(p)
	lo, hi := forestScale(p)
	x := func(v float64) float64 { return plotL + (plotR-plotL)*(v-lo)/(hi-lo) }
	rows := len(p.Rows)
	if pooled {
		rows++
	}
	notes := wrapWords(hattieLabel+".", 50)
	if pooled {
		notes = append(notes, wrapWords(poolNote, 50)...)
		if d.PILower != nil {
			notes = append(notes, "Prediction interval (dotted): "+num(*d.PILower, 2)+" to "+num(*d.PIUpper, 2))
		}
		notes = append(notes, fmt.Sprintf("I² = %s%%, τ² = %s, Q = %s (df %d)", num(d.I2, 0), num(d.Tau2, 3), num(d.Q, 2), d.DF))
	}
	top := 40.0
	bottom := top + rowH*float64(rows)
	height := bottom + 44 + 18*float64(len(notes)) + 10
	var w svgWriter
	w.openAs(width, height, id, "Evidence across districts", forestDesc(p), true)
	w.textAt(plotL, 20, "start", "h", "Effect size g with 95% CI, by test")
	w.f(`<line class="zero" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", x(0), top, x(0), bottom)
	w.f(`<line class="ref" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", x(HattieReference), top, x(HattieReference), bottom)
	y := top
	for _, r := range p.Rows {
		w.rowLabelText(plotL, y+14, r, fitLabel(rowLabel(r), "", 48), link)
		w.textAt(plotL, y+30, "start", "m", fmt.Sprintf("n = %d · g = %s [%s, %s] · weight %s%%", r.N, num(r.G, 2), num(r.CILower, 2), num(r.CIUpper, 2), num(r.Weight, 0)))
		cy := y + 44
		w.f(`<line class="ci" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", x(r.CILower), cy, x(r.CIUpper), cy)
		s := 4 + 8*math.Sqrt(math.Max(0, r.Weight)/100)
		w.f(`<rect class="post" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`+"\n", x(r.G)-s/2, cy-s/2, s, s)
		y += rowH
	}
	if pooled {
		w.textAt(plotL, y+14, "start", "h", "Pooled (random effects)")
		w.textAt(plotL, y+30, "start", "m", "g = "+num(d.Estimate, 2)+" ["+num(d.CILower, 2)+", "+num(d.CIUpper, 2)+"]")
		cy := y + 44
		if d.PILower != nil {
			w.f(`<line class="pi" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", x(*d.PILower), cy, x(*d.PIUpper), cy)
		}
		w.f(`<polygon class="dia" points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f"/>`+"\n",
			x(d.CILower), cy, x(d.Estimate), cy-7, x(d.CIUpper), cy, x(d.Estimate), cy+7)
	}
	w.f(`<line class="ax" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", plotL, bottom+4, plotR, bottom+4)
	ticks := axisTicks(lo, hi)
	for i, v := range ticks {
		if len(ticks) > 5 && i%2 == 1 && v != 0 {
			continue // every other label at this width, so they never touch
		}
		w.f(`<line class="ax" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", x(v), bottom+4, x(v), bottom+9)
		w.textAt(x(v), bottom+22, "middle", "m", tickLabel(v))
	}
	y = bottom + 44
	for _, line := range notes {
		w.textAt(plotL, y, "start", "m", line)
		y += 18
	}
	w.f("</svg>\n")
	return w.Bytes()
}

// wrapWords breaks s into lines of at most max characters, at spaces.
func wrapWords(s string, max int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len([]rune(line))+1+len([]rune(word)) > max {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// fitLabel is label+suffix in at most max characters, the label cut with an ellipsis if need be.
func fitLabel(label, suffix string, max int) string {
	r := []rune(label)
	if room := max - len([]rune(suffix)); len(r) > room && room > 1 {
		label = strings.TrimSpace(string(r[:room-1])) + "…"
	}
	return label + suffix
}

func linkOf(link func(ForestRow) string, r ForestRow) string {
	if link == nil {
		return ""
	}
	return link(r)
}
