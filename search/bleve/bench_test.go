package bleve_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices/corpus"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/search/bleve"
	"github.com/brightspots-nic/brightspots/search/searchbench"
	"github.com/brightspots-nic/brightspots/search/searchtest"
)

// Benchmarks. Figures go to BENCHMARKS.md; run them one at a time on a quiet machine:
//
//	go test ./search/bleve -run '^$' -bench 'Index/100000' -benchtime 1x
//	go test ./search/bleve -run '^$' -bench 'Query/10000' -benchtime 1x
//	go test ./search/bleve -run '^$' -bench 'Query/100000' -benchtime 1x -timeout 30m

var districts = corpus.Districts(12)

func generator() *corpus.Generator {
	return corpus.New(corpus.Config{Seed: 2026, Districts: districts})
}

// build indexes n generated practices into a new index in dir, in batches of 1000, projecting the
// items in parallel while the previous batch is written.
func build(tb testing.TB, dir string, n int) (*bleve.Index, time.Duration) {
	tb.Helper()
	idx, err := bleve.Open(bleve.Config{Dir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	g := generator()
	const batch = 1000
	batches := make(chan []search.Document, 2)
	go func() {
		defer close(batches)
		for start := 0; start < n; start += batch {
			docs := make([]search.Document, min(batch, n-start))
			var wg sync.WaitGroup
			workers := runtime.GOMAXPROCS(0)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < len(docs); i += workers {
						it := g.Item(start + i)
						docs[i] = search.FromPractice(&it.Practice, searchtest.Evidence(&it))
					}
				}()
			}
			wg.Wait()
			batches <- docs
		}
	}()
	t0 := time.Now()
	for docs := range batches {
		if err := idx.Upsert(context.Background(), docs); err != nil {
			tb.Fatal(err)
		}
	}
	return idx, time.Since(t0)
}

func BenchmarkIndex(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				dir := filepath.Join(b.TempDir(), "search")
				idx, el := build(b, dir, n)
				b.ReportMetric(float64(n)/el.Seconds(), "docs/s")
				b.ReportMetric(el.Seconds(), "s/index")
				idx.Close()
				os.RemoveAll(dir)
			}
		})
	}
}

var (
	built     = map[int]*bleve.Index{}
	dirs      = map[int]string{} // index folder of built[n]
	builtDirs []string
	builtMu   sync.Mutex
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, idx := range built {
		idx.Close()
	}
	for _, d := range builtDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func indexOf(b *testing.B, n int) *bleve.Index {
	builtMu.Lock()
	defer builtMu.Unlock()
	if idx, ok := built[n]; ok {
		return idx
	}
	dir, err := os.MkdirTemp("", "brightspots-bench-*")
	if err != nil {
		b.Fatal(err)
	}
	builtDirs = append(builtDirs, dir)
	idx, el := build(b, dir, n)
	dirs[n] = dir
	b.Logf("indexed %d practices in %v", n, el)
	built[n] = idx
	return idx
}

func BenchmarkQuery(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("%d/%dclients", n, clients), func(b *testing.B) {
				idx := indexOf(b, n)
				mix := searchbench.Mix(searchbench.MixConfig{Seed: 7, N: 1000, Corpus: generator(), CorpusLen: n, Districts: districts})
				run := searchbench.Direct(idx)
				searchbench.Load(context.Background(), run, mix, clients, 200) // warm up
				b.ResetTimer()
				var st searchbench.Stats
				for range b.N {
					st = searchbench.Load(context.Background(), run, mix, clients, 3000)
				}
				b.StopTimer()
				if st.Errors > 0 {
					b.Fatalf("%d errors", st.Errors)
				}
				b.ReportMetric(float64(st.P50.Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(st.P99.Microseconds())/1000, "p99-ms")
				b.ReportMetric(st.QPS, "queries/s")
				b.ReportMetric(float64(st.CPUPerQuery.Nanoseconds())/1e6, "cpu-ms/query")
				b.Logf("%d practices: %s\n  slowest:%s", n, st, st.SlowestReport())
				logCaches(b, idx)
			})
		}
	}
}

