package practices_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
)

func draftTest(practiceURI string, follows *practices.TestRef) *practices.Test {
	return &practices.Test{
		Meta:     practices.Meta{Team: "math-4", Visibility: practices.VisibilityNetwork},
		Practice: practices.PracticeRef{URI: practiceURI}, Cycle: "pdsa", Design: "single_group_pre_post",
		Question: "Does placing fractions first help comparison?", StartDate: "2026-01-12",
		Cohort:  &practices.Cohort{GradeLevels: []string{"05"}, Subjects: []string{"math"}},
		Follows: follows,
	}
}

func wantField(t *testing.T, err error, field, rule string) {
	t.Helper()
	var ve *practices.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a validation error on %s", err, field)
	}
	for _, p := range ve.Problems {
		if p.Field == field && p.Rule == rule {
			return
		}
	}
	t.Fatalf("problems = %+v, want %s/%s", ve.Problems, field, rule)
}

func TestCyclesFollowTitleAndLoops(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, newBucket(t))
	prac, err := r.Create(ctx, mathPLC, fullPractice("Fraction number line talks"))
	if err != nil {
		t.Fatal(err)
	}
	uri := prac.RecordMeta().URI

	first, err := r.Create(ctx, mathPLC, draftTest(uri, nil))
	if err != nil {
		t.Fatal(err)
	}
	t1 := first.(*practices.Test)
	if t1.Title != "Grade 5, winter 2026 — cycle 1" {
		t.Errorf("default title = %q", t1.Title)
	}
	second, err := r.Create(ctx, mathPLC, draftTest(uri, &practices.TestRef{URI: t1.URI}))
	if err != nil {
		t.Fatal(err)
	}
	t2 := second.(*practices.Test)
	if t2.Title != "Grade 5, winter 2026 — cycle 2" || t2.Follows.Version != t1.Version {
		t.Errorf("second cycle: title %q, follows %+v", t2.Title, t2.Follows)
	}

	// Unknown, invisible, self and loop are refused, naming follows.
	_, err = r.Create(ctx, mathPLC, draftTest(uri, &practices.TestRef{URI: node.URL + "/tests/0190d7c4-0000-7000-8000-000000000000"}))
	wantField(t, err, "follows", "unknown")
	elaDraft := draftTest(uri, nil)
	elaDraft.Team = "ela-3"
	ela, err := r.Create(ctx, elaPLC, elaDraft)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Create(ctx, mathPLC, draftTest(uri, &practices.TestRef{URI: ela.RecordMeta().URI}))
	wantField(t, err, "follows", "unknown") // another team's draft is invisible

	self := *t1
	self.Follows = &practices.TestRef{URI: t1.URI}
	_, err = r.Update(ctx, mathPLC, practices.KindTest, t1.ID, t1.Version, &self)
	wantField(t, err, "follows", "self")

	loop := *t1
	loop.Follows = &practices.TestRef{URI: t2.URI}
	_, err = r.Update(ctx, mathPLC, practices.KindTest, t1.ID, t1.Version, &loop)
	wantField(t, err, "follows", "loop")

	// The ramp reads 1 → 2 from either end, and the first cycle knows who follows it.
	ramp, err := r.Ramp(ctx, mathPLC, t1)
	if err != nil || len(ramp) != 2 || ramp[0].URI != t1.URI || ramp[1].URI != t2.URI {
		t.Fatalf("ramp from cycle 1 = %v, %v", ramp, err)
	}
	ramp, err = r.Ramp(ctx, mathPLC, t2)
	if err != nil || len(ramp) != 2 || ramp[0].URI != t1.URI {
		t.Fatalf("ramp from cycle 2 = %v, %v", ramp, err)
	}
	if n := r.CycleNumber(ctx, mathPLC, t2); n != 2 {
		t.Errorf("cycle number = %d", n)
	}
}

func TestTitleRequiredAtPublish(t *testing.T) {
	tt := draftTest("http://riverside.test/practices/0190d7c4-0000-7000-8000-000000000000", nil)
	err := practices.Validate(tt, practices.LevelPublish)
	wantField(t, err, "title", "required")
}

func TestDefaultTestTitle(t *testing.T) {
	now := time.Date(2026, 10, 3, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		start  string
		grades []string
		cycle  int
		want   string
	}{
		{"2025-12-01", []string{"05"}, 2, "Grade 5, winter 2026 — cycle 2"},
		{"2026-04-01", []string{"03", "04", "05"}, 1, "Grades 3–5, spring 2026 — cycle 1"},
		{"", nil, 3, "fall 2026 — cycle 3"},
	} {
		tt := &practices.Test{StartDate: c.start}
		if c.grades != nil {
			tt.Cohort = &practices.Cohort{GradeLevels: c.grades}
		}
		if got := practices.DefaultTestTitle(tt, c.cycle, now); got != c.want {
			t.Errorf("DefaultTestTitle(%q, %v) = %q, want %q", c.start, c.grades, got, c.want)
		}
	}
}

func TestAdaptCopiesAndLinks(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, newBucket(t))
	prac, err := r.Create(ctx, mathPLC, fullPractice("Fraction number line talks"))
	if err != nil {
		t.Fatal(err)
	}
	orig := prac.(*practices.Practice)
	// A draft cannot be adapted, and a practice the caller cannot see is not found.
	if _, err := r.Adapt(ctx, elaPLC, orig.URI, practices.Adaptation{Team: "ela-3", Changes: "x"}); !errors.Is(err, practices.ErrNotFound) {
		t.Fatalf("adapting an invisible draft: %v", err)
	}
	if _, err := r.Publish(ctx, mathPLC, practices.KindPractice, orig.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, err = r.Adapt(ctx, elaPLC, orig.URI, practices.Adaptation{Team: "ela-3"})
	wantField(t, err, "changes", "required")
	if _, err := r.Adapt(ctx, elaPLC, orig.URI, practices.Adaptation{Team: "math-4", Changes: "x"}); !errors.Is(err, practices.ErrForbidden) {
		t.Fatalf("adapting into another team: %v", err)
	}
	ad, err := r.Adapt(ctx, elaPLC, orig.URI, practices.Adaptation{Team: "ela-3", Changes: "Sentence frames for English learners"})
	if err != nil {
		t.Fatal(err)
	}
	if ad.Status != practices.StatusDraft || ad.Team != "ela-3" || ad.OriginKind != "adapted" || len(ad.BasedOn) != 1 ||
		ad.BasedOn[0].URI != orig.URI || ad.BasedOn[0].Relation != "adaptation_of" || !strings.Contains(ad.Description, "number line") {
		t.Fatalf("adaptation = %+v", ad)
	}
	// Listed under "Adapted by" only once published.
	if list, _ := r.Adaptations(ctx, mathPLC, orig.URI); len(list) != 0 {
		t.Fatalf("draft adaptation listed: %v", list)
	}
	if _, err := r.Publish(ctx, elaPLC, practices.KindPractice, ad.ID, 0); err != nil {
		t.Fatal(err)
	}
	if list, _ := r.Adaptations(ctx, mathPLC, orig.URI); len(list) != 1 {
		t.Fatalf("published adaptation not listed: %v", list)
	}
	act, err := r.Activity(ctx, mathPLC, 10)
	if err != nil || len(act) != 1 || act[0].Kind != "adaptation" || act[0].RecordID != ad.ID || act[0].SubjectID != orig.ID {
		t.Fatalf("activity = %+v, %v", act, err)
	}
}
