package bleve_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/brightspots-nic/brightspots/practices/corpus"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/search/bleve"
	"github.com/brightspots-nic/brightspots/search/searchtest"
)

func TestContract(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) search.Index {
		idx, err := bleve.Open(bleve.Config{Dir: filepath.Join(t.TempDir(), "search")})
		if err != nil {
			t.Fatal(err)
		}
		return idx
	})
}

// The index lives in its folder: closing and opening it again gives the same documents, filters
// and text matches, and the same instance id.
func TestReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "search")
	idx, err := bleve.Open(bleve.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	items := corpus.New(corpus.Config{Seed: 11}).Generate(100)
	docs := searchtest.Documents(items)
	if err := idx.Upsert(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	if err := idx.Delete(context.Background(), []string{docs[0].ID}); err != nil {
		t.Fatal(err)
	}
	q := search.Query{Text: strings.Fields(docs[1].Title)[0], Subjects: docs[1].Subjects, Audience: search.MembersAudience(), PerPage: 100}
	before, err := idx.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	inst, _ := idx.InstanceID(context.Background())
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	idx, err = bleve.Open(bleve.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if idx.Len() != 99 {
		t.Fatalf("%d documents after reopening, want 99", idx.Len())
	}
	after, err := idx.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if before.Total == 0 || after.Total != before.Total || !reflect.DeepEqual(after.Facets, before.Facets) {
		t.Fatalf("before reopening: %d hits %v; after: %d hits %v", before.Total, before.Facets, after.Total, after.Facets)
	}
	if inst2, _ := idx.InstanceID(context.Background()); inst2 != inst || inst == "" {
		t.Fatalf("instance id %q, then %q", inst, inst2)
	}
}

// Searches run while documents are written and deleted (run with -race).
func TestConcurrentSearchAndWrite(t *testing.T) {
	idx, err := bleve.Open(bleve.Config{Dir: filepath.Join(t.TempDir(), "search")})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	docs := searchtest.Documents(corpus.New(corpus.Config{Seed: 12}).Generate(600))
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		go func() {
			for ctx.Err() == nil {
				if _, err := idx.Search(ctx, search.Query{Text: "students fractions", Audience: search.MembersAudience()}); err != nil && ctx.Err() == nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for i := 0; i < len(docs); i += 50 {
		if err := idx.Upsert(context.Background(), docs[i:i+50]); err != nil {
			t.Fatal(err)
		}
		if err := idx.Delete(context.Background(), []string{docs[i].ID}); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	for w := 0; w < 4; w++ {
		if err := <-errs; err != nil {
			t.Fatalf("search during writes: %v", err)
		}
	}
	r, err := idx.Search(context.Background(), search.Query{Audience: search.MembersAudience()})
	if err != nil || r.Total != len(docs)-12 {
		t.Fatalf("after writes: total %d err %v, want %d", r.Total, err, len(docs)-12)
	}
}

// Every cache stays within its bound however many distinct queries arrive, and says so in its
// metrics: 3,000 distinct queries against a 64 KB budget must evict, never exceed the budget by
// more than one entry, and keep answering the same as with an unbounded cache.
func TestCachesAreBounded(t *testing.T) {
	const budget = 64 << 10
	small, err := bleve.Open(bleve.Config{Dir: filepath.Join(t.TempDir(), "search"), CacheBytes: budget})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	large, err := bleve.Open(bleve.Config{Dir: filepath.Join(t.TempDir(), "search")})
	if err != nil {
		t.Fatal(err)
	}
	defer large.Close()
	g := corpus.New(corpus.Config{Seed: 13})
	docs := searchtest.Documents(g.Generate(400))
	for _, idx := range []*bleve.Index{small, large} {
		if err := idx.Upsert(context.Background(), docs); err != nil {
			t.Fatal(err)
		}
	}
	vocab := corpus.Vocabulary()
	for i := 0; i < 3000; i++ {
		q := search.Query{Text: vocab[i%len(vocab)] + " " + vocab[(i*7+3)%len(vocab)], Audience: search.MembersAudience()}
		a, err := small.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			b, err := large.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if a.Total != b.Total || len(a.Hits) != len(b.Hits) || (len(a.Hits) > 0 && a.Hits[0].ID != b.Hits[0].ID) {
				t.Fatalf("%q: bounded cache gives %d hits (first %v), unbounded %d (first %v)", q.Text, a.Total, a.Hits, b.Total, b.Hits)
			}
		}
		for name, s := range small.CacheStats() {
			if s.Bytes > s.Budget+16<<10 {
				t.Fatalf("after %d queries cache %s holds %d bytes, over its budget %d", i+1, name, s.Bytes, s.Budget)
			}
		}
	}
	st := small.CacheStats()
	if seg := st["segment_postings"]; seg.Evictions == 0 || seg.Hits == 0 || seg.Misses == 0 {
		t.Errorf("segment cache after 3,000 distinct queries: %+v; want hits, misses and evictions", seg)
	}
	// The metrics say the same.
	reg := prometheus.NewRegistry()
	if err := reg.Register(small); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	for _, mf := range mfs {
		series[mf.GetName()] = len(mf.GetMetric())
	}
	for _, name := range []string{"brightspots_search_cache_bytes", "brightspots_search_cache_budget_bytes", "brightspots_search_cache_evictions_total"} {
		if series[name] != 3 {
			t.Errorf("metric %s: %d series, want one per cache (3): %v", name, series[name], series)
		}
	}
}

// Searches take turns: with every turn taken, a search waits — and gives up when its context ends,
// without running — and runs as soon as a turn is free; the time waited is in the metrics.
func TestSearchesTakeTurns(t *testing.T) {
	idx, err := bleve.Open(bleve.Config{Dir: filepath.Join(t.TempDir(), "search"), Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	docs := searchtest.Documents(corpus.New(corpus.Config{Seed: 14}).Generate(50))
	if err := idx.Upsert(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	q := search.Query{Audience: search.MembersAudience()}

	giveBack := idx.TakeTurn()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = idx.Search(ctx, q)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("search with the only turn taken: err %v, want it to wait and give up with its context", err)
	}

	done := make(chan search.Result, 1)
	go func() {
		r, err := idx.Search(context.Background(), q)
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	select {
	case r := <-done:
		t.Fatalf("a search ran while the only turn was taken (%d hits)", r.Total)
	case <-time.After(100 * time.Millisecond):
	}
	giveBack()
	if r := <-done; r.Total != len(docs) {
		t.Fatalf("search after the turn came back: %d hits, want %d", r.Total, len(docs))
	}

	reg := prometheus.NewRegistry()
	if err := reg.Register(idx); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var waited *dto.Histogram
	for _, mf := range mfs {
		if mf.GetName() == "brightspots_search_wait_seconds" {
			waited = mf.GetMetric()[0].GetHistogram()
		}
	}
	// The search that gave up never had a turn; the one that waited 100 ms did.
	if waited == nil || waited.GetSampleCount() != 1 || waited.GetSampleSum() < 0.1 {
		t.Fatalf("brightspots_search_wait_seconds: %v; want one search that waited at least 0.1 s", waited)
	}
}
