package search_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/corpus"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/search/bleve"
	"github.com/brightspots-nic/brightspots/storage"
)

// memSource is an in-memory change log and record store: the search.Source the indexer reads.
type memSource struct {
	mu      sync.Mutex
	log     []practices.LogEntry
	records map[string]practices.Record // origin|kind|id → current state; missing = gone
	failLog atomic.Bool
}

func newMemSource() *memSource { return &memSource{records: map[string]practices.Record{}} }

func key(origin string, kind practices.Kind, id string) string {
	return origin + "|" + string(kind) + "|" + id
}

// put stores rec's current state and appends a log entry for it.
func (s *memSource) put(rec practices.Record) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := rec.RecordMeta()
	s.records[key(m.Origin, m.Kind, m.ID)] = rec
	return s.appendLocked(m.Origin, m.Kind, m.ID, "put")
}

func (s *memSource) remove(origin string, kind practices.Kind, id string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, key(origin, kind, id))
	return s.appendLocked(origin, kind, id, "delete")
}

func (s *memSource) appendLocked(origin string, kind practices.Kind, id, op string) uint64 {
	seq := uint64(len(s.log) + 1)
	s.log = append(s.log, practices.LogEntry{Seq: seq, Kind: kind, ID: id, Origin: origin, Op: op, At: time.Now()})
	return seq
}

func (s *memSource) ReadLog(_ context.Context, after uint64, limit int) ([]practices.LogEntry, error) {
	if s.failLog.Load() {
		return nil, errors.New("store unavailable")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if after >= uint64(len(s.log)) {
		return nil, nil
	}
	end := min(uint64(len(s.log)), after+uint64(limit))
	return slices.Clone(s.log[after:end]), nil
}

func (s *memSource) Load(_ context.Context, origin string, kind practices.Kind, id string) (practices.Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.records[key(origin, kind, id)]
	if !ok {
		return nil, true, nil
	}
	// Hand out a copy, as a store would.
	switch r := rec.(type) {
	case *practices.Practice:
		c := *r
		return &c, false, nil
	case *practices.Collection:
		c := *r
		return &c, false, nil
	case *practices.Test:
		c := *r
		return &c, false, nil
	}
	return rec, false, nil
}

// mapBucket is a map-based storage.Bucket, enough for the indexer's cursor.
type mapBucket struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMapBucket() *mapBucket { return &mapBucket{m: map[string][]byte{}} }

func (b *mapBucket) Put(_ context.Context, k string, r io.Reader, _ int64, _ storage.PutOptions) (storage.ObjectInfo, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m[k] = data
	return storage.ObjectInfo{Key: k, Size: int64(len(data))}, nil
}

func (b *mapBucket) Get(_ context.Context, k string) (io.ReadCloser, storage.ObjectInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.m[k]
	if !ok {
		return nil, storage.ObjectInfo{}, storage.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(data)), storage.ObjectInfo{Key: k, Size: int64(len(data))}, nil
}

func (b *mapBucket) GetRange(ctx context.Context, k string, _, _ int64) (io.ReadCloser, storage.ObjectInfo, error) {
	return b.Get(ctx, k)
}
func (b *mapBucket) Stat(ctx context.Context, k string) (storage.ObjectInfo, error) {
	_, info, err := b.Get(ctx, k)
	return info, err
}
func (b *mapBucket) List(context.Context, storage.ListOptions) ([]storage.ObjectInfo, error) {
	return nil, errors.New("not needed")
}
func (b *mapBucket) Delete(_ context.Context, k string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, k)
	return nil
}
func (b *mapBucket) Copy(context.Context, string, string, storage.PutOptions) (storage.ObjectInfo, error) {
	return storage.ObjectInfo{}, errors.New("not needed")
}

// flakyIndex fails every write while down is set.
type flakyIndex struct {
	search.Index
	down atomic.Bool
}

func (f *flakyIndex) Upsert(ctx context.Context, d []search.Document) error {
	if f.down.Load() {
		return errors.New("index unavailable")
	}
	return f.Index.Upsert(ctx, d)
}
func (f *flakyIndex) Delete(ctx context.Context, ids []string) error {
	if f.down.Load() {
		return errors.New("index unavailable")
	}
	return f.Index.Delete(ctx, ids)
}

const local = "https://maplewood.example.org"

// The repository is the indexer's source in production.
var _ search.Source = (*practices.Repo)(nil)

