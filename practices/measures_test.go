package practices_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/storage"
)

func draftMeasuredTest(practiceURI string) *practices.Test {
	return &practices.Test{
		Meta:     practices.Meta{Team: "math-4", Visibility: practices.VisibilityNetwork},
		Practice: practices.PracticeRef{URI: practiceURI, Version: 1},
		Cycle:    "pdsa", Design: "single_group_pre_post", Question: "Does the routine help?",
		Assessment: &practices.Assessment{Name: "Unit test", ScoreMin: 0, ScoreMax: 100},
	}
}

func fptr(f float64) *float64 { return &f }
func iptr(i int) *int         { return &i }

func exitTicket() evidence.Measure {
	return evidence.Measure{
		ID: "exit-ticket", Name: "Exit ticket: unit fractions (0–4)", Type: "outcome", Kind: evidence.MeasureMean,
		Direction: evidence.DirectionUp, ScoreMin: fptr(0), ScoreMax: fptr(4), Baseline: iptr(3),
		Points: []evidence.MeasurePoint{
			{Date: "2026-09-07", N: 22, Value: 2.14},
			{Date: "2026-09-14", N: 7, Value: 3.9}, // fewer than 10 students
			{Date: "2026-09-21", N: 23, Value: 2.26},
			{Date: "2026-09-28", N: 24, Value: 2.71},
		},
		Notes: []evidence.MeasureNote{{Date: "2026-09-21", Text: "Cycle 2 starts"}},
	}
}

