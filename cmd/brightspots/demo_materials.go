package main

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/brightspots-nic/brightspots/practices"
)

// The demo's materials and its collection: what a newcomer opens first after search. Kept apart
// from seedDemo's generated records so the story of each is easy to change.

// seedMaterials gives most published practices of every district a small lesson plan and a
// look-for checklist (one-page PDFs), generated from the practice itself, so downloads and previews
// can be tried. (A plain-text checklist, one move per line, can read as a table of student rows to
// the privacy scanner, which rightly refuses it as a material.) Every fourth practice keeps none: a page without materials is part of the
// tour too.
func seedMaterials(ctx context.Context, repos []*practices.Repo, admin practices.Principal) error {
	for _, r := range repos {
		recs, err := listAll(ctx, r, admin, practices.KindPractice)
		if err != nil {
			return err
		}
		for i, rec := range recs {
			pr := rec.(*practices.Practice)
			if i%4 == 3 || pr.Status != practices.StatusPublished || len(pr.Materials) > 0 {
				continue
			}
			files := []struct {
				name string
				body []byte
			}{
				{"lesson-plan.pdf", lessonPlanPDF(pr)},
				{"look-fors.pdf", lookForsPDF(pr)},
			}
			for _, f := range files {
				ref, err := r.StoreArtifact(ctx, f.name, bytes.NewReader(f.body), 1<<20)
				if err != nil {
					return fmt.Errorf("material %s of %q: %w", f.name, pr.Title, err)
				}
				if _, err := r.AttachArtifact(ctx, admin, pr.ID, ref); err != nil {
					return fmt.Errorf("attach %s to %q: %w", f.name, pr.Title, err)
				}
			}
		}
	}
	return nil
}

// listAll lists every local record of kind p may see, in creation order.
func listAll(ctx context.Context, r *practices.Repo, p practices.Principal, kind practices.Kind) ([]practices.Record, error) {
	var out []practices.Record
	after := ""
	for {
		page, next, err := r.List(ctx, p, kind, practices.ListFilter{}, after, 200)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		after = next
	}
}

// lookForsPDF is the practice's key moves as a checklist an observer prints.
func lookForsPDF(pr *practices.Practice) []byte {
	lines := []string{"Look-fors: " + pr.Title, pr.Team, ""}
	for _, m := range pr.KeyMoves {
		lines = append(lines, wrap("[  ]  "+m, 90)...)
	}
	return onePagePDF(append(lines, "", "Notes:"))
}

// lessonPlanPDF is a one-page PDF (PDF 1.4, Helvetica) with the practice's title, summary and key
// moves: small, valid, and readable in any browser's viewer.
func lessonPlanPDF(pr *practices.Practice) []byte {
	lines := []string{"Lesson plan: " + pr.Title, pr.Team, ""}
	lines = append(lines, wrap(pr.Summary, 90)...)
	lines = append(lines, "", "Key moves:")
	for _, m := range pr.KeyMoves {
		lines = append(lines, wrap("- "+m, 90)...)
	}
	return onePagePDF(lines)
}