// reopen closes the shared index of n practices and opens it again from its folder: a restart, with
// every cache empty.
func reopen(b *testing.B, n int) *bleve.Index {
	idx := indexOf(b, n)
	builtMu.Lock()
	defer builtMu.Unlock()
	if err := idx.Close(); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	idx2, err := bleve.Open(bleve.Config{Dir: dirs[n]})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("reopened %d practices in %v", n, time.Since(t0))
	built[n] = idx2
	return idx2
}

// BenchmarkCold measures the first 1,000 queries of the mix after a restart (every cache empty),
// from 16 clients, then the same 1,000 again (warm).
//
//	go test ./search/bleve -run '^$' -bench 'Cold/100000' -benchtime 1x -timeout 60m
func BenchmarkCold(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			mix := searchbench.Mix(searchbench.MixConfig{Seed: 7, N: 1000, Corpus: generator(), CorpusLen: n, Districts: districts})
			var cold, warm searchbench.Stats
			for range b.N {
				idx := reopen(b, n)
				run := searchbench.Direct(idx)
				cold = searchbench.Load(context.Background(), run, mix, 16, len(mix))
				warm = searchbench.Load(context.Background(), run, mix, 16, len(mix))
			}
			b.ReportMetric(float64(cold.P99.Microseconds())/1000, "cold-p99-ms")
			b.ReportMetric(float64(warm.P99.Microseconds())/1000, "warm-p99-ms")
			b.ReportMetric(float64(cold.CPUPerQuery.Nanoseconds())/1e6, "cold-cpu-ms/query")
			b.Logf("%d practices, after restart: cold %s\n  slowest:%s", n, cold, cold.SlowestReport())
			b.Logf("%d practices, the same queries again: warm %s", n, warm)
		})
	}
}

// BenchmarkAfterWrite measures a query issued right after a write: each round replaces one
// practice (a new segment, a new snapshot: the per-snapshot caches start over) and then runs the
// next query of the mix, from one client.
//
//	go test ./search/bleve -run '^$' -bench 'AfterWrite/100000' -benchtime 1x -timeout 60m
func BenchmarkAfterWrite(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			idx := indexOf(b, n)
			mix := searchbench.Mix(searchbench.MixConfig{Seed: 7, N: 1000, Corpus: generator(), CorpusLen: n, Districts: districts})
			searchbench.Load(context.Background(), searchbench.Direct(idx), mix, 1, 200) // warm up
			g := generator()
			const rounds = 300
			var lat []time.Duration
			for range b.N {
				lat = lat[:0]
				for i := range rounds {
					it := g.Item(i * 37 % n)
					it.Practice.Summary += fmt.Sprintf(" Revised %d.", i)
					d := search.FromPractice(&it.Practice, searchtest.Evidence(&it))
					if err := idx.Upsert(context.Background(), []search.Document{d}); err != nil {
						b.Fatal(err)
					}
					t0 := time.Now()
					if _, err := idx.Search(context.Background(), mix[i%len(mix)]); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
				}
			}
			slices.Sort(lat)
			p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
			b.ReportMetric(float64(p(0.5).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p(0.99).Microseconds())/1000, "p99-ms")
			b.Logf("%d practices: query right after a write, %d rounds: p50 %v p90 %v p99 %v max %v", n, rounds, p(0.5), p(0.9), p(0.99), lat[len(lat)-1])
		})
	}
}

