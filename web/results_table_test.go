package web

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// The results table beside the results chart (the results-table partial) holds every figure the
// chart shows, and nothing of a suppressed group but its note. These assertions moved here with the
// table from practices/evidence.
func TestResultsTable(t *testing.T) {
	pg, err := loadPages()
	if err != nil {
		t.Fatal(err)
	}
	render := func(r *evidence.Results) string {
		t.Helper()
		var b bytes.Buffer
		if err := pg.sets["test"].ExecuteTemplate(&b, "results-table", r); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	cut := 65.0
	opts := evidence.Options{Design: evidence.SingleGroup, ScoreMin: 0, ScoreMax: 100, ProficiencyCut: &cut}

	pre := []float64{55, 62, 48, 70, 66, 58, 73, 51, 64, 60, 68, 57}
	post := []float64{61, 72, 50, 74, 75, 60, 79, 60, 66, 70, 70, 66}
	var csv strings.Builder
	csv.WriteString("pre,post\n")
	for i := range pre {
		fmt.Fprintf(&csv, "%g,%g\n", pre[i], post[i])
	}
	a, err := evidence.AnalyzeCSV(strings.NewReader(csv.String()), opts)
	if err != nil {
		t.Fatal(err)
	}
	table := render(a.Results())
	for _, want := range []string{"<table", "Treatment group", "61.0 (7.6)", "33%", "≥95%", "0.72"} {
		if !strings.Contains(table, want) {
			t.Errorf("results table lacks %q:\n%s", want, table)
		}
	}

	// A group of 9 is suppressed: its note, no statistics.
	rng := rand.New(rand.NewSource(9))
	csv.Reset()
	csv.WriteString("pre,post,group,el\n")
	for range 9 {
		fmt.Fprintf(&csv, "%d,%d,treatment,\n", 40+rng.Intn(40), 40+rng.Intn(40))
	}
	b, err := evidence.AnalyzeCSV(strings.NewReader(csv.String()), opts)
	if err != nil {
		t.Fatal(err)
	}
	table = render(b.Results())
	if !strings.Contains(table, "fewer than 10 students") || strings.Contains(table, "<td>9</td>") {
		t.Errorf("suppressed group tabulated:\n%s", table)
	}
}