func TestMeasuresKeepSmallPointsInsideTheDistrict(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, newBucket(t))
	in := draftMeasuredTest("http://riverside.test/practices/0190f2a0-0000-7000-8000-000000000001")
	in.Measures = []evidence.Measure{exitTicket()}
	rec, err := r.Create(ctx, mathPLC, in)
	if err != nil {
		t.Fatal(err)
	}
	tst := rec.(*practices.Test)
	body, _ := json.Marshal(tst)
	if strings.Contains(string(body), "2026-09-14") || strings.Contains(string(body), `"value":3.9`) {
		// (the value as a field: a bare "3.9" also matched timestamps such as "…:53.933Z")
		t.Fatalf("the record holds the point below the minimum n: %s", body)
	}
	pub := tst.Measures[0]
	if len(pub.Points) != 3 || pub.Withheld != 1 || pub.Points[0].Value != 2.1 || pub.Analysis == nil || *pub.Baseline != 2 {
		t.Fatalf("published measure %+v", pub)
	}
	team, err := r.TeamMeasures(ctx, tst)
	if err != nil {
		t.Fatal(err)
	}
	if len(team[0].Points) != 4 || team[0].Points[0].Value != 2.14 {
		t.Fatalf("team view %+v", team[0].Points)
	}

	// An edit without measures leaves them; an edit with them replaces both views.
	edit := *tst
	edit.Measures = nil
	edit.Question = "Does the routine help more students?"
	rec, err = r.Update(ctx, mathPLC, practices.KindTest, tst.ID, tst.Version, &edit)
	if err != nil {
		t.Fatal(err)
	}
	tst = rec.(*practices.Test)
	if len(tst.Measures) != 1 || len(tst.Measures[0].Points) != 3 {
		t.Fatalf("measures lost by an edit without them: %+v", tst.Measures)
	}
	if team, _ := r.TeamMeasures(ctx, tst); len(team[0].Points) != 4 {
		t.Fatalf("team view lost by an edit without measures: %+v", team)
	}

	// Points from a score file merge by date.
	tst, err = r.RecordMeasurePoints(ctx, mathPLC, tst.ID, "exit-ticket", []evidence.MeasurePoint{{Date: "2026-09-14", N: 12, Value: 2.5}, {Date: "2026-10-05", N: 21, Value: 2.9}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tst.Measures[0]; len(got.Points) != 5 || got.Withheld != 0 || got.Points[1].Value != 2.5 {
		t.Fatalf("after upload: %+v", got)
	}
	if team, _ := r.TeamMeasures(ctx, tst); len(team[0].Points) != 5 {
		t.Fatalf("team view after upload: %+v", team[0].Points)
	}
	if _, err := r.RecordMeasurePoints(ctx, mathPLC, tst.ID, "nope", nil); !errors.Is(err, practices.ErrNotFound) {
		t.Errorf("unknown measure: %v", err)
	}
	// Another team cannot add points.
	if _, err := r.RecordMeasurePoints(ctx, elaPLC, tst.ID, "exit-ticket", nil); err == nil {
		t.Error("another team added points")
	}
}

func TestMeasureValidation(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, newBucket(t))
	cases := []struct {
		name  string
		edit  func(m *evidence.Measure)
		field string
		rule  string
	}{
		{"unknown kind", func(m *evidence.Measure) { m.Kind = "median" }, "measures[0].kind", "one_of"},
		{"unknown type", func(m *evidence.Measure) { m.Type = "driver" }, "measures[0].type", "one_of"},
		{"unknown direction", func(m *evidence.Measure) { m.Direction = "sideways" }, "measures[0].direction", "one_of"},
		{"duplicate date", func(m *evidence.Measure) { m.Points[2].Date = m.Points[1].Date }, "measures[0].points[2].date", "duplicate"},
		{"unordered dates", func(m *evidence.Measure) { m.Points[2].Date = "2026-09-01" }, "measures[0].points[2].date", "order"},
		{"baseline too long", func(m *evidence.Measure) { m.Baseline = iptr(5) }, "measures[0].baseline", "range"},
		{"baseline below 1", func(m *evidence.Measure) { m.Baseline = iptr(0) }, "measures[0].baseline", "range"},
		{"n zero", func(m *evidence.Measure) { m.Points[1].N = 0 }, "measures[0].points[1].n", "range"},
		{"mean off the scale", func(m *evidence.Measure) { m.Points[3].Value = 4.5 }, "measures[0].points[3].value", "range"},
		{"percent over 100", func(m *evidence.Measure) { m.Kind = evidence.MeasurePercent; m.Points[0].Value = 101 }, "measures[0].points[0].value", "range"},
		{"bad date", func(m *evidence.Measure) { m.Points[0].Date = "07/09/2026" }, "measures[0].points[0].date", "format"},
		{"too many points", func(m *evidence.Measure) {
			m.Baseline = nil
			m.Points = nil
			for i := 0; i < 201; i++ {
				m.Points = append(m.Points, evidence.MeasurePoint{Date: fmt.Sprintf("%04d-01-01", 1800+i), N: 12, Value: 2})
			}
		}, "measures[0].points", "max_items"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := exitTicket()
			tc.edit(&m)
			in := draftMeasuredTest("http://riverside.test/practices/0190f2a0-0000-7000-8000-000000000001")
			in.Measures = []evidence.Measure{m}
			_, err := r.Create(ctx, mathPLC, in)
			var ve *practices.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v, want a validation error", err)
			}
			found := false
			for _, p := range ve.Problems {
				if p.Field == tc.field && p.Rule == tc.rule {
					found = true
					if !strings.Contains(p.Message, `measure "exit-ticket"`) {
						t.Errorf("the message does not name the measure: %q", p.Message)
					}
					if strings.Contains(tc.field, "points[") && !strings.Contains(p.Message, "point ") {
						t.Errorf("the message does not name the point: %q", p.Message)
					}
				}
			}
			if !found {
				t.Errorf("problems %+v, want %s %s", ve.Problems, tc.field, tc.rule)
			}
		})
	}
	many := draftMeasuredTest("http://riverside.test/practices/0190f2a0-0000-7000-8000-000000000001")
	for i := 0; i < 11; i++ {
		m := exitTicket()
		m.ID = fmt.Sprintf("m%d", i)
		many.Measures = append(many.Measures, m)
	}
	var ve *practices.ValidationError
	if _, err := r.Create(ctx, mathPLC, many); !errors.As(err, &ve) || ve.Problems[0].Rule != "max_items" {
		t.Errorf("11 measures: %v", err)
	}
}

