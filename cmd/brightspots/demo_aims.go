package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// The demo's network aim (docs/aims.md): one aim published by
// the first district, with a driver diagram of 3 primary drivers, 5 secondary drivers and 8 change
// ideas linking practices of all three districts, and monthly progress from each district for the
// school year so far (September 2026 to the current month), as each district's admin reports it.

// demoAim is the aim; its change ideas' practices are filled in from the seeded practices.
func demoAim(by string) *practices.Aim {
	lo, hi, cut := 0.0, 100.0, 70.0
	return &practices.Aim{
		Meta:      practices.Meta{Visibility: practices.VisibilityNetwork},
		Title:     "Fractions proficiency by June 2027",
		Statement: "By June 2027, 70 % of grade 3–5 students in the network's schools will be proficient on the common fractions assessment.",
		OutcomeMeasure: &practices.OutcomeMeasure{Name: "Proficient on the common fractions assessment", Kind: evidence.MeasurePercent, Direction: evidence.DirectionUp,
			Definition: "Share of the students tested each month who score 70 or more on the network's common fractions form.", ScoreMin: &lo, ScoreMax: &hi, Cut: &cut},
		Target: &practices.AimTarget{Value: 70, By: by},
		Drivers: []practices.Driver{
			{ID: "conceptual-instruction", Level: practices.DriverPrimary, Text: "Conceptual fraction instruction"},
			{ID: "formative-assessment", Level: practices.DriverPrimary, Text: "Formative assessment routines"},
			{ID: "teacher-collaboration", Level: practices.DriverPrimary, Text: "Teachers learning together"},
			{ID: "visual-models", Level: practices.DriverSecondary, Text: "Visual models (number lines, area) in every lesson", Parent: "conceptual-instruction"},
			{ID: "student-talk", Level: practices.DriverSecondary, Text: "Students explain and justify their reasoning", Parent: "conceptual-instruction"},
			{ID: "feedback-within-a-day", Level: practices.DriverSecondary, Text: "Feedback on exit tickets within a day", Parent: "formative-assessment"},
			{ID: "common-tasks", Level: practices.DriverSecondary, Text: "Common tasks scored together", Parent: "teacher-collaboration"},
			{ID: "plc-cycles", Level: practices.DriverSecondary, Text: "Short PDSA cycles in every PLC", Parent: "teacher-collaboration"},
		},
		ChangeIdeas: []practices.ChangeIdea{
			{ID: "number-line-talks", Text: "Daily number line talks", Drivers: []string{"visual-models", "student-talk"}},
			{ID: "fraction-strips", Text: "Fraction strips before symbols", Drivers: []string{"visual-models"}},
			{ID: "justify-aloud", Text: "Justify-aloud partner routine", Drivers: []string{"student-talk"}},
			{ID: "exit-ticket-sort", Text: "Sort exit tickets by misconception the same afternoon", Drivers: []string{"feedback-within-a-day"}},
			{ID: "reteach-groups", Text: "Next-day reteach groups from the exit ticket", Drivers: []string{"feedback-within-a-day"}},
			{ID: "moderation-meetings", Text: "Monthly moderation of the common task", Drivers: []string{"common-tasks"}},
			{ID: "two-week-cycles", Text: "Two-week PDSA cycles with a shared run chart", Drivers: []string{"plc-cycles"}},
			{ID: "cross-district-visits", Text: "Lesson visits across districts", Drivers: []string{"plc-cycles", "student-talk"}},
		},
		Curator: "Network coordinator",
	}
}

// demoProgress is each district's monthly percent proficient and students tested, September to
// December 2026: Riverside rising steadily, Lakeview starting lower and catching up, Hillcrest flat
// (its late-October point has too few students, so it stays in the district).
var demoProgress = map[string][]evidence.MeasurePoint{
	"riverside": {{Date: "2026-09-18", N: 120, Value: 41}, {Date: "2026-10-16", N: 118, Value: 44}, {Date: "2026-11-13", N: 121, Value: 47}, {Date: "2026-12-04", N: 119, Value: 49}},
	"lakeview":  {{Date: "2026-09-11", N: 64, Value: 36}, {Date: "2026-10-09", N: 60, Value: 40}, {Date: "2026-11-06", N: 66, Value: 44}, {Date: "2026-12-03", N: 65, Value: 46}},
	"hillcrest": {{Date: "2026-09-25", N: 30, Value: 52}, {Date: "2026-10-05", N: 28, Value: 50}, {Date: "2026-10-29", N: 8, Value: 90}, {Date: "2026-11-20", N: 31, Value: 53}},
}

