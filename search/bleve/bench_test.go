package bleve_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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
				b.Logf("%d practices: %s", n, st)
			})
		}
	}
}
