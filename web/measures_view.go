package web

import (
	"fmt"
	"math"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// MeasureView is one measure as a page shows it: the run chart (and the control chart behind a
// disclosure), the sentence of what the rules found, and the table of points. It is the view
// model of the "measure-figures" partial (templates/_measures.html), which any page that shows a
// test — the workspace, the practice page, a public test page — can include.
type MeasureView struct {
	ID, HeadingID    string
	Name             string
	About            string // "Outcome measure · mean of scores 0–4 · higher is better"
	Definition       string
	Sentence         string
	RunChart         string // URL of the SVG
	ControlChart     string
	RunAlt           string
	ControlAlt       string
	Measure          evidence.Measure // for the measure-table partial
	Points, Withheld int
}

// measureViews builds the views of a test's published measures.
func measureViews(t *practices.Test) []MeasureView {
	out := make([]MeasureView, 0, len(t.Measures))
	for _, m := range t.Measures {
		base := fmt.Sprintf("/api/v1/tests/%s/measures/%s.svg?v=%d", url.PathEscape(t.ID), url.PathEscape(m.ID), t.Version)
		out = append(out, MeasureView{
			ID: m.ID, HeadingID: "measure-" + m.ID + "-h", Name: m.Name, About: measureAbout(m), Definition: m.Definition,
			Sentence: evidence.MeasureSentence(m), RunChart: base, ControlChart: base + "&chart=control",
			RunAlt:     "Run chart of " + m.Name + ". What it shows is in the sentence above; the points are in the table that follows.",
			ControlAlt: "Control chart of " + m.Name + " with its centre line and limits. The points are in the table of the run chart.",
			Measure:    m, Points: len(m.Points), Withheld: m.Withheld,
		})
	}
	return out
}

var measureTypeLabels = map[string]string{"outcome": "Outcome measure", "process": "Process measure", "balancing": "Balancing measure"}

func measureAbout(m evidence.Measure) string {
	parts := []string{measureTypeLabels[m.Type]}
	switch m.Kind {
	case evidence.MeasurePercent:
		s := "percent of students meeting the goal"
		if m.Cut != nil {
			s = fmt.Sprintf("percent of students scoring %g or more", *m.Cut)
		}
		parts = append(parts, s)
	default:
		s := "mean score"
		if m.ScoreMin != nil && m.ScoreMax != nil {
			s = fmt.Sprintf("mean score on a scale of %g–%g", *m.ScoreMin, *m.ScoreMax)
		}
		parts = append(parts, s)
	}
	if m.Direction == evidence.DirectionDown {
		parts = append(parts, "lower is better")
	} else if m.Direction == evidence.DirectionUp {
		parts = append(parts, "higher is better")
	}
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, " · ")
}

// MeasureMultiples is one measure, by name, across the visible tests of a practice: small
// multiples on one value axis, so a teacher sees at a glance whether the change showed up in each
// district.
type MeasureMultiples struct {
	Name, HeadingID string
	About           string
	Panels          []MeasurePanel
}

// MeasurePanel is one test's panel.
type MeasurePanel struct {
	Label, District, TestURL string
	Chart, Alt, Sentence     string
	Measure                  evidence.Measure // for the measure-table partial
}

// measureMultiples groups the measures of tests by name (case and spacing ignored). Each group
// shares one value axis: 0–100 % for percentages, the widest of the panels' ranges for means.
func measureMultiples(tests []*practices.Test, names map[string]string) []MeasureMultiples {
	type entry struct {
		t *practices.Test
		m evidence.Measure
	}
	groups := map[string][]entry{}
	var order []string
	for _, t := range tests {
		for _, m := range t.Measures {
			if len(m.Points) == 0 {
				continue
			}
			key := strings.ToLower(strings.Join(strings.Fields(m.Name), " ")) + "\x00" + m.Kind
			if _, ok := groups[key]; !ok {
				order = append(order, key)
			}
			groups[key] = append(groups[key], entry{t, m})
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return len(groups[order[i]]) > len(groups[order[j]]) })
	var out []MeasureMultiples
	for gi, key := range order {
		es := groups[key]
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, e := range es {
			l, h := evidence.ValueRange(e.m, false)
			lo, hi = math.Min(lo, l), math.Max(hi, h)
		}
		mm := MeasureMultiples{Name: es[0].m.Name, HeadingID: fmt.Sprintf("multiples-%d-h", gi), About: measureAbout(es[0].m)}
		for _, e := range es {
			district := names[e.t.OriginID]
			if district == "" {
				district = e.t.OriginID
			}
			label := e.t.Title
			if label == "" {
				label = "Team " + e.t.Team
			}
			q := url.Values{"size": {"small"}, "ymin": {trimNum(lo)}, "ymax": {trimNum(hi)}, "v": {fmt.Sprint(e.t.Version)}}
			mm.Panels = append(mm.Panels, MeasurePanel{
				Label: label, District: district,
				Chart:    fmt.Sprintf("/api/v1/tests/%s/measures/%s.svg?%s", url.PathEscape(e.t.ID), url.PathEscape(e.m.ID), q.Encode()),
				Alt:      fmt.Sprintf("Run chart of %s in %s, %s. %s", e.m.Name, district, label, evidence.MeasureSentence(e.m)),
				Sentence: evidence.MeasureSentence(e.m), Measure: e.m,
			})
		}
		out = append(out, mm)
	}
	return out
}

func trimNum(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", f), "0"), ".")
}

type measureOption struct{ Value, Label string }

type measureNumberField struct{ Name, Label, Hint string }

func measureTypes() []measureOption {
	return []measureOption{{"outcome", "Outcome"}, {"process", "Process"}, {"balancing", "Balancing"}}
}

func measureKinds() []measureOption {
	return []measureOption{{"mean", "A mean score"}, {"percent", "A percent of students"}}
}

func measureDirections() []measureOption {
	return []measureOption{{"up", "Higher"}, {"down", "Lower"}}
}

func measureNumberFields() []measureNumberField {
	return []measureNumberField{
		{"score_min", "Lowest score", ""}, {"score_max", "Highest score", ""},
		{"cut", "Meeting the goal from", "For a percent: the score that counts."},
		{"baseline", "Baseline points", "How many first points set the centre line. Empty: all."},
		{"target", "Target", "Optional; drawn as a line."},
	}
}

// measureField is the text of one of measureNumberFields in a form.
func measureField(f *measureForm, name string) string {
	switch name {
	case "score_min":
		return f.ScoreMin
	case "score_max":
		return f.ScoreMax
	case "cut":
		return f.Cut
	case "baseline":
		return f.Baseline
	case "target":
		return f.Target
	}
	return ""
}

// measureDate writes a point's date as people read it: "6 October 2026".
func measureDate(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("2 January 2006")
}
