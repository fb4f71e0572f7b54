package web

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html/template"
	"strings"
)

// The driver diagram of a network aim (docs/aims.md), drawn
// by the server as inline SVG, left to right: the aim, its primary drivers, their secondary drivers,
// and the change ideas tested under them, joined by lines. Inline so that it weighs nothing more
// than its markup and is styled by the page's stylesheet (the CSP forbids a <style> in the page);
// its text alternative is the nested list the page prints beside it (driver-list in aim.html).

// DiagramInput is what the diagram draws: small and independent of the record types, so that the
// renderer is a pure function that tests and benchmarks call directly.
type DiagramInput struct {
	Aim         string
	Drivers     []DiagramDriver // in the aim's order; secondaries name their primary in Parent
	ChangeIdeas []DiagramIdea
}

// DiagramDriver is one driver.
type DiagramDriver struct {
	ID, Text string
	Parent   string // "" for a primary driver
}

// DiagramIdea is one change idea and the drivers it works through.
type DiagramIdea struct {
	ID, Text string
	Drivers  []string
}

// Geometry of the diagram, in SVG units. Four columns of boxes; text is wrapped to the column.
const (
	dgColW     = 210.0
	dgGap      = 40.0
	dgPad      = 8.0
	dgLine     = 16.0
	dgBoxGap   = 10.0
	dgTop      = 30.0
	dgWrapAt   = 27 // characters per line in a box (13 px text in a 210-unit box)
	dgMaxLines = 4  // longer text is cut with an ellipsis (the nested list has it whole)
)

type dgBox struct {
	x, y, h float64
	lines   []string
	class   string
}

func (b dgBox) left() (float64, float64)  { return b.x, b.y + b.h/2 }
func (b dgBox) right() (float64, float64) { return b.x + dgColW, b.y + b.h/2 }

