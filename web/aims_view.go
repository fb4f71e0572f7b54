package web

import (
	"fmt"
	"hash/fnv"
	"html/template"
	"math"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// The aim's dashboard as a page shows it (aim.html): built from practices.Dashboard, the same value
// GET /api/v1/aims/{id}/dashboard answers, so the page and the API cannot disagree. The run charts
// reuse the measures' renderer (evidence.RenderMeasureSVG): each district's series is drawn as a
// small multiple on one value axis shared with the network series, with the target line.

// aimDashboardView is the dashboard page's data.
type aimDashboardView struct {
	Dashboard    *practices.Dashboard // for the page's JSON-LD (AimJSONLD)
	Aim          practices.DashboardAim
	District     string // the aim's district, by name
	About        string // the outcome measure in words
	Target       string // "70% by 30 June 2027"
	Latest       string // the latest network value against the target, in words
	Diagram      template.HTML
	Tree         []treeDriver
	Ideas        []ideaView
	Network      *MeasurePanel
	Panels       []aimPanel
	NotReporting []string
	Table        progressTable
	Today        string
	CanEdit      bool
	CanReport    bool
	Withdrawn    bool
}

// treeDriver is a driver in the diagram's text alternative, with what hangs under it.
type treeDriver struct {
	Text      string
	Secondary []treeDriver
	Ideas     []ideaLink
}

type ideaLink struct{ Anchor, Text string }

// ideaView is one change idea with its practices.
type ideaView struct {
	Anchor, Text string
	Drivers      []string // driver texts
	Practices    []practiceRow
}

type practiceRow struct {
	Title, Link, District string
	Found                 bool
	Level                 string
	Tests, Districts      int
	Learning              string
	LearningDate          string
	LearningDistrict      string
}

// progressTable is the charts' text alternative: every district's value for each month (its latest
// point in the month), the network's first. One table rather than one per chart: at 30 districts
// over two years the page stays light, and a reader compares districts along a row of months.
type progressTable struct {
	Months []string // "Sep 2024"
	Rows   []progressRow
}

type progressRow struct {
	District string
	Cells    []string // "" where the district did not report that month
}

// aimPanel is one district's run chart.
type aimPanel struct {
	MeasurePanel
	LastReport string
	Reporting  bool
	Withheld   int
}

// districtLabel is a district's display name: its name, else the node's configured name, else its id.
func districtLabel(d practices.DistrictLabel, names map[string]string) string {
	if d.Name != "" {
		return d.Name
	}
	if n := names[d.ID]; n != "" {
		return n
	}
	return d.ID
}

// diagramInput turns the dashboard's driver tree and change ideas into the renderer's input.
func diagramInput(d *practices.Dashboard) DiagramInput {
	in := DiagramInput{Aim: d.Aim.Statement}
	for _, p := range d.Diagram.Primary {
		in.Drivers = append(in.Drivers, DiagramDriver{ID: p.ID, Text: p.Text})
		for _, s := range p.Secondary {
			in.Drivers = append(in.Drivers, DiagramDriver{ID: s.ID, Text: s.Text, Parent: p.ID})
		}
	}
	for _, c := range d.ChangeIdeas {
		in.ChangeIdeas = append(in.ChangeIdeas, DiagramIdea{ID: c.ID, Text: c.Text, Drivers: c.Drivers})
	}
	return in
}

func ideaAnchor(id string) string { return "idea-" + safeAnchor(id) }

// safeAnchor keeps an id usable in an element id and a fragment.
func safeAnchor(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// outcomeMeasure is the aim's outcome measure as a measure: the shape the run-chart renderer and
// the rules take.
func outcomeMeasure(a practices.DashboardAim, name string, points []evidence.MeasurePoint, analysis *evidence.MeasureAnalysis) evidence.Measure {
	m := evidence.Measure{ID: safeAnchor(name), Name: name, Type: "outcome", Kind: evidence.MeasureMean, Points: points, Analysis: analysis}
	if om := a.OutcomeMeasure; om != nil {
		m.Kind, m.Direction, m.ScoreMin, m.ScoreMax, m.Cut = om.Kind, om.Direction, om.ScoreMin, om.ScoreMax, om.Cut
	}
	if a.Target != nil {
		v := a.Target.Value
		m.Target = &v
	}
	if m.Analysis == nil && len(points) > 0 {
		m.Analysis = evidence.AnalyzeMeasure(m.Kind, len(points), points)
	}
	return m
}

// networkMeasure is the network series as a measure: one point per month, dated the first of it.
func networkMeasure(d *practices.Dashboard) evidence.Measure {
	pts := make([]evidence.MeasurePoint, 0, len(d.Network))
	for _, p := range d.Network {
		pts = append(pts, evidence.MeasurePoint{Date: p.Month + "-01", N: p.N, Value: p.Value})
	}
	return outcomeMeasure(d.Aim, "Network", pts, nil)
}

// districtMeasure is one district's series as a measure.
func districtMeasure(d *practices.Dashboard, dp practices.DistrictProgress, names map[string]string) evidence.Measure {
	m := outcomeMeasure(d.Aim, districtLabel(dp.District, names), dp.Points, dp.Analysis)
	m.Notes, m.Withheld = dp.Notes, dp.Withheld
	return m
}

// sharedAxis is the one value axis of every chart of the dashboard: the percent scale, or the
// widest of the series' own ranges (which take in the target).
func sharedAxis(d *practices.Dashboard, names map[string]string) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	see := func(m evidence.Measure) {
		if len(m.Points) == 0 && m.Target == nil {
			return
		}
		l, h := evidence.ValueRange(m, false)
		lo, hi = math.Min(lo, l), math.Max(hi, h)
	}
	see(networkMeasure(d))
	for _, dp := range d.Districts {
		see(districtMeasure(d, dp, names))
	}
	if math.IsInf(lo, 0) || !(hi > lo) {
		return evidence.ValueRange(outcomeMeasure(d.Aim, "", nil, nil), false)
	}
	return lo, hi
}

// seriesVersion is a short digest of a series' points, for chart URLs: a new report changes the
// URL, so a cached chart is never shown beside a newer table.
func seriesVersion(a practices.DashboardAim, pts []evidence.MeasurePoint) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d", a.Version)
	for _, p := range pts {
		fmt.Fprintf(h, "|%s,%d,%g", p.Date, p.N, p.Value)
	}
	return fmt.Sprintf("%08x", h.Sum32())
}

