package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// fillPublished writes n published network practices into node's store the way commits leave them
// (a head per record, one log entry each). It bypasses the write path, which practices benchmarks
// on its own, so that this benchmark measures mirroring.
func fillPublished(b testing.TB, n *testNode, count int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range count {
		id := uuid.Must(uuid.NewV7()).String()
		p := fullPractice(fmt.Sprintf("Practice %05d: fraction number line talks", i), practices.VisibilityNetwork)
		p.Meta = practices.Meta{ID: id, Kind: practices.KindPractice, URI: n.url + "/practices/" + id, Version: 2,
			Origin: n.url, OriginID: n.id, Status: practices.StatusPublished, CreatedAt: now, UpdatedAt: now,
			PublishedAt: &now, Team: "math-4", Visibility: practices.VisibilityNetwork}
		body, _ := json.Marshal(p)
		if _, err := n.bucket.Put(ctx, "records/practice/"+id+"/head.json", bytes.NewReader(body), int64(len(body)), storage.PutOptions{}); err != nil {
			b.Fatal(err)
		}
		if _, err := n.repo.AppendLog(ctx, practices.LogEntry{Kind: practices.KindPractice, ID: id, Origin: n.url, Version: 2, Op: "put"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMirror measures B mirroring every practice of A from an empty cursor, over loopback HTTP
// with the fs backend: feed pages signed by A, every document verified, stored and logged by B.
// It reports the peak heap of the whole process (both nodes) while mirroring.
//
//	go test ./federation -run '^$' -bench Mirror -benchtime 1x -timeout 30m
func BenchmarkMirror(b *testing.B) {
	for _, count := range []int{5000, 20000} {
		b.Run(fmt.Sprintf("practices=%d", count), func(b *testing.B) {
			for range b.N {
				c := newCluster(b, map[string]storage.Bucket{"a": fsBucket(b), "b": fsBucket(b)}, nil)
				a, nb := c.nodes["a"], c.nodes["b"]
				c.stop(nb)
				fillPublished(b, a, count)
				runtime.GC()
				var base runtime.MemStats
				runtime.ReadMemStats(&base)

				var peak atomic.Uint64
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					var ms runtime.MemStats
					t := time.NewTicker(50 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
							runtime.ReadMemStats(&ms)
							if ms.HeapInuse > peak.Load() {
								peak.Store(ms.HeapInuse)
							}
						}
					}
				})
				b.ResetTimer()
				start := time.Now()
				c.start(nb)
				deadline := time.Now().Add(20 * time.Minute)
				for {
					h := nb.health("a")
					if h.Applied >= uint64(count) && !h.CaughtUpAt.IsZero() {
						break
					}
					if time.Now().After(deadline) {
						b.Fatalf("not mirrored in time: %+v", h)
					}
					time.Sleep(20 * time.Millisecond)
				}
				elapsed := time.Since(start)
				b.StopTimer()
				close(stop)
				wg.Wait()
				b.ReportMetric(float64(count)/elapsed.Seconds(), "records/s")
				b.ReportMetric(elapsed.Seconds(), "s/mirror")
				b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(base.HeapInuse)/(1<<20), "base-heap-MB")
				c.stop(a)
			}
		})
	}
}
