package harvest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/corpus"
	"github.com/brightspots-nic/brightspots/storage/fs"
)

// BenchmarkOAIHarvest measures a full ListRecords harvest over HTTP, following every resumption
// token, of a store holding BENCH_OAI_N public practices (default 100,000) made by the corpus
// generator and published through the repository (create + publish: two versions, two log entries
// each). Seeding is slow, so BENCH_OAI_DIR keeps the store between runs:
//
//	BENCH_OAI_DIR=/dev/shm/oai-bench go test ./web/harvest -run '^$' -bench OAIHarvest -benchtime 1x -timeout 2h
//
// It reports records/s and the heap in use sampled after every page (peak, and at the first and
// last page: flat memory means the two are about the same whatever the size).
func BenchmarkOAIHarvest(b *testing.B) {
	n := 100_000
	if s := os.Getenv("BENCH_OAI_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dir := os.Getenv("BENCH_OAI_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	ctx := context.Background()
	bucket, err := fs.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	repo, err := practices.Open(ctx, bucket, node, practices.Options{})
	if err != nil {
		b.Fatal(err)
	}
	seed(b, repo, n)
	for _, size := range []int{100, 200, 500} {
		b.Run(fmt.Sprintf("page=%d", size), func(b *testing.B) {
			h := New(Config{Repo: repo, PageSize: size})
			srv := httptest.NewServer(http.HandlerFunc(h.ServeOAI))
			defer srv.Close()
			for range b.N {
				runtime.GC()
				start, cpu0 := time.Now(), cpuTime()
				records, pages, peak, first, last := harvestAll(b, srv.URL)
				el, cpu := time.Since(start), cpuTime()-cpu0
				if records != n {
					b.Fatalf("harvested %d records, want %d", records, n)
				}
				b.ReportMetric(float64(records)/el.Seconds(), "records/s")
				// The machine is shared: records per CPU-second of this process (server and client
				// together) says what the harvest costs whatever else runs.
				b.ReportMetric(float64(records)/cpu.Seconds(), "records/cpu-s")
				b.ReportMetric(float64(pages), "pages")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(first)/(1<<20), "first-page-heap-MiB")
				b.ReportMetric(float64(last)/(1<<20), "last-page-heap-MiB")
			}
		})
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var (
	tokenRe  = regexp.MustCompile(`<resumptionToken[^>]*>([^<]+)</resumptionToken>`)
	recordRe = []byte("<record>")
)

func harvestAll(b *testing.B, base string) (records, pages int, peak, first, last uint64) {
	q := "verb=ListRecords&metadataPrefix=oai_dc"
	var ms runtime.MemStats
	for {
		res, err := http.Get(base + "?" + q)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("page %d: %d %v", pages, res.StatusCode, err)
		}
		pages++
		records += bytes.Count(body, recordRe)
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		if pages == 1 {
			first = ms.HeapInuse
		}
		last = ms.HeapInuse
		m := tokenRe.FindSubmatch(body)
		if m == nil {
			return
		}
		q = "verb=ListRecords&resumptionToken=" + url.QueryEscape(string(m[1]))
	}
}

// seed publishes public practices until the store holds n (a kept store is topped up, not redone).
func seed(b *testing.B, repo *practices.Repo, n int) {
	ctx := context.Background()
	h := New(Config{Repo: repo})
	have := 0
	for t := (token{From: minTime, Until: maxTime}); ; {
		items, last, more, err := h.scan(ctx, t, &groups{of: map[string][]string{}}, 1000)
		if err != nil {
			b.Fatal(err)
		}
		have += len(items)
		if !more {
			break
		}
		t.After = last
	}
	if have >= n {
		return
	}
	start := time.Now()
	gen := corpus.New(corpus.Config{Seed: 2026, Districts: []corpus.District{{URL: node.URL, ID: node.ID}}})
	publisher := practices.Principal{Kind: "token", Subject: "bench", Roles: []practices.Role{practices.RoleAdmin}}
	var next atomic.Int64
	next.Store(int64(have))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				p := gen.Item(i).Practice
				p.Meta = practices.Meta{Team: "math-4", Visibility: practices.VisibilityPublic}
				p.Evidence = nil
				rec, err := repo.Create(ctx, publisher, &p)
				if err == nil {
					_, err = repo.Publish(ctx, publisher, practices.KindPractice, rec.RecordMeta().ID, 0)
				}
				if err != nil {
					errs <- fmt.Errorf("seed %d: %w", i, err)
					return
				}
				if i%10_000 == 0 {
					b.Logf("seeded %d practices (%s)", i, time.Since(start).Round(time.Second))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.Logf("seeded %d practices in %s", n-have, time.Since(start).Round(time.Second))
}