// networkChartFile and districtChartFile name the chart SVGs under /aims/{id}/charts/.
const networkChartFile = "network.svg"

func districtChartFile(districtID string) string { return "d-" + url.PathEscape(districtID) + ".svg" }

// targetWords writes the target as people read it.
func targetWords(a practices.DashboardAim) string {
	if a.Target == nil {
		return ""
	}
	kind := evidence.MeasureMean
	if a.OutcomeMeasure != nil {
		kind = a.OutcomeMeasure.Kind
	}
	return fmt.Sprintf("%s by %s", formatOutcome(kind, a.Target.Value), measureDate(a.Target.By))
}

func formatOutcome(kind string, v float64) string {
	return evidence.FormatValue(kind, evidence.MeasurePoint{Value: v, N: 1000})
}

// latestWords compares the latest network value with the target, in the measure's direction.
func latestWords(d *practices.Dashboard) string {
	if len(d.Network) == 0 {
		return "No district has reported yet."
	}
	kind := evidence.MeasureMean
	if d.Aim.OutcomeMeasure != nil {
		kind = d.Aim.OutcomeMeasure.Kind
	}
	last := d.Network[len(d.Network)-1]
	s := fmt.Sprintf("Latest network value: %s in %s (%s, %d students).", formatOutcome(kind, last.Value), monthWords(last.Month),
		plural(last.Districts, "district", "districts"), last.N)
	if d.Aim.Target == nil {
		return s
	}
	gap := d.Aim.Target.Value - last.Value
	down := d.Aim.OutcomeMeasure != nil && d.Aim.OutcomeMeasure.Direction == evidence.DirectionDown
	if down {
		gap = -gap
	}
	if gap <= 0 {
		return s + " The target is reached."
	}
	unit := ""
	if kind == evidence.MeasurePercent {
		unit = " percentage points"
	}
	return s + fmt.Sprintf(" %s%s to go to the target of %s.", trimNum(math.Round(gap*10)/10), unit, formatOutcome(kind, d.Aim.Target.Value))
}

// monthWords writes 2026-10 as "October 2026".
func monthWords(m string) string {
	d := measureDate(m + "-01")
	if _, rest, ok := strings.Cut(d, " "); ok {
		return rest
	}
	return m
}

