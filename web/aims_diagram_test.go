package web

import (
	"encoding/xml"
	"strings"
	"testing"
)

func demoDiagram() DiagramInput {
	return DiagramInput{
		Aim: "By June 2027, 70 % of grade 3–5 students will be proficient on the common fractions assessment",
		Drivers: []DiagramDriver{
			{ID: "p1", Text: "Fraction sense"}, {ID: "p2", Text: "Teacher collaboration"},
			{ID: "s2", Text: "Common planning time", Parent: "p2"},
			{ID: "s1", Text: "Number lines every day", Parent: "p1"},
			{ID: "s9", Text: "Orphan <script>", Parent: "nope"},
		},
		ChangeIdeas: []DiagramIdea{
			{ID: "c1", Text: "Number line warm-up", Drivers: []string{"s1"}},
			{ID: "c2", Text: "Fraction talks & PLC", Drivers: []string{"s1", "s2", "unknown"}},
		},
	}
}

// The diagram is well-formed XML, escapes what it is given, joins every known link (aim → 2
// primaries, 2 parented secondaries, 3 known driver links of the change ideas) and no unknown one,
// and puts each secondary under its primary's order, not the aim's listing order.
func TestRenderDriverDiagram(t *testing.T) {
	out := string(RenderDriverDiagram(demoDiagram(), "dg", "dg-list"))
	dec := xml.NewDecoder(strings.NewReader(out))
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed: %v\n%s", err, out)
			}
			break
		}
	}
	if strings.Contains(out, "<script>") || !strings.Contains(out, "Orphan &lt;script&gt;") {
		t.Errorf("text not escaped:\n%s", out)
	}
	if got := strings.Count(out, `class="dg-link"`); got != 2+2+3 {
		t.Errorf("%d links, want 7", got)
	}
	for _, want := range []string{`aria-describedby="dg-list"`, `role="img"`, "2 primary drivers, 3 secondary drivers and 2 change ideas"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	if strings.Index(out, "Number lines every day") > strings.Index(out, "Common planning time") {
		t.Error("secondaries are not in the order of their primaries")
	}
}

func TestWrapText(t *testing.T) {
	got := wrapText("one two three four five six seven eight nine ten eleven twelve thirteen fourteen", 10, 3)
	if len(got) != 3 || !strings.HasSuffix(got[2], "…") {
		t.Errorf("wrap: %q", got)
	}
	for _, l := range got {
		if len([]rune(l)) > 10 {
			t.Errorf("line %q longer than 10", l)
		}
	}
	if got := wrapText("", 10, 3); len(got) != 1 {
		t.Errorf("empty: %q", got)
	}
}
