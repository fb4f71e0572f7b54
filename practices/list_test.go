package practices_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
)

// countingBucket counts the record heads read.
type countingBucket struct {
	storage.Bucket
	heads atomic.Int64
}

func (b *countingBucket) Get(ctx context.Context, key string) (io.ReadCloser, storage.ObjectInfo, error) {
	if strings.HasSuffix(key, "/head.json") {
		b.heads.Add(1)
	}
	return b.Bucket.Get(ctx, key)
}

// TestListCostIsBounded: listing drafts as a caller who can see none reads no record at all (it
// used to read every head to return nothing), nor does a publisher of another team, whose entries in
// the listing index say they are not theirs; a caller whose entries cannot tell (a peer node and
// records shared with named peers) reads at most ListScanBudget heads per call, with a cursor to go
// on; and following the cursor finds every record.
func TestListCostIsBounded(t *testing.T) {
	ctx := context.Background()
	fsb, err := fs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := &countingBucket{Bucket: fsb}
	r := openRepo(t, b)
	const n = practices.ListScanBudget + 100
	seed(t, r, n, false, func(int) *practices.Practice { return fullPractice("draft") })
	draftsOnly := practices.ListFilter{Status: practices.StatusDraft}
	for _, who := range []struct {
		name string
		p    practices.Principal
	}{{"anonymous", practices.Principal{}}, {"a teacher", teacher}, {"a publisher of another team", elaPLC}} {
		for _, f := range []practices.ListFilter{draftsOnly, {}, {Team: "math-4"}} {
			b.heads.Store(0)
			recs, next, err := r.List(ctx, who.p, practices.KindPractice, f, "", 50)
			if err != nil || len(recs) != 0 || next != "" {
				t.Fatalf("%s listing %+v: %d records, next %q, %v", who.name, f, len(recs), next, err)
			}
			if n := b.heads.Load(); n != 0 {
				t.Errorf("%s listing %+v read %d record heads to return nothing", who.name, f, n)
			}
		}
	}
	// The owning team pages through all of them.
	if seen := listAll(t, r, mathPLC, draftsOnly, 200); len(seen) != n {
		t.Errorf("paging found %d drafts, want %d", len(seen), n)
	}

	// Published for named peers only: a peer node's entry cannot tell whether it is named, so each
	// call reads at most the budget and says where to go on.
	shared := seed(t, r, n, true, func(int) *practices.Practice {
		p := fullPractice("for named peers")
		p.Visibility, p.SharedWith = practices.VisibilityPeers, []string{"elsewhere"}
		return p
	})
	b.heads.Store(0)
	recs, next, err := r.List(ctx, lakeview, practices.KindPractice, practices.ListFilter{}, "", 50)
	if err != nil || len(recs) != 0 || next == "" {
		t.Fatalf("peer not named, first call: %d records, next %q, %v; want none and a cursor", len(recs), next, err)
	}
	if n := b.heads.Load(); n > practices.ListScanBudget {
		t.Errorf("one list call read %d heads, over the budget of %d", n, practices.ListScanBudget)
	}
	if got := listAll(t, r, admin, practices.ListFilter{Status: practices.StatusPublished}, 200); len(got) != len(shared) {
		t.Errorf("%d published listed, want %d", len(got), len(shared))
	}
	if got := listAll(t, r, admin, practices.ListFilter{}, 200); len(got) != 2*n {
		t.Errorf("%d listed in all, want %d", len(got), 2*n)
	}
}

// seed creates n practices (published when publish is set) with a few writers at once, and returns
// their ids.
func seed(t testing.TB, r *practices.Repo, n int, publish bool, mk func(i int) *practices.Practice) []string {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				p := mk(i)
				who := admin
				rec, err := r.Create(ctx, who, p)
				if err == nil && publish {
					_, err = r.Publish(ctx, who, practices.KindPractice, rec.RecordMeta().ID, 0)
				}
				if err != nil {
					errs <- err
					continue
				}
				ids[i] = rec.RecordMeta().ID
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return ids
}

// listAll follows List's cursor to the end and checks that no record comes twice and that the
// order is by id.
func listAll(t *testing.T, r *practices.Repo, p practices.Principal, f practices.ListFilter, page int) []practices.Record {
	t.Helper()
	var out []practices.Record
	after := ""
	for {
		recs, next, err := r.List(context.Background(), p, practices.KindPractice, f, after, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			if id := rec.RecordMeta().ID; len(out) > 0 && id <= out[len(out)-1].RecordMeta().ID {
				t.Fatalf("list out of order or repeated: %s after %s", id, out[len(out)-1].RecordMeta().ID)
			}
			out = append(out, rec)
		}
		if next == "" {
			return out
		}
		after = next
	}
}

