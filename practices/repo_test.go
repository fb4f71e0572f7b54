package practices_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
)

var node = practices.Node{URL: "http://riverside.test", ID: "riverside"}

var (
	mathPLC  = practices.Principal{Kind: "token", Subject: "t1", Roles: []practices.Role{practices.RolePublisher}, Teams: []string{"math-4"}}
	elaPLC   = practices.Principal{Kind: "token", Subject: "t2", Roles: []practices.Role{practices.RolePublisher}, Teams: []string{"ela-3"}}
	teacher  = practices.Principal{Kind: "session", Subject: "u3"}
	admin    = practices.Principal{Kind: "token", Subject: "t4", Roles: []practices.Role{practices.RoleAdmin}}
	lakeview = practices.Principal{Kind: "node", Subject: "http://lakeview.test", PeerID: "lakeview"}
)

func newBucket(t testing.TB) storage.Bucket {
	b, err := fs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openRepo(t testing.TB, b storage.Bucket) *practices.Repo {
	t.Helper()
	r, err := practices.Open(context.Background(), b, node, practices.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fullPractice has every field publishing needs.
func fullPractice(title string) *practices.Practice {
	return &practices.Practice{
		Meta:         practices.Meta{Team: "math-4", Visibility: practices.VisibilityNetwork},
		Title:        title,
		Summary:      "Students place fractions on a shared number line before comparing them.",
		Description:  "1. Draw a number line from 0 to 2.\n2. Each student places a fraction card and explains.",
		KeyMoves:     []string{"Students justify placement aloud", "Teacher records misconceptions"},
		Subjects:     []string{"math"},
		GradeLevels:  []string{"04"},
		Standards:    []practices.Standard{{Code: "ccss.math.content.4.nf.a.2"}},
		OriginKind:   "team_designed",
		TimeRequired: "PT15M",
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	b := newBucket(t)
	r := openRepo(t, b)

	rec, err := r.Create(ctx, mathPLC, fullPractice("Fraction number line talks"))
	if err != nil {
		t.Fatal(err)
	}
	m := rec.RecordMeta()
	if m.Version != 1 || m.Status != practices.StatusDraft || m.URI != node.URL+"/practices/"+m.ID || m.Origin != node.URL {
		t.Fatalf("created meta = %+v", m)
	}
	p := rec.(*practices.Practice)
	if p.Standards[0].Code != "CCSS.MATH.CONTENT.4.NF.A.2" || p.Standards[0].Framework != "CCSS.MATH" || p.License != practices.DefaultLicense {
		t.Errorf("defaults not applied: %+v %q", p.Standards, p.License)
	}

	// Drafts are invisible outside the team, and look like nothing at all.
	for _, who := range []practices.Principal{teacher, elaPLC, practices.Anonymous, lakeview} {
		if _, err := r.Get(ctx, who, practices.KindPractice, m.ID); !errors.Is(err, practices.ErrNotFound) {
			t.Errorf("draft visible to %+v: %v", who, err)
		}
	}

	edit := fullPractice("Fraction number line talks (grade 4)")
	upd, err := r.Update(ctx, mathPLC, practices.KindPractice, m.ID, 1, edit)
	if err != nil {
		t.Fatal(err)
	}
	if upd.RecordMeta().Version != 2 || upd.(*practices.Practice).Title != "Fraction number line talks (grade 4)" {
		t.Fatalf("update: %+v", upd.RecordMeta())
	}
	if _, err := r.Update(ctx, mathPLC, practices.KindPractice, m.ID, 1, edit); !errors.Is(err, practices.ErrStale) {
		t.Fatalf("stale update: got %v, want ErrStale", err)
	}
	if _, err := r.Update(ctx, elaPLC, practices.KindPractice, m.ID, 2, edit); !errors.Is(err, practices.ErrNotFound) {
		t.Fatalf("other team's update of a draft: got %v, want ErrNotFound", err)
	}

	pub, err := r.Publish(ctx, mathPLC, practices.KindPractice, m.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if pub.RecordMeta().Status != practices.StatusPublished || pub.RecordMeta().PublishedAt == nil {
		t.Fatalf("publish: %+v", pub.RecordMeta())
	}
	for _, who := range []practices.Principal{teacher, elaPLC, lakeview} {
		if _, err := r.Get(ctx, who, practices.KindPractice, m.ID); err != nil {
			t.Errorf("published network practice hidden from %+v: %v", who, err)
		}
	}
	if _, err := r.Get(ctx, practices.Anonymous, practices.KindPractice, m.ID); !errors.Is(err, practices.ErrNotFound) {
		t.Errorf("network practice visible to anonymous")
	}
	if _, err := r.Update(ctx, elaPLC, practices.KindPractice, m.ID, 3, edit); !errors.Is(err, practices.ErrForbidden) {
		t.Errorf("other team's update of a published practice: got %v, want ErrForbidden", err)
	}
	if _, err := r.Withdraw(ctx, mathPLC, practices.KindPractice, m.ID, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, teacher, practices.KindPractice, m.ID); !errors.Is(err, practices.ErrNotFound) {
		t.Errorf("withdrawn practice still visible to teachers")
	}
	// Every version is kept and the log has one entry per change.
	for v := 1; v <= 4; v++ {
		if _, err := r.GetVersion(ctx, admin, practices.KindPractice, m.ID, v); err != nil {
			t.Errorf("version %d: %v", v, err)
		}
	}
	log, err := r.ReadLog(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 4 {
		t.Fatalf("log has %d entries, want 4", len(log))
	}
	for i, e := range log {
		if e.Seq != uint64(i+1) || e.Version != i+1 || e.ID != m.ID || e.Op != "put" {
			t.Errorf("log[%d] = %+v", i, e)
		}
	}
}

func TestPublishNeedsEveryField(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, newBucket(t))
	rec, err := r.Create(ctx, mathPLC, &practices.Practice{Meta: practices.Meta{Team: "math-4"}, Title: "Exit tickets"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Publish(ctx, mathPLC, practices.KindPractice, rec.RecordMeta().ID, 0)
	var ve *practices.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("publish of a bare draft: got %v, want a ValidationError", err)
	}
	want := map[string]bool{"summary": false, "description": false, "key_moves": false, "subjects": false,
		"grade_levels": false, "origin_kind": false, "time_required": false}
	for _, p := range ve.Problems {
		if _, ok := want[p.Field]; ok && p.Rule == "required" {
			want[p.Field] = true
		}
	}
	for f, seen := range want {
		if !seen {
			t.Errorf("no 'required' problem for %s in %+v", f, ve.Problems)
		}
	}
	// Nothing was written: still version 1, one log entry.
	got, _ := r.Get(ctx, mathPLC, practices.KindPractice, rec.RecordMeta().ID)
	if got.RecordMeta().Version != 1 {
		t.Errorf("failed publish wrote a version: %d", got.RecordMeta().Version)
	}
}

func TestValidationNamesFieldAndRule(t *testing.T) {
	long := make([]byte, 121)
	for i := range long {
		long[i] = 'a'
	}
	cases := []struct {
		name  string
		rec   practices.Record
		field string
		rule  string
	}{
		{"title too long", &practices.Practice{Meta: practices.Meta{Team: "t"}, Title: string(long)}, "title", "max_length"},
		{"no title", &practices.Practice{Meta: practices.Meta{Team: "t"}}, "title", "required"},
		{"no team", &practices.Practice{Title: "x"}, "team", "required"},
		{"bad subject", &practices.Practice{Meta: practices.Meta{Team: "t"}, Title: "x", Subjects: []string{"maths"}}, "subjects[0]", "one_of"},
		{"bad grade", &practices.Practice{Meta: practices.Meta{Team: "t"}, Title: "x", GradeLevels: []string{"4"}}, "grade_levels[0]", "one_of"},
		{"bad duration", &practices.Practice{Meta: practices.Meta{Team: "t"}, Title: "x", TimeRequired: "15 minutes"}, "time_required", "format"},
		{"bad ngss", &practices.Practice{Meta: practices.Meta{Team: "t"}, Title: "x", Standards: []practices.Standard{{Code: "4-PS3", Framework: "NGSS"}}}, "standards[0].code", "format"},
		{"peers without list", &practices.Practice{Meta: practices.Meta{Team: "t", Visibility: practices.VisibilityPeers}, Title: "x"}, "shared_with", "required"},
		{"bad visibility", &practices.Practice{Meta: practices.Meta{Team: "t", Visibility: "everyone"}, Title: "x"}, "visibility", "one_of"},
		{"decision before results", &practices.Test{Meta: practices.Meta{Team: "t"}, Practice: practices.PracticeRef{URI: "http://a.test/practices/1"}, Cycle: "pdsa", Design: "single_group_pre_post", Question: "q", Decision: "adopt"}, "decision", "before_results"},
		{"end before start", &practices.Test{Meta: practices.Meta{Team: "t"}, Practice: practices.PracticeRef{URI: "http://a.test/practices/1"}, Cycle: "pdsa", Design: "single_group_pre_post", Question: "q", StartDate: "2026-03-01", EndDate: "2026-02-01"}, "end_date", "range"},
		{"bad cycle", &practices.Test{Meta: practices.Meta{Team: "t"}, Practice: practices.PracticeRef{URI: "http://a.test/practices/1"}, Cycle: "sprint", Design: "single_group_pre_post", Question: "q"}, "cycle", "one_of"},
		{"collection duplicate item", &practices.Collection{Title: "c", Items: []practices.CollectionItem{{PracticeURI: "http://a.test/practices/1"}, {PracticeURI: "http://a.test/practices/1"}}}, "items[1].practice_uri", "duplicate"},
		{"control character", &practices.Practice{Meta: practices.Meta{Team: "t"}, Title: "a\x00b"}, "title", "format"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := practices.Validate(tc.rec, practices.LevelCreate)
			var ve *practices.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want ValidationError", err)
			}
			for _, p := range ve.Problems {
				if p.Field == tc.field && p.Rule == tc.rule && p.Message != "" {
					return
				}
			}
			t.Fatalf("no problem %s/%s in %+v", tc.field, tc.rule, ve.Problems)
		})
	}
}

func TestOneOfTwoRacingWritersWins(t *testing.T) {
	checkOneWriterWins(t, newBucket(t), 20)
}

func checkOneWriterWins(t *testing.T, b storage.Bucket, rounds int) {
	ctx := context.Background()
	r1, r2 := openRepo(t, b), openRepo(t, b) // two replicas on one bucket
	rec, err := r1.Create(ctx, mathPLC, fullPractice("Racing"))
	if err != nil {
		t.Fatal(err)
	}
	id := rec.RecordMeta().ID
	for round := 0; round < rounds; round++ {
		cur, _ := r1.Get(ctx, mathPLC, practices.KindPractice, id)
		v := cur.RecordMeta().Version
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, r := range []*practices.Repo{r1, r2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = r.Update(ctx, mathPLC, practices.KindPractice, id, v, fullPractice(fmt.Sprintf("writer %d round %d", i, round)))
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, practices.ErrStale):
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d writers won with the same ETag, want exactly 1 (errs %v)", round, wins, errs)
		}
	}
}

// TestLogGapFreeUnderConcurrency: many writers in two processes' worth of repos append to one log.
func TestLogGapFreeUnderConcurrency(t *testing.T) {
	checkConcurrentPublishes(t, newBucket(t), 4, 25)
}

// checkConcurrentPublishes runs writers×each publishes (over two Repo instances sharing the bucket)
// and checks the change log gained exactly that many entries: contiguous, no duplicate, none lost.
func checkConcurrentPublishes(t *testing.T, b storage.Bucket, writers, each int) {
	t.Helper()
	ctx := context.Background()
	repos := []*practices.Repo{openRepo(t, b), openRepo(t, b)}
	// Drafts first, so the measured phase is publishes only.
	ids := make([][]string, writers)
	for w := range writers {
		for range each {
			rec, err := repos[w%2].Create(ctx, mathPLC, fullPractice(fmt.Sprintf("w%d", w)))
			if err != nil {
				t.Fatal(err)
			}
			ids[w] = append(ids[w], rec.RecordMeta().ID)
		}
	}
	startLog, err := repos[0].ReadLog(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	before := uint64(0)
	for len(startLog) > 0 {
		before = startLog[len(startLog)-1].Seq
		startLog, _ = repos[0].ReadLog(ctx, before, 1000)
	}
	var wg sync.WaitGroup
	errc := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, id := range ids[w] {
				if _, err := repos[w%2].Publish(ctx, mathPLC, practices.KindPractice, id, 1); err != nil {
					errc <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatalf("publish: %v", err)
	}
	var entries []practices.LogEntry
	after := before
	for {
		page, err := repos[1].ReadLog(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		entries = append(entries, page...)
		after = page[len(page)-1].Seq
	}
	if len(entries) != writers*each {
		t.Fatalf("log gained %d entries, want %d", len(entries), writers*each)
	}
	seen := map[string]bool{}
	for i, e := range entries {
		if e.Seq != before+uint64(i)+1 {
			t.Fatalf("gap or disorder: entry %d has seq %d, want %d", i, e.Seq, before+uint64(i)+1)
		}
		key := fmt.Sprintf("%s/%d", e.ID, e.Version)
		if seen[key] || e.Version != 2 {
			t.Fatalf("duplicate or unexpected entry %+v", e)
		}
		seen[key] = true
	}
	for w := range writers {
		for _, id := range ids[w] {
			rec, err := repos[0].Get(ctx, teacher, practices.KindPractice, id)
			if err != nil || rec.RecordMeta().Version != 2 || rec.RecordMeta().Status != practices.StatusPublished {
				t.Fatalf("record %s after publish: %v %+v", id, err, rec)
			}
			if !seen[id+"/2"] {
				t.Fatalf("publish of %s is missing from the log", id)
			}
		}
	}
}

func TestDeleteIsFinal(t *testing.T) {
	ctx := context.Background()
	b := newBucket(t)
	r := openRepo(t, b)
	rec, _ := r.Create(ctx, mathPLC, fullPractice("To delete"))
	id := rec.RecordMeta().ID
	r.Publish(ctx, mathPLC, practices.KindPractice, id, 0)
	if err := r.Delete(ctx, elaPLC, practices.KindPractice, id, 0); !errors.Is(err, practices.ErrForbidden) {
		t.Fatalf("other team delete: %v", err)
	}
	if err := r.Delete(ctx, mathPLC, practices.KindPractice, id, 0); err != nil {
		t.Fatal(err)
	}
	for _, who := range []practices.Principal{mathPLC, admin, teacher, lakeview} {
		if _, err := r.Get(ctx, who, practices.KindPractice, id); !errors.Is(err, practices.ErrNotFound) {
			t.Errorf("deleted record visible to %+v: %v", who, err)
		}
	}
	if _, gone, err := r.Load(ctx, node.URL, practices.KindPractice, id); err != nil || !gone {
		t.Fatalf("Load of a deleted record: gone=%v err=%v", gone, err)
	}
	log, _ := r.ReadLog(ctx, 0, 100)
	if last := log[len(log)-1]; last.Op != "delete" || last.ID != id {
		t.Fatalf("last log entry %+v, want a delete", last)
	}
	// A restart (reconciler) and a racing writer's repair cannot bring it back.
	r2 := openRepo(t, b)
	if _, err := r2.Update(ctx, admin, practices.KindPractice, id, 3, fullPractice("back?")); !errors.Is(err, practices.ErrNotFound) {
		t.Fatalf("update of a deleted record: %v", err)
	}
}

// TestListFieldsAreCapped: no list field of a record grows without bound (every page, feed and peer
// reads a record whole). The standards, lineage, sharing and context-tag lists had no cap.
func TestListFieldsAreCapped(t *testing.T) {
	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	standards := make([]practices.Standard, 31)
	for i := range standards {
		standards[i] = practices.Standard{Code: fmt.Sprintf("LOCAL.%d", i)}
	}
	basedOn := make([]practices.BasedOn, 21)
	for i := range basedOn {
		basedOn[i] = practices.BasedOn{URI: fmt.Sprintf("http://a.test/practices/%d", i), Relation: "inspired_by"}
	}
	for _, tc := range []struct {
		name, field string
		rec         practices.Record
	}{
		{"standards", "standards", &practices.Practice{Meta: practices.Meta{Team: "t"}, Title: "x", Standards: standards}},
		{"based_on", "based_on", &practices.Practice{Meta: practices.Meta{Team: "t"}, Title: "x", BasedOn: basedOn}},
		{"shared_with", "shared_with", &practices.Practice{Meta: practices.Meta{Team: "t", Visibility: practices.VisibilityPeers,
			SharedWith: many(101, func(i int) string { return fmt.Sprintf("peer-%d", i) })}, Title: "x"}},
		{"key_moves", "key_moves", &practices.Practice{Meta: practices.Meta{Team: "t"}, Title: "x", KeyMoves: many(11, func(i int) string { return "k" })}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := practices.Validate(tc.rec, practices.LevelCreate)
			var ve *practices.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a ValidationError", err)
			}
			for _, p := range ve.Problems {
				if p.Field == tc.field && p.Rule == "max_items" {
					return
				}
			}
			t.Fatalf("no %s/max_items in %+v", tc.field, ve.Problems)
		})
	}
}
