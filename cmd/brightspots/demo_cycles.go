package main

import (
	"context"
	"fmt"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/corpus"
	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// demoCycle is one scripted PDSA cycle of the demo's story.
type demoCycle struct {
	title, start, end, adaptations, learnings, decision string
	n                                                   int
	g                                                   float64
}

// seedCycles writes the demo's story of cycles that travel: Riverside's grade 4 math PLC runs three
// cycles of a number-line routine (adapt → adapt → adopt), and Lakeview's multilingual learners
// PLC adapts it with sentence frames and tests the adaptation in two cycles of its own. teams
// collects the PLCs so the demo's accounts belong to them.
func seedCycles(ctx context.Context, repos []*practices.Repo, admin practices.Principal, teams map[string]map[string]bool) error {
	if len(repos) < 2 {
		return nil
	}
	riverside, lakeview := repos[0], repos[1]
	const rTeam, lTeam = "Math grade 4 PLC", "Multilingual learners grade 4 PLC"
	orig := &practices.Practice{
		Meta:  practices.Meta{Team: rTeam, Visibility: practices.VisibilityNetwork},
		Title: "Fraction number line talks",
		Summary: "Students place fraction cards on a shared number line and justify each placement aloud " +
			"before any comparison is written down.",
		Description: "1. Draw a number line from 0 to 2 on the board.\n2. Each student places a fraction card and " +
			"explains why it goes there.\n3. The class agrees or revises, then writes the comparisons.",
		KeyMoves:     []string{"Students justify each placement aloud", "Teacher records misconceptions on the board", "Comparisons are written only after the line is agreed"},
		Subjects:     []string{"math"},
		GradeLevels:  []string{"04"},
		Standards:    []practices.Standard{{Code: "CCSS.MATH.CONTENT.4.NF.A.2"}},
		OriginKind:   "team_designed",
		TimeRequired: "PT15M",
	}
	rec, err := riverside.Create(ctx, admin, orig)
	if err != nil {
		return err
	}
	if _, err := riverside.Publish(ctx, admin, practices.KindPractice, rec.RecordMeta().ID, 0); err != nil {
		return err
	}
	origURI := rec.RecordMeta().URI
	_, err = seedRamp(ctx, riverside, admin, origURI, rTeam, []demoCycle{
		{"Grade 4, fall 2025 — cycle 1", "2025-09-15", "2025-10-24", "",
			"Placing cards took most of the fifteen minutes; only the first five students got to justify. Next cycle: small groups with their own number lines.", "adapt", 24, 0.31},
		{"Grade 4, fall 2025 — cycle 2", "2025-11-03", "2025-12-12", "Small groups of four, each with its own number line; the teacher visits each group once.",
			"Groups talked more, but the misconceptions stayed in the groups. Next cycle: a two-minute whole-class debrief of one disputed card.", "adapt", 26, 0.42},
		{"Grade 4, winter 2026 — cycle 3", "2026-01-12", "2026-02-20", "A two-minute whole-class debrief of the most disputed card at the end of each session.",
			"The debrief is where students changed their minds. The routine now fits in fifteen minutes and we are adopting it across grade 4.", "adopt", 27, 0.63},
	})
	if err != nil {
		return err
	}
	// Lakeview adapts the practice for English learners and tests its adaptation twice.
	adapted := *orig
	adapted.Meta = practices.Meta{Team: lTeam, Visibility: practices.VisibilityNetwork}
	adapted.Title = "Fraction number line talks with sentence frames"
	adapted.OriginKind = "adapted"
	adapted.Standards = []practices.Standard{{Code: "CCSS.MATH.CONTENT.4.NF.A.2"}}
	adapted.KeyMoves = append([]string{"Students use a sentence frame to justify: “I put it here because …”"}, orig.KeyMoves...)
	adapted.BasedOn = []practices.BasedOn{{URI: origURI, Relation: "adaptation_of",
		Changes: "Sentence frames and bilingual vocabulary cards (numerator, denominator, halfway) for English learners."}}
	rec, err = lakeview.Create(ctx, admin, &adapted)
	if err != nil {
		return err
	}
	if _, err := lakeview.Publish(ctx, admin, practices.KindPractice, rec.RecordMeta().ID, 0); err != nil {
		return err
	}
	_, err = seedRamp(ctx, lakeview, admin, rec.RecordMeta().URI, lTeam, []demoCycle{
		{"Grade 4 newcomers, winter 2026 — cycle 1", "2026-01-20", "2026-02-27", "Sentence frames on every table; vocabulary cards in Spanish and Arabic.",
			"English learners justified placements for the first time when the frame was on the table, not on the board. Partners who share a home language helped most.", "adapt", 22, 0.38},
		{"Grade 4 newcomers, spring 2026 — cycle 2", "2026-03-09", "2026-04-17", "Frames printed on each student's own number line; partners chosen by home language.",
			"With frames on their own number line, English learners kept using them without prompting. We are adopting it and sharing the frames with Riverside.", "adopt", 24, 0.55},
	})
	if err != nil {
		return err
	}
	for node, team := range map[string]string{riverside.Node().ID: rTeam, lakeview.Node().ID: lTeam} {
		if teams[node] == nil {
			teams[node] = map[string]bool{}
		}
		teams[node][team] = true
	}
	return nil
}

// seedRamp writes cycles of one practice in one district, each following the one before, with
// results from summary statistics and the team's decision, all published.
func seedRamp(ctx context.Context, r *practices.Repo, admin practices.Principal, practiceURI, team string, cycles []demoCycle) ([]*practices.Test, error) {
	var out []*practices.Test
	cut := 65.0
	for i, c := range cycles {
		t := &practices.Test{
			Meta:     practices.Meta{Team: team, Visibility: practices.VisibilityNetwork},
			Title:    c.title,
			Practice: practices.PracticeRef{URI: practiceURI, Version: 2},
			Cycle:    "pdsa", Design: "single_group_pre_post",
			Question:   "Will grade 4 students place and compare fractions on a number line more accurately after six weeks of number line talks?",
			Prediction: &practices.Prediction{Text: "The effect size will be at least 0.4.", Metric: "effect_size", Operator: ">=", Value: 0.4},
			Assessment: &practices.Assessment{Name: "Grade 4 fractions common assessment", Kind: "common formative assessment",
				ScoreMin: 0, ScoreMax: 100, ProficiencyCut: &cut, Form: "parallel"},
			Cohort:    &practices.Cohort{GradeLevels: []string{"04"}, Subjects: []string{"math"}, Classrooms: 2, StudentsPlanned: c.n},
			StartDate: c.start, EndDate: c.end,
			Dosage:      &practices.Dosage{SessionsPlanned: 18, SessionsDelivered: 16, MinutesPerSession: 15},
			Adaptations: c.adaptations, Learnings: c.learnings,
		}
		if i > 0 {
			t.Follows = &practices.TestRef{URI: out[i-1].URI}
		}
		rec, err := r.Create(ctx, admin, t)
		if err != nil {
			return nil, fmt.Errorf("cycle %q: %w", c.title, err)
		}
		id := rec.RecordMeta().ID
		opts, err := practices.ResultsOptions(rec.(*practices.Test), evidence.DefaultMinimumN)
		if err != nil {
			return nil, err
		}
		analysis, err := evidence.AnalyzeSummary(summaryFor(corpus.TestResult{N: c.n, G: c.g}, t.Design), opts)
		if err != nil {
			return nil, fmt.Errorf("results of %q: %w", c.title, err)
		}
		if _, err := r.RecordResults(ctx, admin, id, analysis); err != nil {
			return nil, err
		}
		if _, err := r.Mutate(ctx, admin, practices.KindTest, id, func(cur practices.Record) error {
			cur.(*practices.Test).Decision = c.decision
			return nil
		}); err != nil {
			return nil, err
		}
		pub, err := r.Publish(ctx, admin, practices.KindTest, id, 0)
		if err != nil {
			return nil, fmt.Errorf("publish %q: %w", c.title, err)
		}
		out = append(out, pub.(*practices.Test))
	}
	return out, nil
}