// TestListReadsOnlyWhatItMayShow: on a node with thousands of drafts, an anonymous list reads the
// heads of the public records only (no draft's), a signed-in member's those of the published
// ones, and a team-filtered list only that team's records; what each gets is exactly what it may see.
func TestListReadsOnlyWhatItMayShow(t *testing.T) {
	drafts := 2000
	if testing.Short() {
		drafts = 300
	}
	checkListReads(t, newBucket(t), drafts)
}

func checkListReads(t *testing.T, base storage.Bucket, drafts int) {
	ctx := context.Background()
	b := &countingBucket{Bucket: base}
	r := openRepo(t, b)
	seed(t, r, drafts, false, func(i int) *practices.Practice { return fullPractice(fmt.Sprintf("draft %d", i)) })
	const public, district = 30, 20
	publicIDs := seed(t, r, public, true, func(i int) *practices.Practice {
		p := fullPractice(fmt.Sprintf("public %d", i))
		p.Team, p.Visibility = "ela-3", practices.VisibilityPublic
		return p
	})
	seed(t, r, district, true, func(i int) *practices.Practice {
		p := fullPractice(fmt.Sprintf("district %d", i))
		p.Visibility = practices.VisibilityDistrict
		return p
	})
	for _, c := range []struct {
		name       string
		p          practices.Principal
		f          practices.ListFilter
		want, read int
	}{
		{"anonymous, drafts", practices.Principal{}, practices.ListFilter{Status: practices.StatusDraft}, 0, 0},
		{"anonymous, everything", practices.Principal{}, practices.ListFilter{}, public, public},
		{"anonymous, published", practices.Principal{}, practices.ListFilter{Status: practices.StatusPublished}, public, public},
		{"anonymous, team math-4", practices.Principal{}, practices.ListFilter{Team: "math-4"}, 0, 0},
		{"a teacher, everything", teacher, practices.ListFilter{}, public + district, public + district},
		{"ela publisher, own team", elaPLC, practices.ListFilter{Team: "ela-3"}, public, public},
		{"ela publisher, drafts", elaPLC, practices.ListFilter{Status: practices.StatusDraft}, 0, 0},
		{"math publisher, team ela-3", mathPLC, practices.ListFilter{Team: "ela-3"}, public, public},
		{"admin, published", admin, practices.ListFilter{Status: practices.StatusPublished}, public + district, public + district},
	} {
		b.heads.Store(0)
		got := listAll(t, r, c.p, c.f, 200)
		if len(got) != c.want {
			t.Errorf("%s: %d records, want %d", c.name, len(got), c.want)
		}
		if n := b.heads.Load(); n != int64(c.read) {
			t.Errorf("%s: read %d record heads, want %d (%d drafts in the store)", c.name, n, c.read, drafts)
		}
	}
	// Withdrawing moves a record out of the published listing at once, and back in on publishing.
	if _, err := r.Withdraw(ctx, admin, practices.KindPractice, publicIDs[0], 0); err != nil {
		t.Fatal(err)
	}
	if got := listAll(t, r, practices.Principal{}, practices.ListFilter{}, 200); len(got) != public-1 {
		t.Errorf("after a withdrawal anonymous lists %d, want %d", len(got), public-1)
	}
	if got := listAll(t, r, elaPLC, practices.ListFilter{Status: practices.StatusWithdrawn}, 200); len(got) != 1 || got[0].RecordMeta().ID != publicIDs[0] {
		t.Errorf("withdrawn list: %d records, want the withdrawn one", len(got))
	}
	if _, err := r.Publish(ctx, admin, practices.KindPractice, publicIDs[0], 0); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, admin, practices.KindPractice, publicIDs[1], 0); err != nil {
		t.Fatal(err)
	}
	if got := listAll(t, r, practices.Principal{}, practices.ListFilter{}, 200); len(got) != public-1 {
		t.Errorf("after a republish and a delete anonymous lists %d, want %d", len(got), public-1)
	}
	if got := listAll(t, r, elaPLC, practices.ListFilter{Status: practices.StatusWithdrawn}, 200); len(got) != 0 {
		t.Errorf("withdrawn list after republishing: %d records, want none", len(got))
	}
}