// buildAimDashboard makes the page's view of a dashboard. names maps node ids to district names.
func buildAimDashboard(d *practices.Dashboard, names map[string]string) *aimDashboardView {
	v := &aimDashboardView{Dashboard: d, Aim: d.Aim, District: districtLabel(d.Aim.District, names), Target: targetWords(d.Aim), Latest: latestWords(d), Today: d.Today}
	if om := d.Aim.OutcomeMeasure; om != nil {
		v.About = outcomeAbout(om)
	}
	v.Diagram = RenderDriverDiagram(diagramInput(d), "driver-diagram", "driver-list")

	ideaText := map[string]string{}
	for _, c := range d.ChangeIdeas {
		ideaText[c.ID] = c.Text
	}
	links := func(ids []string) []ideaLink {
		out := make([]ideaLink, 0, len(ids))
		for _, id := range ids {
			if t, ok := ideaText[id]; ok {
				out = append(out, ideaLink{Anchor: ideaAnchor(id), Text: t})
			}
		}
		return out
	}
	driverText := map[string]string{}
	for _, p := range d.Diagram.Primary {
		driverText[p.ID] = p.Text
		td := treeDriver{Text: p.Text, Ideas: links(p.ChangeIdeas)}
		for _, s := range p.Secondary {
			driverText[s.ID] = s.Text
			td.Secondary = append(td.Secondary, treeDriver{Text: s.Text, Ideas: links(s.ChangeIdeas)})
		}
		v.Tree = append(v.Tree, td)
	}
	for _, c := range d.ChangeIdeas {
		iv := ideaView{Anchor: ideaAnchor(c.ID), Text: c.Text}
		for _, id := range c.Drivers {
			if t, ok := driverText[id]; ok {
				iv.Drivers = append(iv.Drivers, t)
			}
		}
		for _, p := range c.Practices {
			row := practiceRow{Title: p.Title, District: districtLabel(p.District, names), Found: p.Found, Level: p.Level, Tests: p.Tests, Districts: p.Districts}
			if p.Found {
				row.Link = practiceLink(p.URI)
			}
			if l := p.Learning; l != nil {
				row.Learning, row.LearningDate, row.LearningDistrict = shortText(l.Text, learningChars), shortDay(l.Date), districtLabel(l.District, names)
			}
			iv.Practices = append(iv.Practices, row)
		}
		v.Ideas = append(v.Ideas, iv)
	}

	base := "/aims/" + url.PathEscape(d.Aim.ID) + "/charts/"
	if len(d.Network) > 0 {
		m := networkMeasure(d)
		v.Network = &MeasurePanel{
			Label: "The network", Chart: base + networkChartFile + "?v=" + seriesVersion(d.Aim, m.Points),
			Alt:      "Run chart of the network series of " + d.Aim.Title + ". " + evidence.MeasureSentence(m) + " The monthly values are in the table below the districts' charts.",
			Sentence: evidence.MeasureSentence(m), Measure: m,
		}
	}
	for _, dp := range d.Districts {
		m := districtMeasure(d, dp, names)
		name := districtLabel(dp.District, names)
		v.Panels = append(v.Panels, aimPanel{
			MeasurePanel: MeasurePanel{
				District: name, Label: name, Chart: base + districtChartFile(dp.District.ID) + "?v=" + seriesVersion(d.Aim, dp.Points),
				Alt: "Run chart of " + name + "'s progress. " + evidence.MeasureSentence(m) + " The values are in the table below the charts.", Sentence: evidence.MeasureSentence(m), Measure: m,
			},
			LastReport: measureDate(dp.LastReport), Reporting: dp.Reporting, Withheld: dp.Withheld,
		})
	}
	v.Table = buildProgressTable(d, names)
	for _, nr := range d.NotReporting {
		v.NotReporting = append(v.NotReporting, districtLabel(nr, names))
	}
	return v
}

// practiceLink is the page of a practice named by URI: this node's page for its own practices and
// mirrored copies alike (the practice page resolves a mirrored record by id).
func practiceLink(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	i := strings.LastIndex(u.Path, "/practices/")
	if i < 0 {
		return ""
	}
	return "/practices/" + url.PathEscape(u.Path[i+len("/practices/"):])
}

func buildProgressTable(d *practices.Dashboard, names map[string]string) progressTable {
	kind := evidence.MeasureMean
	if d.Aim.OutcomeMeasure != nil {
		kind = d.Aim.OutcomeMeasure.Kind
	}
	seen := map[string]bool{}
	var months []string
	see := func(m string) {
		if !seen[m] {
			seen[m] = true
			months = append(months, m)
		}
	}
	for _, p := range d.Network {
		see(p.Month)
	}
	for _, dp := range d.Districts {
		for _, p := range dp.Points {
			if len(p.Date) >= 7 {
				see(p.Date[:7])
			}
		}
	}
	sort.Strings(months)
	col := make(map[string]int, len(months))
	t := progressTable{}
	for i, m := range months {
		col[m] = i
		t.Months = append(t.Months, shortMonth(m))
	}
	if len(d.Network) > 0 {
		row := progressRow{District: "The network", Cells: make([]string, len(months))}
		for _, p := range d.Network {
			row.Cells[col[p.Month]] = formatOutcome(kind, p.Value)
		}
		t.Rows = append(t.Rows, row)
	}
	for _, dp := range d.Districts {
		row := progressRow{District: districtLabel(dp.District, names), Cells: make([]string, len(months))}
		for _, p := range dp.Points { // in date order: the month's latest point wins
			if len(p.Date) >= 7 {
				row.Cells[col[p.Date[:7]]] = evidence.FormatValue(kind, p)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// shortMonth writes 2026-10 as "Oct 2026".
func shortMonth(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.Format("Jan 2006")
}

// learningChars bounds the latest learning shown per practice: the practice page has it whole, and
// a dashboard may list hundreds of practices.
const learningChars = 160

func shortText(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	cut := string(r[:n])
	if i := strings.LastIndex(cut, " "); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

// shortDay writes 2026-11-20 as "20 Nov 2026".
func shortDay(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("2 Jan 2006")
}

// outcomeAbout is the outcome measure in words, without the measure type (it is the outcome).
func outcomeAbout(om *practices.OutcomeMeasure) string {
	return measureAbout(evidence.Measure{Kind: om.Kind, Direction: om.Direction, ScoreMin: om.ScoreMin, ScoreMax: om.ScoreMax, Cut: om.Cut})
}