// A node archive carries the team's view of measures and the score-file audit, so a district that
// moves keeps the points below the minimum n.
func TestArchiveKeepsTeamMeasures(t *testing.T) {
	ctx := context.Background()
	src := openRepo(t, newBucket(t))
	in := draftMeasuredTest("http://riverside.test/practices/0190f2a0-0000-7000-8000-000000000001")
	in.Measures = []evidence.Measure{exitTicket()}
	rec, err := src.Create(ctx, mathPLC, in)
	if err != nil {
		t.Fatal(err)
	}
	id := rec.RecordMeta().ID
	ms, err := evidence.ParseMeasureScores(strings.NewReader("date,score\n2026-10-05,3\n"), evidence.MeasureScoreOptions{Kind: "mean", ScoreMax: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.AuditMeasureUpload(ctx, mathPLC, id, "exit-ticket", ms); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a.tar")
	f, _ := os.Create(path)
	if _, err := src.Export(ctx, f, hashSigner{}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dstBucket := newBucket(t)
	if _, err := practices.ImportArchive(ctx, dstBucket, node, fileSource(path), hashVerify, practices.Options{}); err != nil {
		t.Fatal(err)
	}
	dst := openRepo(t, dstBucket)
	got, err := dst.Get(ctx, mathPLC, practices.KindTest, id)
	if err != nil {
		t.Fatal(err)
	}
	team, err := dst.TeamMeasures(ctx, got.(*practices.Test))
	if err != nil || len(team[0].Points) != 4 || team[0].Points[1].N != 7 {
		t.Fatalf("team view after import: %+v, %v", team, err)
	}
	audits, _ := dstBucket.List(ctx, storage.ListOptions{Prefix: "node/audit/measures/" + id + "/"})
	if len(audits) != 1 {
		t.Fatalf("%d audit entries after import", len(audits))
	}
}

// A mean of identical scores is every student's score: it stays in the district, also after the
// team saves the measure again with the point unchanged.
func TestIdenticalScoresStayInside(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, newBucket(t))
	in := draftMeasuredTest("http://riverside.test/practices/0190f2a0-0000-7000-8000-000000000001")
	in.Measures = []evidence.Measure{exitTicket()}
	rec, err := r.Create(ctx, mathPLC, in)
	if err != nil {
		t.Fatal(err)
	}
	id := rec.RecordMeta().ID
	ms, err := evidence.ParseMeasureScores(strings.NewReader("date,score\n"+strings.Repeat("2026-10-05,3\n", 14)), evidence.MeasureScoreOptions{Kind: "mean", ScoreMax: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !ms.Points[0].Identical {
		t.Fatal("14 identical scores not marked")
	}
	tst, err := r.RecordMeasurePoints(ctx, mathPLC, id, "exit-ticket", ms.Points)
	if err != nil {
		t.Fatal(err)
	}
	published := func(tst *practices.Test) bool {
		for _, p := range tst.Measures[0].Points {
			if p.Date == "2026-10-05" {
				return true
			}
		}
		return false
	}
	if published(tst) || tst.Measures[0].Withheld != 2 {
		t.Fatalf("the identical-scores point was published: %+v", tst.Measures[0])
	}
	// The team saves the measure again (as the form does: points without the mark).
	team, _ := r.TeamMeasures(ctx, tst)
	edit := *tst
	edit.Measures = []evidence.Measure{team[0]}
	edit.Measures[0].Points = append([]evidence.MeasurePoint(nil), team[0].Points...)
	for i := range edit.Measures[0].Points {
		edit.Measures[0].Points[i].Identical = false
	}
	edit.Measures[0].Name = "Exit ticket (renamed)"
	rec, err = r.Update(ctx, mathPLC, practices.KindTest, id, tst.Version, &edit)
	if err != nil {
		t.Fatal(err)
	}
	if published(rec.(*practices.Test)) {
		t.Fatal("a re-save published the identical-scores point")
	}
}