// onePagePDF typesets lines on one page.
func onePagePDF(lines []string) []byte {
	var text strings.Builder
	text.WriteString("BT /F1 11 Tf 56 780 Td 15 TL\n")
	for _, l := range lines {
		fmt.Fprintf(&text, "(%s) '\n", pdfEscape(l))
	}
	text.WriteString("ET\n")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", text.Len(), text.String()),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// pdfEscape makes s a PDF literal string in the standard encoding: backslash and parentheses
// escaped, anything outside printable ASCII replaced (a demo document, not a typesetter).
func pdfEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == '(' || r == ')':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '–' || r == '—':
			b.WriteByte('-')
		case r == '’' || r == '‘':
			b.WriteByte('\'')
		case r < 0x20 || r > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func wrap(s string, width int) []string {
	var out []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			out = append(out, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// fractionsCollection is the network's curated collection: published fractions practices from
// every district that has one (several districts, not the first district's eight newest), each with
// a note that says why it is there.
func fractionsCollection(ctx context.Context, repos []*practices.Repo, admin practices.Principal) (*practices.Collection, error) {
	col := &practices.Collection{
		Meta:        practices.Meta{Visibility: practices.VisibilityNetwork},
		Title:       "Fractions and early numeracy across the network",
		Description: "Fractions practices from the network's districts, tested this year: start with the number line, then equivalence, then operations.",
		Aim:         "By June, 70% of grade 3–5 students in the network will be proficient on the common fractions assessment.",
		Curator:     "Network coordinator",
	}
	type pick struct {
		uri, title, district, team string
	}
	var byDistrict [][]pick
	for _, r := range repos {
		recs, err := listAll(ctx, r, admin, practices.KindPractice)
		if err != nil {
			return nil, err
		}
		var ps []pick
		for _, rec := range recs {
			pr := rec.(*practices.Practice)
			shared := pr.Visibility == practices.VisibilityNetwork || pr.Visibility == practices.VisibilityPublic
			if pr.Status == practices.StatusPublished && shared && strings.Contains(strings.ToLower(pr.Title), "fraction") {
				ps = append(ps, pick{pr.URI, pr.Title, demoDistrictName(r.Node().ID), pr.Team})
			}
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].title < ps[j].title })
		byDistrict = append(byDistrict, ps)
	}
	// Round-robin over the districts, so the collection mixes them; then in teaching order (the
	// number line, equivalence, comparing, operations), each note saying what the practice adds.
	var chosen []pick
	for round := 0; len(chosen) < 8; round++ {
		added := false
		for _, ps := range byDistrict {
			if round < len(ps) && len(chosen) < 8 {
				chosen = append(chosen, ps[round])
				added = true
			}
		}
		if !added {
			break
		}
	}
	sort.SliceStable(chosen, func(i, j int) bool { return fractionsStage(chosen[i].title) < fractionsStage(chosen[j].title) })
	seen := map[int]bool{}
	for _, p := range chosen {
		stage := fractionsStage(p.title)
		col.Items = append(col.Items, practices.CollectionItem{PracticeURI: p.uri, Note: fractionsNote(stage, !seen[stage], p.team, p.district)})
		seen[stage] = true
	}
	return col, nil
}

// fractionsStage places a fractions practice in the order the collection teaches them.
func fractionsStage(title string) int {
	t := strings.ToLower(title)
	switch {
	case strings.Contains(t, "number line"):
		return 0
	case strings.Contains(t, "equivalent"):
		return 1
	case strings.Contains(t, "compar"):
		return 2
	case strings.Contains(t, "add") || strings.Contains(t, "operation") || strings.Contains(t, "multipl"):
		return 3
	}
	return 4
}

// fractionsNote says what a practice adds to the collection: the first of its stage introduces the
// stage, the others say they are another team's way into it.
func fractionsNote(stage int, first bool, team, district string) string {
	firsts := []string{
		"Start here: placing fractions on a number line builds the sense of size the rest relies on.",
		"Next step: equivalence with strips and area models before the multiplication rule.",
		"Comparing fractions with benchmarks (½, 1) before common denominators.",
		"Operations with fractions, once equivalence is secure.",
		"A fractions routine another team found worth testing.",
	}
	others := []string{
		"Another team's number line routine: compare how it structures the talk.",
		"Another route to equivalence, tested with a different group of students.",
		"Another way to compare fractions.",
		"Another approach to operations with fractions.",
		"A fractions routine another team found worth testing.",
	}
	why := others[stage]
	if first {
		why = firsts[stage]
	}
	return fmt.Sprintf("%s From %s, %s.", why, team, district)
}

// demoDistrictName is a demo district's display name ("Lakeview School District").
func demoDistrictName(id string) string {
	for _, d := range demoDistricts {
		if d.id == id {
			return d.name
		}
	}
	return id
}