func openIndex(t *testing.T, dir string) *bleve.Index {
	t.Helper()
	idx, err := bleve.Open(bleve.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}

func evidenceOf(items []corpus.Item) func(context.Context, *practices.Practice) (search.Evidence, error) {
	byID := map[string]*corpus.Item{}
	for i := range items {
		byID[items[i].Practice.ID] = &items[i]
	}
	return func(_ context.Context, p *practices.Practice) (search.Evidence, error) {
		it, ok := byID[p.ID]
		if !ok {
			return search.SummaryEvidence(p), nil
		}
		return search.Evidence{Level: it.Level, PooledEffect: it.PooledEffect, TestCount: it.TestCount, DistrictCount: it.DistrictCount,
			Designs: it.Designs, Decisions: it.Decisions}, nil
	}
}

type rig struct {
	src    *memSource
	bucket *mapBucket
	idx    search.Index
	reg    *prometheus.Registry
	x      *search.Indexer
	cancel context.CancelFunc
	done   chan error
}

func startIndexer(t *testing.T, src *memSource, bucket *mapBucket, idx search.Index, ev func(context.Context, *practices.Practice) (search.Evidence, error)) *rig {
	t.Helper()
	reg := prometheus.NewRegistry()
	x, err := search.NewIndexer(search.IndexerConfig{Source: src, Index: idx, Bucket: bucket, Registry: reg, Evidence: ev,
		PollInterval: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{src: src, bucket: bucket, idx: idx, reg: reg, x: x, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- x.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

func (r *rig) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func search1(t *testing.T, idx search.Index, q search.Query) search.Result {
	t.Helper()
	r, err := idx.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func hitIDs(r search.Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.RecordID)
	}
	sort.Strings(out)
	return out
}

func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func members(q search.Query) search.Query { q.Audience = search.MembersAudience(); return q }

func TestIndexerFollowsTheLog(t *testing.T) {
	items := corpus.New(corpus.Config{Seed: 3, Districts: corpus.Districts(3)}).Generate(60)
	src := newMemSource()
	for i := range items {
		src.put(&items[i].Practice)
		for j := range items[i].Tests {
			src.put(&items[i].Tests[j]) // tests are in the log but are not documents
		}
	}
	idx := openIndex(t, filepath.Join(t.TempDir(), "search"))
	r := startIndexer(t, src, newMapBucket(), idx, evidenceOf(items))

	waitFor(t, 10*time.Second, "initial catch-up", func() bool { return search1(t, idx, members(search.Query{})).Total == len(items) })

	// A withdrawn practice is gone from results within 2 seconds.
	target := items[0].Practice
	word := strings.Fields(target.Title)[0]
	q := members(search.Query{Text: word, PerPage: 100})
	if !slices.Contains(hitIDs(search1(t, idx, q)), target.ID) {
		t.Fatalf("%q does not find %s before withdrawal", word, target.Title)
	}
	w := target
	w.Status = practices.StatusWithdrawn
	now := time.Now()
	w.WithdrawnAt = &now
	start := time.Now()
	src.put(&w)
	r.x.Notify()
	waitFor(t, 2*time.Second, "withdrawn practice removed", func() bool {
		return !slices.Contains(hitIDs(search1(t, idx, q)), target.ID)
	})
	t.Logf("withdrawal visible after %v", time.Since(start))

	// A deleted record is removed too.
	gone := items[1].Practice
	src.remove(gone.Origin, practices.KindPractice, gone.ID)
	r.x.Notify()
	waitFor(t, 2*time.Second, "deleted practice removed", func() bool {
		return search1(t, idx, members(search.Query{})).Total == len(items)-2
	})

	// A draft never appears, for anyone; a district-only practice never appears to an anonymous caller.
	draft := items[2].Practice
	draft.ID, draft.Title, draft.Status, draft.PublishedAt = "draft-1", "Zebra draft practice", practices.StatusDraft, nil
	private := items[3].Practice
	private.ID, private.Title, private.Visibility = "private-1", "Zebra district practice", practices.VisibilityDistrict
	public := items[4].Practice
	public.ID, public.Title, public.Visibility = "public-1", "Zebra public practice", practices.VisibilityPublic
	src.put(&draft)
	src.put(&private)
	last := src.put(&public)
	r.x.Notify()
	waitFor(t, 2*time.Second, "indexer caught up", func() bool { return r.x.Cursor() >= last })
	if got := hitIDs(search1(t, idx, members(search.Query{Text: "zebra"}))); !slices.Equal(got, []string{"private-1", "public-1"}) {
		t.Errorf("member sees %v, want the district and public practices (never the draft)", got)
	}
	if got := hitIDs(search1(t, idx, search.Query{Text: "zebra"})); !slices.Equal(got, []string{"public-1"}) {
		t.Errorf("anonymous sees %v, want only the public practice", got)
	}
	for _, f := range []search.Query{{}, {Subjects: draft.Subjects}, {Districts: []string{draft.OriginID}}} {
		for _, h := range search1(t, idx, members(f)).Hits {
			if h.RecordID == "draft-1" {
				t.Fatalf("draft listed by %+v", f)
			}
		}
	}
	// A practice that goes back to a narrower audience leaves anonymous results.
	public.Visibility = practices.VisibilityNetwork
	last = src.put(&public)
	r.x.Notify()
	waitFor(t, 2*time.Second, "visibility change applied", func() bool { return r.x.Cursor() >= last })
	if got := hitIDs(search1(t, idx, search.Query{Text: "zebra"})); len(got) != 0 {
		t.Errorf("anonymous still sees %v after the practice left public", got)
	}
	if v := metric(t, r.reg, "brightspots_search_indexer_cursor"); v != float64(last) {
		t.Errorf("cursor metric %v, want %d", v, last)
	}
	if v := metric(t, r.reg, "brightspots_search_indexer_lag_seconds"); v != 0 {
		t.Errorf("lag %v after catching up, want 0", v)
	}
}

func TestIndexerSurvivesRestartAndOutage(t *testing.T) {
	items := corpus.New(corpus.Config{Seed: 5}).Generate(40)
	src := newMemSource()
	for i := range items[:20] {
		src.put(&items[i].Practice)
	}
	bucket := newMapBucket()
	dir := filepath.Join(t.TempDir(), "search")
	idx := openIndex(t, dir)
	r := startIndexer(t, src, bucket, idx, nil)
	waitFor(t, 5*time.Second, "first 20", func() bool { return r.x.Cursor() == 20 })
	r.stop()
	if _, ok := bucket.m[search.CursorKey]; !ok {
		t.Fatal("cursor not saved in the store")
	}

	// While stopped, more changes arrive; a new indexer picks up from the saved cursor.
	for i := range items[20:30] {
		src.put(&items[20+i].Practice)
	}
	flaky := &flakyIndex{Index: idx}
	r2 := startIndexer(t, src, bucket, flaky, nil)
	waitFor(t, 5*time.Second, "after restart", func() bool { return search1(t, idx, members(search.Query{})).Total == 30 })

	// The index goes down: the indexer retries, counts errors and reports lag, then catches up.
	flaky.down.Store(true)
	for i := range items[30:] {
		src.put(&items[30+i].Practice)
	}
	r2.x.Notify()
	waitFor(t, 5*time.Second, "errors counted", func() bool { return metric(t, r2.reg, "brightspots_search_indexer_errors_total") >= 2 })
	waitFor(t, 5*time.Second, "lag reported", func() bool { return metric(t, r2.reg, "brightspots_search_indexer_lag_seconds") > 0 })
	if got := search1(t, idx, members(search.Query{})).Total; got != 30 {
		t.Fatalf("%d documents while the index is down, want 30", got)
	}
	flaky.down.Store(false)
	waitFor(t, 5*time.Second, "catch up after outage", func() bool { return search1(t, idx, members(search.Query{})).Total == 40 })
	waitFor(t, 5*time.Second, "lag back to 0", func() bool { return metric(t, r2.reg, "brightspots_search_indexer_lag_seconds") == 0 })

	// The store goes down: same story.
	src.failLog.Store(true)
	extra := items[0].Practice
	extra.ID, extra.Title = "extra-1", "Quokka practice"
	src.put(&extra)
	before := metric(t, r2.reg, "brightspots_search_indexer_errors_total")
	waitFor(t, 5*time.Second, "store errors counted", func() bool { return metric(t, r2.reg, "brightspots_search_indexer_errors_total") > before })
	src.failLog.Store(false)
	waitFor(t, 5*time.Second, "catch up after store outage", func() bool { return search1(t, idx, members(search.Query{Text: "quokka"})).Total == 1 })
	r2.stop()

	// A new, empty index with the old cursor: the instance differs, so the log is replayed.
	idx2 := openIndex(t, filepath.Join(t.TempDir(), "search2"))
	r3 := startIndexer(t, src, bucket, idx2, nil)
	waitFor(t, 5*time.Second, "replay into a new index", func() bool { return search1(t, idx2, members(search.Query{})).Total == 41 })
	r3.stop()
}

func TestReindex(t *testing.T) {
	items := corpus.New(corpus.Config{Seed: 9}).Generate(50)
	src := newMemSource()
	for i := range items {
		src.put(&items[i].Practice)
	}
	w := items[7].Practice
	w.Status = practices.StatusWithdrawn
	src.put(&w)
	c := &practices.Collection{Meta: practices.Meta{ID: "c1", Kind: practices.KindCollection, Origin: local, OriginID: "maplewood",
		Status: practices.StatusPublished, Visibility: practices.VisibilityNetwork, UpdatedAt: time.Now()},
		Title: "Fractions collection", Aim: "Every 4th grader places fractions on a number line."}
	last := src.put(c)

	idx := openIndex(t, filepath.Join(t.TempDir(), "search"))
	// A stale document the store knows nothing of.
	if err := idx.Upsert(context.Background(), []search.Document{{ID: "practice_stale_1", Kind: practices.KindPractice, Title: "Stale", Audience: search.AudiencePublic}}); err != nil {
		t.Fatal(err)
	}
	bucket := newMapBucket()
	x, err := search.NewIndexer(search.IndexerConfig{Source: src, Index: idx, Bucket: bucket, BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Reindex(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := search1(t, idx, members(search.Query{})).Total; got != 50 { // 49 practices + 1 collection
		t.Fatalf("%d documents after reindex, want 50", got)
	}
	if got := search1(t, idx, members(search.Query{Text: "stale"})).Total; got != 0 {
		t.Fatalf("stale document survived reindex")
	}
	if got := hitIDs(search1(t, idx, members(search.Query{Kinds: []practices.Kind{practices.KindCollection}}))); !slices.Equal(got, []string{"c1"}) {
		t.Fatalf("collections: %v", got)
	}
	if x.Cursor() != last {
		t.Fatalf("cursor %d after reindex, want %d", x.Cursor(), last)
	}
}