// TestListIndexRebuilds: a store written before the index existed (no entries, no marker) gets its
// index on the next start, and RebuildListIndex puts back entries that are missing and removes the
// ones its heads contradict.
func TestListIndexRebuilds(t *testing.T) {
	ctx := context.Background()
	b := newBucket(t)
	r := openRepo(t, b)
	ids := seed(t, r, 12, true, func(i int) *practices.Practice { return fullPractice(fmt.Sprintf("p %d", i)) })
	seed(t, r, 5, false, func(i int) *practices.Practice { return fullPractice(fmt.Sprintf("d %d", i)) })
	wipe := func(prefix string) {
		objs, err := b.List(ctx, storage.ListOptions{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if err := b.Delete(ctx, o.Key); err != nil {
				t.Fatal(err)
			}
		}
	}
	wipe("index/")
	wipe("node/state/list-index.json")
	if got := listAll(t, r, admin, practices.ListFilter{}, 200); len(got) != 0 {
		t.Fatalf("with the index wiped, %d listed (the test must start from nothing)", len(got))
	}
	r = openRepo(t, b) // a start
	if got := listAll(t, r, admin, practices.ListFilter{}, 200); len(got) != 17 {
		t.Errorf("after a start without an index, %d listed, want 17", len(got))
	}
	// A stale entry: the record is published, an entry says draft.
	stale := "index/practice/status/draft/" + ids[0] + ".draft.network.math-4"
	if _, err := b.Put(ctx, stale, strings.NewReader(""), 0, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := listAll(t, r, admin, practices.ListFilter{Status: practices.StatusDraft}, 200); len(got) != 5 {
		t.Errorf("a stale entry shows: %d drafts listed, want 5", len(got))
	}
	rep, err := r.RebuildListIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != 1 || rep.Added != 0 || rep.Records != 17 {
		t.Errorf("rebuild: %+v, want 17 records, 1 removed, 0 added", rep)
	}
	if _, err := b.Stat(ctx, stale); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("stale entry still there: %v", err)
	}
}

// TestListLongTeamNames: a team name of 100 characters outside ASCII (which escaped would make a key
// too long for a store) lists like any other, for its publishers and by team.
func TestListLongTeamNames(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("é", 100)
	for _, team := range []string{long, "Grade 4 · math.PLC"} {
		r := openRepo(t, newBucket(t))
		pub := practices.Principal{Kind: "token", Subject: "p-" + team, Roles: []practices.Role{practices.RolePublisher}, Teams: []string{team}}
		p := fullPractice("draft of " + team)
		p.Team = team
		rec, err := r.Create(ctx, pub, p)
		if err != nil {
			t.Fatalf("create for team %q: %v", team, err)
		}
		for _, f := range []practices.ListFilter{{Team: team}, {Status: practices.StatusDraft}, {}} {
			if got := listAll(t, r, pub, f, 50); len(got) != 1 || got[0].RecordMeta().ID != rec.RecordMeta().ID {
				t.Errorf("team %q, filter %+v: %d records", team, f, len(got))
			}
		}
		if _, err := r.Publish(ctx, pub, practices.KindPractice, rec.RecordMeta().ID, 0); err != nil {
			t.Fatal(err)
		}
		if got := listAll(t, r, teacher, practices.ListFilter{Team: team}, 50); len(got) != 1 {
			t.Errorf("team %q published: a teacher lists %d", team, len(got))
		}
	}
}

// FuzzListQuery: a list's team filter and cursor come from a query string, and become parts of
// store keys: whatever they are, a list answers without an error and returns only records that
// match the filter, in order.
func FuzzListQuery(f *testing.F) {
	r := openRepo(f, newBucket(f))
	ids := seed(f, r, 3, true, func(i int) *practices.Practice {
		p := fullPractice(fmt.Sprintf("p %d", i))
		p.Visibility = practices.VisibilityPublic
		return p
	})
	f.Add("math-4", "")
	f.Add("", ids[0])
	f.Add("../..", "../../x")
	f.Add(".", "/")
	f.Add(strings.Repeat("é", 200), strings.Repeat("/", 70))
	f.Add("t\x00", "\x7f")
	f.Fuzz(func(t *testing.T, team, after string) {
		for _, p := range []practices.Principal{{}, admin} {
			recs, _, err := r.List(context.Background(), p, practices.KindPractice, practices.ListFilter{Team: team}, after, 50)
			if err != nil {
				t.Fatalf("team %q after %q: %v", team, after, err)
			}
			for i, rec := range recs {
				m := rec.RecordMeta()
				if (team != "" && m.Team != team) || m.ID <= after || (i > 0 && m.ID <= recs[i-1].RecordMeta().ID) {
					t.Fatalf("team %q after %q: record %s of team %q out of place", team, after, m.ID, m.Team)
				}
			}
		}
	})
}