// BenchmarkHeapGrowth runs 100,000 distinct queries after a warm baseline and reports how much the
// live heap grew (after a full GC, both times) and what the caches hold.
//
//	go test ./search/bleve -run '^$' -bench 'HeapGrowth/100000' -benchtime 1x -timeout 60m
func BenchmarkHeapGrowth(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			idx := indexOf(b, n)
			warmMix := searchbench.Mix(searchbench.MixConfig{Seed: 7, N: 1000, Corpus: generator(), CorpusLen: n, Districts: districts})
			searchbench.Load(context.Background(), searchbench.Direct(idx), warmMix, 2, 2000)
			mix := searchbench.Mix(searchbench.MixConfig{Seed: 99, N: 100000, Corpus: generator(), CorpusLen: n, Districts: districts})
			heap := func() uint64 {
				runtime.GC()
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				return ms.HeapAlloc
			}
			var before, after uint64
			for range b.N {
				before = heap()
				st := searchbench.Load(context.Background(), searchbench.Direct(idx), mix, 2, len(mix))
				if st.Errors > 0 {
					b.Fatalf("%d errors", st.Errors)
				}
				after = heap()
				b.Logf("%d practices, %d distinct queries: %s", n, len(mix), st)
			}
			growth := (float64(after) - float64(before)) / (1 << 20)
			b.ReportMetric(growth, "heap-growth-MB")
			b.Logf("heap %0.1f MB → %0.1f MB (growth %+.1f MB)", float64(before)/(1<<20), float64(after)/(1<<20), growth)
			logCaches(b, idx)
		})
	}
}

func logCaches(b *testing.B, idx *bleve.Index) {
	for name, s := range idx.CacheStats() {
		b.Logf("cache %-17s %7d entries %6.1f MB of %5.1f MB; %d hits, %d misses, %d evicted",
			name, s.Entries, float64(s.Bytes)/(1<<20), float64(s.Budget)/(1<<20), s.Hits, s.Misses, s.Evictions)
	}
}

// BenchmarkFacetRecounts measures what the search page's disjunctive facets cost: for each facet with
// a value ticked (subject, grade, district), the page runs the query again without that facet's own
// filter, one hit, to count the facet's other values (web/pages_search.go, disjunctiveFacets; the
// recount below builds the same queries). One client, the benchmark mix, with and without recounts.
//
//	go test ./search/bleve -run '^$' -bench 'FacetRecounts/^100000$' -benchtime 1x -timeout 30m
func BenchmarkFacetRecounts(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			idx := indexOf(b, n)
			mix := searchbench.Mix(searchbench.MixConfig{Seed: 7, N: 1000, Corpus: generator(), CorpusLen: n, Districts: districts})
			recounts := func(q search.Query) []search.Query {
				var out []search.Query
				for _, clear := range []func(*search.Query) bool{
					func(q *search.Query) bool { used := len(q.Subjects) > 0; q.Subjects = nil; return used },
					func(q *search.Query) bool {
						used := len(q.GradeBands)+len(q.Grades) > 0
						q.GradeBands, q.Grades = nil, nil
						return used
					},
					func(q *search.Query) bool { used := len(q.Districts) > 0; q.Districts = nil; return used },
				} {
					others := q
					if clear(&others) {
						others.CountOnly = true
						out = append(out, others)
					}
				}
				return out
			}
			withFacets, extra := 0, 0
			for _, q := range mix {
				if r := len(recounts(q)); r > 0 {
					withFacets++
					extra += r
				}
			}
			base := searchbench.Direct(idx)
			page := func(ctx context.Context, q search.Query) (int, error) {
				total, err := base(ctx, q)
				for _, o := range recounts(q) {
					if err != nil {
						break
					}
					_, err = base(ctx, o)
				}
				return total, err
			}
			searchbench.Load(context.Background(), page, mix, 1, len(mix)) // warm both
			b.ResetTimer()
			var one, all searchbench.Stats
			for range b.N {
				one = searchbench.Load(context.Background(), base, mix, 1, 3000)
				all = searchbench.Load(context.Background(), page, mix, 1, 3000)
			}
			b.StopTimer()
			b.ReportMetric(float64(one.CPUPerQuery.Nanoseconds())/1e6, "cpu-ms/query")
			b.ReportMetric(float64(all.CPUPerQuery.Nanoseconds())/1e6, "cpu-ms/page")
			b.ReportMetric(100*(float64(all.CPUPerQuery)/float64(one.CPUPerQuery)-1), "recount-cpu-%")
			b.Logf("%d practices: %d of %d queries tick a facet, %.2f recounts per query on average (%.2f per query that ticks one)\n  query alone:       %s\n  with its recounts: %s",
				n, withFacets, len(mix), float64(extra)/float64(len(mix)), float64(extra)/float64(max(withFacets, 1)), one, all)
		})
	}
}
