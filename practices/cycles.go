package practices

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Cycles that travel (docs/cycles.md): a test may follow an
// earlier test, forming a ramp of cycles; a practice may be adapted by another team; and the team
// that owns a practice hears about both. Reverse references (node/refs/follows/…) let a test find
// the cycles that follow it without a scan, as tests-of and adaptations-of do for practices.

// maxRamp bounds every walk along follows links: a ramp longer than this is not a ramp a team ran.
const maxRamp = 64

// loadVisible returns the record a URI names, local or mirrored, if p may see it.
func (r *Repo) loadVisible(ctx context.Context, p Principal, uri string) (Record, error) {
	origin, kind, id, ok := ParseURI(uri)
	if !ok {
		return nil, ErrNotFound
	}
	rec, gone, err := r.Load(ctx, origin, kind, id)
	if errors.Is(err, ErrNotFound) || gone {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !CanRead(p, rec.RecordMeta(), r.node) {
		return nil, ErrNotFound
	}
	return rec, nil
}

// LoadTest returns the test a URI names (local or mirrored) if p may see it.
func (r *Repo) LoadTest(ctx context.Context, p Principal, uri string) (*Test, error) {
	return loadVisibleAs[*Test](ctx, r, p, uri)
}

// LoadPractice returns the practice a URI names (local or mirrored) if p may see it.
func (r *Repo) LoadPractice(ctx context.Context, p Principal, uri string) (*Practice, error) {
	return loadVisibleAs[*Practice](ctx, r, p, uri)
}

// loadVisibleAs is loadVisible for one kind: a URI naming a record of another kind is not found.
func loadVisibleAs[T Record](ctx context.Context, r *Repo, p Principal, uri string) (T, error) {
	var zero T
	rec, err := r.loadVisible(ctx, p, uri)
	if err != nil {
		return zero, err
	}
	t, ok := rec.(T)
	if !ok {
		return zero, ErrNotFound
	}
	return t, nil
}

// checkFollows enforces the rules of a test's follows link: it names a test p can see, not the test
// itself, and following it makes no loop. It fills in the followed version when the client left it
// out. selfURI is "" for a test being created (nothing can follow it yet, so no loop is possible).
func (r *Repo) checkFollows(ctx context.Context, p Principal, t *Test, selfURI string) error {
	if t.Follows == nil {
		return nil
	}
	var c checker
	c.url("follows.uri", t.Follows.URI, true)
	if t.Follows.Version < 0 {
		c.add("follows.version", "range", "must not be negative")
	}
	if err := c.err(); err != nil {
		return err
	}
	if selfURI != "" && t.Follows.URI == selfURI {
		return fieldError("follows", "self", "cannot name this test itself: a cycle follows an earlier cycle")
	}
	prev, err := r.LoadTest(ctx, p, t.Follows.URI)
	if errors.Is(err, ErrNotFound) {
		return fieldError("follows", "unknown", "must name a test you can see (local or from a peer district)")
	}
	if err != nil {
		return err
	}
	if t.Follows.Version == 0 {
		t.Follows.Version = prev.Version
	} else if t.Follows.Version > prev.Version {
		return fieldError("follows.version", "unknown", fmt.Sprintf("must be a version of that test that exists (latest is %d)", prev.Version))
	}
	// Walk back from the followed test; meeting this test again would close a loop.
	seen := map[string]bool{prev.URI: true}
	cur := prev
	for steps := 0; cur.Follows != nil; steps++ {
		if steps >= maxRamp {
			return fieldError("follows", "too_long", fmt.Sprintf("makes a ramp of more than %d cycles", maxRamp))
		}
		if selfURI != "" && cur.Follows.URI == selfURI {
			return fieldError("follows", "loop", "would make a loop: that test already follows this one, directly or through other cycles")
		}
		if seen[cur.Follows.URI] {
			break // an older loop among other teams' records; not this test's doing
		}
		seen[cur.Follows.URI] = true
		next, gone, err := r.Load(ctx, originOf(cur.Follows.URI), KindTest, idOf(cur.Follows.URI))
		if err != nil || gone || next == nil {
			break // the earlier end of the ramp is out of sight: no loop through this test
		}
		cur = next.(*Test)
	}
	return nil
}

func originOf(uri string) string { o, _, _, _ := ParseURI(uri); return o }
func idOf(uri string) string     { _, _, id, _ := ParseURI(uri); return id }

func fieldError(field, rule, msg string) error {
	return &ValidationError{Problems: []FieldError{{Field: field, Rule: rule, Message: msg}}}
}

// CycleNumber is the place of a test in its ramp: 1 for a test that follows nothing visible, n+1
// for one that follows cycle n.
func (r *Repo) CycleNumber(ctx context.Context, p Principal, t *Test) int {
	n := 1
	seen := map[string]bool{t.URI: true}
	for cur := t; cur.Follows != nil && n <= maxRamp; n++ {
		if seen[cur.Follows.URI] {
			break
		}
		seen[cur.Follows.URI] = true
		prev, err := r.LoadTest(ctx, p, cur.Follows.URI)
		if err != nil {
			break
		}
		cur = prev
	}
	return n
}

// DefaultTestTitle is what a team would call a cycle: "Grade 5, winter 2026 — cycle 2". Grades come
// from the cohort, the season from the start date (or now).
func DefaultTestTitle(t *Test, cycle int, now time.Time) string {
	var parts []string
	if t.Cohort != nil && len(t.Cohort.GradeLevels) > 0 {
		labels := make([]string, 0, len(t.Cohort.GradeLevels))
		for _, g := range t.Cohort.GradeLevels {
			labels = append(labels, GradeLabel(g))
		}
		if len(labels) == 1 {
			parts = append(parts, "Grade "+labels[0])
		} else {
			parts = append(parts, "Grades "+labels[0]+"–"+labels[len(labels)-1])
		}
	}
	when := now
	if d, err := time.Parse(time.DateOnly, t.StartDate); err == nil {
		when = d
	}
	parts = append(parts, season(when))
	return strings.Join(parts, ", ") + fmt.Sprintf(" — cycle %d", cycle)
}

// season names a school-year season; December belongs to the winter of the next calendar year.
func season(t time.Time) string {
	y := t.Year()
	switch t.Month() {
	case time.December:
		return fmt.Sprintf("winter %d", y+1)
	case time.January, time.February:
		return fmt.Sprintf("winter %d", y)
	case time.March, time.April, time.May:
		return fmt.Sprintf("spring %d", y)
	case time.June, time.July, time.August:
		return fmt.Sprintf("summer %d", y)
	}
	return fmt.Sprintf("fall %d", y)
}

// prepareTest runs the checks and defaults of a test that need the store: the follows link and
// the default title. cur is the current version (nil when creating).
func (r *Repo) prepareTest(ctx context.Context, p Principal, t *Test, cur *Test) error {
	self := ""
	if cur != nil {
		self = cur.URI
	}
	changed := cur == nil || !followsEqual(t.Follows, cur.Follows)
	if changed {
		if err := r.checkFollows(ctx, p, t, self); err != nil {
			return err
		}
	}
	if t.Title == "" && cur == nil {
		n := 1
		if t.Follows != nil {
			if prev, err := r.LoadTest(ctx, p, t.Follows.URI); err == nil {
				n = r.CycleNumber(ctx, p, prev) + 1
			}
		} else {
			n = r.teamCycles(ctx, p, t) + 1
		}
		t.Title = DefaultTestTitle(t, n, r.now())
	}
	return nil
}

func followsEqual(a, b *TestRef) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// teamCycles counts the tests the same team already has of the same practice on this node.
func (r *Repo) teamCycles(ctx context.Context, p Principal, t *Test) int {
	refs, err := r.referrers(ctx, "tests-of", t.Practice.URI)
	if err != nil {
		return 0
	}
	n := 0
	for _, ref := range refs {
		if ref.Origin != r.node.URL {
			continue
		}
		rec, gone, err := r.Load(ctx, ref.Origin, KindTest, ref.ID)
		if err != nil || gone {
			continue
		}
		if o := rec.(*Test); o.Team == t.Team && o.Practice.URI == t.Practice.URI && o.Status != StatusDeleted {
			n++
		}
	}
	return n
}

// Followers returns the tests p may see that follow the test at uri, oldest first.
func (r *Repo) Followers(ctx context.Context, p Principal, uri string) ([]*Test, error) {
	refs, err := r.referrers(ctx, "follows", uri)
	if err != nil {
		return nil, err
	}
	var out []*Test
	for _, ref := range refs {
		rec, gone, err := r.Load(ctx, ref.Origin, KindTest, ref.ID)
		if err != nil || gone || !CanRead(p, rec.RecordMeta(), r.node) {
			continue
		}
		t := rec.(*Test)
		if t.Follows == nil || t.Follows.URI != uri { // the marker may be stale: the record must still say so
			continue
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Test) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// Ramp returns the cycles around t that p may see, in order: the earlier cycles it follows, t, and
// the later cycles that follow it (where several follow one cycle, the first published is shown as
// the ramp's next step).
func (r *Repo) Ramp(ctx context.Context, p Principal, t *Test) ([]*Test, error) {
	seen := map[string]bool{t.URI: true}
	var before []*Test
	for cur := t; cur.Follows != nil && len(before) < maxRamp; {
		if seen[cur.Follows.URI] {
			break
		}
		seen[cur.Follows.URI] = true
		prev, err := r.LoadTest(ctx, p, cur.Follows.URI)
		if err != nil {
			break
		}
		before = append(before, prev)
		cur = prev
	}
	slices.Reverse(before)
	out := append(before, t)
	for cur := t; len(out) < 2*maxRamp; {
		next, err := r.Followers(ctx, p, cur.URI)
		if err != nil {
			return nil, err
		}
		next = slices.DeleteFunc(next, func(x *Test) bool { return seen[x.URI] || x.Status != StatusPublished && x.Origin != r.node.URL })
		if len(next) == 0 {
			break
		}
		seen[next[0].URI] = true
		out = append(out, next[0])
		cur = next[0]
	}
	return out, nil
}

// PracticeTest is one test of a practice as lists show it: the test, and whether it tested an
// adaptation of the practice rather than the practice itself.
type PracticeTest struct {
	Test          *Test
	ViaAdaptation bool
}

// TestsOf returns every test p may see of the practice at uri — local and mirrored, including tests
// of the practice's adaptations (marked) — newest first.
func (r *Repo) TestsOf(ctx context.Context, p Principal, uri string) ([]PracticeTest, error) {
	type source struct {
		ref     refTarget
		target  string
		adapted bool
	}
	var sources []source
	direct, err := r.referrers(ctx, "tests-of", uri)
	if err != nil {
		return nil, err
	}
	for _, t := range direct {
		sources = append(sources, source{t, uri, false})
	}
	adaptations, err := r.Adaptations(ctx, p, uri)
	if err != nil {
		return nil, err
	}
	for _, a := range adaptations {
		tests, err := r.referrers(ctx, "tests-of", a.URI)
		if err != nil {
			return nil, err
		}
		for _, t := range tests {
			sources = append(sources, source{t, a.URI, true})
		}
	}
	var out []PracticeTest
	seen := map[string]bool{}
	for _, s := range sources {
		rec, gone, err := r.Load(ctx, s.ref.Origin, KindTest, s.ref.ID)
		if err != nil || gone {
			continue
		}
		t := rec.(*Test)
		if seen[t.URI] || t.Practice.URI != s.target || !CanRead(p, &t.Meta, r.node) {
			continue
		}
		seen[t.URI] = true
		out = append(out, PracticeTest{Test: t, ViaAdaptation: s.adapted})
	}
	slices.SortFunc(out, func(a, b PracticeTest) int { return b.Test.CreatedAt.Compare(a.Test.CreatedAt) })
	return out, nil
}

// Adapt creates a draft practice in team that adapts the practice at uri: the original's content,
// with based_on naming it as the original and what the team changed. The original must be visible
// to p (else ErrNotFound); p must be allowed to create practices for team.
func (r *Repo) Adapt(ctx context.Context, p Principal, uri string, a Adaptation) (*Practice, error) {
	orig, err := r.LoadPractice(ctx, p, uri)
	if err != nil {
		return nil, err
	}
	if orig.Status != StatusPublished {
		return nil, &StateError{Msg: "only a published practice can be adapted"}
	}
	title := strings.TrimSpace(a.Title)
	if title == "" {
		title = orig.Title
	}
	np := &Practice{
		Meta:  Meta{Team: a.Team, Visibility: a.Visibility, SharedWith: a.SharedWith},
		Title: title, Summary: orig.Summary, Description: orig.Description,
		KeyMoves: slices.Clone(orig.KeyMoves), Subjects: slices.Clone(orig.Subjects),
		GradeLevels: slices.Clone(orig.GradeLevels), Standards: slices.Clone(orig.Standards),
		OriginKind: "adapted", TimeRequired: orig.TimeRequired, ContextNotes: orig.ContextNotes,
		License: orig.License,
		BasedOn: []BasedOn{{URI: orig.URI, Relation: "adaptation_of", Changes: strings.TrimSpace(a.Changes)}},
	}
	var c checker
	c.text("changes", a.Changes, maxMarkdown, true)
	if err := c.err(); err != nil {
		return nil, err
	}
	rec, err := r.Create(ctx, p, np)
	if err != nil {
		return nil, err
	}
	return rec.(*Practice), nil
}

// Adaptation is what a team says when it adapts a practice.
type Adaptation struct {
	Team       string
	Title      string // defaults to the original's
	Changes    string // what the team changed: required
	Visibility Visibility
	SharedWith []string
}

// ActivityItem is one thing that happened to a team's work elsewhere: a new test of one of its
// practices, a new adaptation of one, or a new cycle that follows one of its tests.
type ActivityItem struct {
	Kind          string    `json:"kind"` // test | adaptation | follow
	At            time.Time `json:"at"`   // when the record was published
	Record        Record    `json:"-"`
	RecordURI     string    `json:"uri"`
	RecordID      string    `json:"id"`
	RecordKind    Kind      `json:"record_kind"`
	Title         string    `json:"title"`
	District      string    `json:"district"` // origin node id
	Team          string    `json:"team"`
	Decision      string    `json:"decision,omitempty"`
	Learnings     string    `json:"learnings,omitempty"`
	ViaAdaptation bool      `json:"via_adaptation,omitempty"`
	// Subject is the team's own record the activity is about: the practice tested or adapted, or
	// the test followed.
	SubjectURI   string `json:"subject_uri"`
	SubjectID    string `json:"subject_id"`
	SubjectKind  Kind   `json:"subject_kind"`
	SubjectTitle string `json:"subject_title"`
}

// Activity returns what other teams — here or in any district this node mirrors — did with the
// published work of p's teams, newest first, at most limit items.
func (r *Repo) Activity(ctx context.Context, p Principal, limit int) ([]ActivityItem, error) {
	if !p.Authenticated() {
		return nil, ErrUnauthenticated
	}
	var out []ActivityItem
	seen := map[string]bool{}
	mine := func(m *Meta) bool { return m.Origin == r.node.URL && p.InTeam(m.Team) }
	add := func(kind string, rec Record, subject Record, via bool) {
		m := rec.RecordMeta()
		if m.Status != StatusPublished || mine(m) || seen[kind+m.URI+subject.RecordMeta().URI] {
			return
		}
		seen[kind+m.URI+subject.RecordMeta().URI] = true
		it := ActivityItem{Kind: kind, Record: rec, RecordURI: m.URI, RecordID: m.ID, RecordKind: m.Kind,
			District: m.OriginID, Team: m.Team, ViaAdaptation: via, At: m.UpdatedAt}
		if m.PublishedAt != nil {
			it.At = *m.PublishedAt
		}
		switch x := rec.(type) {
		case *Test:
			it.Title, it.Decision, it.Learnings = x.Title, x.Decision, x.Learnings
		case *Practice:
			it.Title = x.Title
		}
		sm := subject.RecordMeta()
		it.SubjectURI, it.SubjectID, it.SubjectKind = sm.URI, sm.ID, sm.Kind
		switch x := subject.(type) {
		case *Test:
			it.SubjectTitle = x.Title
		case *Practice:
			it.SubjectTitle = x.Title
		}
		out = append(out, it)
	}
	for _, team := range p.Teams {
		f := ListFilter{Team: team, Status: StatusPublished}
		pracs, err := r.listAll(ctx, p, KindPractice, f)
		if err != nil {
			return nil, err
		}
		// Each record's lookups are independent object-store reads: run a few at once (on S3 each is
		// a round trip), then add the results in order.
		type found struct {
			tests       []PracticeTest
			adaptations []*Practice
			followers   []*Test
		}
		lookup := func(recs []Record, f func(Record) (found, error)) ([]found, error) {
			out := make([]found, len(recs))
			errs := make([]error, len(recs))
			sem := make(chan struct{}, 8)
			var wg sync.WaitGroup
			for i, rec := range recs {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					out[i], errs[i] = f(rec)
				}()
			}
			wg.Wait()
			return out, errors.Join(errs...)
		}
		ofPractices, err := lookup(pracs, func(rec Record) (found, error) {
			var fd found
			var err error
			if fd.tests, err = r.TestsOf(ctx, p, rec.RecordMeta().URI); err != nil {
				return fd, err
			}
			fd.adaptations, err = r.Adaptations(ctx, p, rec.RecordMeta().URI)
			return fd, err
		})
		if err != nil {
			return nil, err
		}
		for i, rec := range pracs {
			pr := rec.(*Practice)
			for _, t := range ofPractices[i].tests {
				add("test", t.Test, pr, t.ViaAdaptation)
			}
			for _, a := range ofPractices[i].adaptations {
				add("adaptation", a, pr, false)
			}
		}
		tests, err := r.listAll(ctx, p, KindTest, f)
		if err != nil {
			return nil, err
		}
		ofTests, err := lookup(tests, func(rec Record) (found, error) {
			var fd found
			var err error
			fd.followers, err = r.Followers(ctx, p, rec.RecordMeta().URI)
			return fd, err
		})
		if err != nil {
			return nil, err
		}
		for i, rec := range tests {
			for _, fl := range ofTests[i].followers {
				add("follow", fl, rec.(*Test), false)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b ActivityItem) int { return b.At.Compare(a.At) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// listAll pages through List (at most 2,000 records: a team's own published work).
func (r *Repo) listAll(ctx context.Context, p Principal, kind Kind, f ListFilter) ([]Record, error) {
	var out []Record
	after := ""
	for len(out) < 2000 {
		page, next, err := r.List(ctx, p, kind, f, after, 200)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			break
		}
		after = next
	}
	return out, nil
}