var demoProgressNotes = map[string]string{
	"riverside": "Started daily number line talks in all grade 4 classes",
	"lakeview":  "Exit tickets sorted by misconception every afternoon",
	"hillcrest": "Joined the network's two-week cycles",
}

// seedAim creates and publishes the aim in the first district, waits until the others mirror it,
// and publishes each district's progress towards it.
func seedAim(ctx context.Context, repos []*practices.Repo, admin practices.Principal) error {
	// Each district's published practices shared with the network, fractions first (the aim's
	// subject), in title order so the demo is the same every time.
	byDistrict := map[string][]string{}
	for _, r := range repos {
		recs, err := listAll(ctx, r, admin, practices.KindPractice)
		if err != nil {
			return err
		}
		var fractions, other []*practices.Practice
		for _, rec := range recs {
			pr := rec.(*practices.Practice)
			if pr.Status != practices.StatusPublished || (pr.Visibility != practices.VisibilityNetwork && pr.Visibility != practices.VisibilityPublic) {
				continue
			}
			if strings.Contains(strings.ToLower(pr.Title), "fraction") {
				fractions = append(fractions, pr)
			} else {
				other = append(other, pr)
			}
		}
		for _, group := range [][]*practices.Practice{fractions, other} {
			sort.Slice(group, func(i, j int) bool { return group[i].Title < group[j].Title })
			for _, pr := range group {
				byDistrict[r.Node().ID] = append(byDistrict[r.Node().ID], pr.URI)
			}
		}
	}
	by := "2027-06-15"
	if t, _ := time.Parse(time.DateOnly, by); time.Now().After(t) {
		by = time.Now().AddDate(0, 6, 0).Format(time.DateOnly)
	}
	aim := demoAim(by)
	// Practices of every district, spread over the change ideas: idea i takes the i-th practice of
	// district i mod 3 and of the next district.
	for i := range aim.ChangeIdeas {
		for k := 0; k < 2; k++ {
			d := repos[(i+k)%len(repos)].Node().ID
			if ps := byDistrict[d]; len(ps) > 0 {
				aim.ChangeIdeas[i].Practices = append(aim.ChangeIdeas[i].Practices, ps[(i/len(repos))%len(ps)])
			}
		}
	}
	origin := repos[0]
	rec, err := origin.Create(ctx, admin, aim)
	if err != nil {
		return fmt.Errorf("aim: %w", err)
	}
	id := rec.RecordMeta().ID
	if _, err := origin.Publish(ctx, admin, practices.KindAim, id, 0); err != nil {
		return fmt.Errorf("publish aim: %w", err)
	}
	uri := rec.RecordMeta().URI
	today := time.Now().Format(time.DateOnly)
	for _, r := range repos {
		if err := waitForAim(ctx, r, admin, uri); err != nil {
			return err
		}
		pr := &practices.Progress{Meta: practices.Meta{Visibility: practices.VisibilityNetwork}, Aim: practices.AimRef{URI: uri}}
		for _, p := range demoProgress[r.Node().ID] {
			if p.Date <= today {
				pr.Points = append(pr.Points, p)
			}
		}
		if len(pr.Points) == 0 {
			continue
		}
		pr.Notes = []evidence.MeasureNote{{Date: pr.Points[0].Date, Text: demoProgressNotes[r.Node().ID]}}
		pr.PhaseScore = []practices.PhaseScore{{Date: pr.Points[len(pr.Points)-1].Date, Score: 3}}
		out, err := r.Create(ctx, admin, pr)
		if err != nil {
			return fmt.Errorf("%s progress: %w", r.Node().ID, err)
		}
		if _, err := r.Publish(ctx, admin, practices.KindProgress, out.RecordMeta().ID, 0); err != nil {
			return fmt.Errorf("publish %s progress: %w", r.Node().ID, err)
		}
	}
	return nil
}

// waitForAim waits until r holds the aim (its own, or mirrored: the peers were notified when it
// was published).
func waitForAim(ctx context.Context, r *practices.Repo, p practices.Principal, uri string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := r.LoadAim(ctx, p, uri)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not see the aim %s: %w", r.Node().ID, uri, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