// wrapText breaks s into lines of at most width characters at spaces, at most maxLines of them.
func wrapText(s string, width, maxLines int) []string {
	var lines []string
	var cur []rune
	for _, word := range strings.Fields(s) {
		w := []rune(word)
		if len(w) > width {
			w = append(w[:width-1], '…')
		}
		switch {
		case len(cur) == 0:
			cur = w
		case len(cur)+1+len(w) <= width:
			cur = append(append(cur, ' '), w...)
		default:
			lines = append(lines, string(cur))
			cur = w
		}
	}
	if len(cur) > 0 {
		lines = append(lines, string(cur))
	}
	if len(lines) > maxLines {
		last := []rune(lines[maxLines-1])
		if len(last) >= width {
			last = last[:width-1]
		}
		lines = append(lines[:maxLines-1], string(last)+"…")
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines
}

func newBox(x float64, text, class string) dgBox {
	lines := wrapText(text, dgWrapAt, dgMaxLines)
	return dgBox{x: x, h: float64(len(lines))*dgLine + 2*dgPad, lines: lines, class: class}
}

// stack places boxes one under the other from y, returning the height used.
func stack(boxes []dgBox, y float64) float64 {
	start := y
	for i := range boxes {
		boxes[i].y = y
		y += boxes[i].h + dgBoxGap
	}
	return y - start
}

// RenderDriverDiagram draws the diagram as an inline <svg> with role="img", labelled by its title and
// described by the element describedBy (the nested list). Secondary drivers are placed in the order
// of their primaries, so lines between the two columns do not cross; a secondary whose parent is
// unknown is drawn at the end with no line (the API refuses such aims; a peer's record may still be
// malformed). Change ideas are joined to every driver they name.
func RenderDriverDiagram(in DiagramInput, id, describedBy string) template.HTML {
	xs := [4]float64{4, 4 + dgColW + dgGap, 4 + 2*(dgColW+dgGap), 4 + 3*(dgColW+dgGap)}
	var primaries, secondaries []dgBox
	index := map[string]*dgBox{}
	primaryIDs := map[string]bool{}
	var primaryOrder []DiagramDriver
	children := map[string][]DiagramDriver{}
	var orphans []DiagramDriver
	for _, d := range in.Drivers {
		if d.Parent == "" {
			primaryIDs[d.ID] = true
			primaryOrder = append(primaryOrder, d)
		}
	}
	for _, d := range in.Drivers {
		if d.Parent == "" {
			continue
		}
		if primaryIDs[d.Parent] {
			children[d.Parent] = append(children[d.Parent], d)
		} else {
			orphans = append(orphans, d)
		}
	}
	var secondaryOrder []DiagramDriver
	for _, p := range primaryOrder {
		primaries = append(primaries, newBox(xs[1], p.Text, "dg-primary"))
		for _, s := range children[p.ID] {
			secondaries = append(secondaries, newBox(xs[2], s.Text, "dg-secondary"))
			secondaryOrder = append(secondaryOrder, s)
		}
	}
	for _, s := range orphans {
		secondaries = append(secondaries, newBox(xs[2], s.Text, "dg-secondary"))
		secondaryOrder = append(secondaryOrder, s)
	}
	ideas := make([]dgBox, len(in.ChangeIdeas))
	for i, c := range in.ChangeIdeas {
		ideas[i] = newBox(xs[3], c.Text, "dg-idea")
	}
	aim := dgBox{x: xs[0], lines: wrapText(in.Aim, dgWrapAt, 12), class: "dg-aim"}
	aim.h = float64(len(aim.lines))*dgLine + 2*dgPad

	// Every column is centred on the tallest one.
	heights := []float64{aim.h, stack(primaries, 0), stack(secondaries, 0), stack(ideas, 0)}
	tallest := 0.0
	for _, h := range heights {
		tallest = max(tallest, h)
	}
	aim.y = dgTop + (tallest-aim.h)/2
	stack(primaries, dgTop+(tallest-heights[1])/2)
	stack(secondaries, dgTop+(tallest-heights[2])/2)
	stack(ideas, dgTop+(tallest-heights[3])/2)
	for i, p := range primaryOrder {
		index[p.ID] = &primaries[i]
	}
	for i, s := range secondaryOrder {
		if _, dup := index[s.ID]; !dup {
			index[s.ID] = &secondaries[i]
		}
	}

	width := xs[3] + dgColW + 4
	height := dgTop + tallest + 4
	var b bytes.Buffer
	esc := func(s string) { _ = xml.EscapeText(&b, []byte(s)) }
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="driver-diagram" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s-title" aria-describedby="%s">`,
		width, height, width, height, id, describedBy)
	fmt.Fprintf(&b, `<title id="%s-title">`, id)
	esc(fmt.Sprintf("Driver diagram: the aim, %d primary drivers, %d secondary drivers and %d change ideas", len(primaries), len(secondaries), len(ideas)))
	b.WriteString("</title>\n")
	for i, h := range []string{"Aim", "Primary drivers", "Secondary drivers", "Change ideas"} {
		fmt.Fprintf(&b, `<text x="%.1f" y="18" class="dg-head">`, xs[i])
		esc(h)
		b.WriteString("</text>")
	}
	b.WriteString("\n")
	line := func(from, to dgBox) {
		x1, y1 := from.right()
		x2, y2 := to.left()
		mid := (x1 + x2) / 2
		fmt.Fprintf(&b, `<path class="dg-link" d="M%.1f %.1fC%.1f %.1f %.1f %.1f %.1f %.1f"/>`, x1, y1, mid, y1, mid, y2, x2, y2)
	}
	for _, p := range primaries {
		line(aim, p)
	}
	for i, s := range secondaryOrder {
		if p, ok := index[s.Parent]; ok && primaryIDs[s.Parent] {
			line(*p, secondaries[i])
		}
	}
	for i, c := range in.ChangeIdeas {
		for _, d := range c.Drivers {
			if from, ok := index[d]; ok {
				line(*from, ideas[i])
			}
		}
	}
	b.WriteString("\n")
	all := append(append(append([]dgBox{aim}, primaries...), secondaries...), ideas...)
	for _, box := range all {
		fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.0f" height="%.1f" rx="6"/>`, box.class, box.x, box.y, dgColW, box.h)
		textClass := "dg-text"
		if box.class == "dg-aim" {
			textClass = "dg-text dg-on-dark"
		}
		for j, l := range box.lines {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="%s">`, box.x+dgPad, box.y+dgPad+12+float64(j)*dgLine, textClass)
			esc(l)
			b.WriteString("</text>")
		}
		b.WriteString("\n")
	}
	b.WriteString("</svg>")
	return template.HTML(b.String()) // every text went through xml.EscapeText; ids are the caller's constants
}
