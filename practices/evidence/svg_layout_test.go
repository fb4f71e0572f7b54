package evidence

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// svgViewBoxWidth is the width of an SVG document's viewBox.
func svgViewBoxWidth(t *testing.T, svg string) float64 {
	t.Helper()
	m := regexp.MustCompile(`viewBox="0 0 ([0-9.]+) `).FindStringSubmatch(svg)
	if m == nil {
		t.Fatalf("no viewBox: %.200s", svg)
	}
	w, _ := strconv.ParseFloat(m[1], 64)
	return w
}

// TestResultsChartKeepsItsLabelsInside: "n = 15" after the plot is drawn inside the viewBox, not
// cut at the right edge (issue 18: it read "n = 1"). 7 px a character is generous for 12 px text.
func TestResultsChartKeepsItsLabelsInside(t *testing.T) {
	a, err := AnalyzeCSV(strings.NewReader(districtACSV()), Options{Design: SingleGroup, ScoreMin: 0, ScoreMax: 100})
	if err != nil {
		t.Fatal(err)
	}
	svg := string(RenderResultsSVG(a.Results()))
	width := svgViewBoxWidth(t, svg)
	for _, m := range regexp.MustCompile(`<text x="([0-9.]+)" y="[0-9.]+" text-anchor="start" class="[a-z]*">([^<]+)</text>`).FindAllStringSubmatch(svg, -1) {
		x, _ := strconv.ParseFloat(m[1], 64)
		// "n = 1234", the widest count, whatever this fixture's n is.
		text := m[2]
		if strings.HasPrefix(text, "n = ") {
			text = "n = 1234"
		}
		if x+7*float64(len([]rune(text))) > width {
			t.Errorf("%q at x = %v runs past the viewBox's width %v", m[2], x, width)
		}
	}
}

// TestForestPlotLayout: labels never reach the intervals (cut to the column, the full text in a
// title), the axis has ticks with values, "(DL)" is spelled out, a single test has no pooled
// diamond, and the phone layout stacks labels above intervals at about 340 px (issue 18).
func TestForestPlotLayout(t *testing.T) {
	ts := referenceTests(t)
	ts[0].Label = "A very long test name that would run over the intervals and the points of the plot"
	s, err := Summarize(ts, 10)
	if err != nil {
		t.Fatal(err)
	}
	out := string(RenderForestSVG(s.Pools[0]))
	wellFormed(t, []byte(out))
	for _, m := range regexp.MustCompile(`<text x="10.0" y="[0-9.]+" text-anchor="start" class="">([^<]+)</text>`).FindAllStringSubmatch(out, -1) {
		// 12 px system-ui text is under 7 px a character: 32 characters end before 240 px.
		if n := len([]rune(m[1])); n > 32 {
			t.Errorf("row label %q is %d characters: it would reach the intervals", m[1], n)
		}
	}
	if !regexp.MustCompile(`<title>[^<]*A very long test name that would run over the intervals and the points of the plot</title>`).MatchString(out) {
		t.Error("a cut label has no title with the full name")
	}
	ticks := regexp.MustCompile(`<text x="[0-9.]+" y="[0-9.]+" text-anchor="middle" class="m">(-?[0-9.]+)</text>`).FindAllStringSubmatch(out, -1)
	if len(ticks) < 3 {
		t.Errorf("axis ticks with values: %v", ticks)
	}
	if strings.Contains(out, "(DL)") || !strings.Contains(out, "DerSimonian–Laird random effects") {
		t.Error("the pooling method is not spelled out")
	}
	if !strings.Contains(out, `class="dia"`) {
		t.Error("no pooled diamond for several tests")
	}

	one, err := Summarize(ts[:1], 10)
	if err != nil {
		t.Fatal(err)
	}
	for name, svg := range map[string][]byte{"wide": RenderForestSVG(one.Pools[0]), "narrow": RenderForestSVGNarrow(one.Pools[0], "p", nil)} {
		wellFormed(t, svg)
		if strings.Contains(string(svg), `class="dia"`) || strings.Contains(string(svg), "Pooled (") {
			t.Errorf("%s: a pooled diamond drawn for a single test", name)
		}
	}

	narrow := string(RenderForestSVGNarrow(s.Pools[0], "pool-n", func(r ForestRow) string { return "/tests/" + r.Label[:1] }))
	wellFormed(t, []byte(narrow))
	if w := svgViewBoxWidth(t, narrow); w > 360 {
		t.Errorf("the phone layout is %v px wide: it would be shrunk", w)
	}
	for _, m := range regexp.MustCompile(`<text x="[0-9.]+" y="[0-9.]+" text-anchor="start" class="[a-z]*">([^<]+)</text>`).FindAllStringSubmatch(narrow, -1) {
		if 14+6.5*float64(len([]rune(m[1]))) > 340 {
			t.Errorf("phone layout text %q is too long for the width", m[1])
		}
	}
	if !strings.Contains(narrow, `<a href="/tests/`) || !strings.Contains(narrow, `class="dia"`) {
		t.Error("phone layout lacks the row links or the pooled diamond")
	}
}
