package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/brightspots-nic/brightspots/node"
	"github.com/brightspots-nic/brightspots/practices/corpus"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/search/searchbench"
	"github.com/brightspots-nic/brightspots/search/searchtest"
)

// BenchmarkSearchAPI measures the same query mix through GET /api/v1/search (HTTP, authentication,
// parsing, JSON) and directly against the same index, alternating in one run, and reports the API's
// overhead at p50 and p99. Run one size at a time on a quiet machine:
//
//	go test ./web -run '^$' -bench 'SearchAPI/10000' -benchtime 1x
//	go test ./web -run '^$' -bench 'SearchAPI/100000' -benchtime 1x -timeout 30m
func BenchmarkSearchAPI(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("%d/%dclients", n, clients), func(b *testing.B) {
				srv, url, token := benchNode(b, n)
				districts := corpus.Districts(12)
				mix := searchbench.Mix(searchbench.MixConfig{Seed: 7, N: 1000, Corpus: corpus.New(corpus.Config{Seed: 2026, Districts: districts}), CorpusLen: n, Districts: districts})
				direct := searchbench.Direct(srv.Index())
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
				api := func(ctx context.Context, q search.Query) (int, error) {
					req, _ := http.NewRequestWithContext(ctx, "GET", url+"/api/v1/search?"+q.Values().Encode(), nil)
					req.Header.Set("Authorization", "Bearer "+token)
					res, err := client.Do(req)
					if err != nil {
						return 0, err
					}
					defer res.Body.Close()
					if res.StatusCode != 200 {
						body, _ := io.ReadAll(res.Body)
						return 0, fmt.Errorf("%d %s", res.StatusCode, body)
					}
					var out struct {
						Total int `json:"total"`
					}
					err = json.NewDecoder(res.Body).Decode(&out)
					return out.Total, err
				}
				ctx := context.Background()
				searchbench.Load(ctx, direct, mix, clients, 2*len(mix)) // warm both paths with the whole mix
				searchbench.Load(ctx, api, mix, clients, 2*len(mix))
				b.ResetTimer()
				var d, a searchbench.Stats
				for range b.N {
					d = searchbench.Load(ctx, direct, mix, clients, 3000)
					a = searchbench.Load(ctx, api, mix, clients, 3000)
				}
				b.StopTimer()
				if d.Errors+a.Errors > 0 {
					b.Fatalf("errors: direct %d, api %d", d.Errors, a.Errors)
				}
				b.ReportMetric(float64(d.P99.Microseconds())/1000, "direct-p99-ms")
				b.ReportMetric(float64(a.P99.Microseconds())/1000, "api-p99-ms")
				b.ReportMetric(100*(float64(a.P50)/float64(d.P50)-1), "p50-overhead-%")
				b.ReportMetric(100*(float64(a.P99)/float64(d.P99)-1), "p99-overhead-%")
				b.Logf("%d practices, %d clients\n  direct: %s\n  api:    %s", n, clients, d, a)
			})
		}
	}
}

// benchNode starts a node whose index holds n generated practices (written straight into the index:
// the benchmark is about queries, not publishing) and returns it with its URL and a teacher token.
func benchNode(b *testing.B, n int) (*node.Node, string, string) {
	b.Helper()
	cfg := node.Defaults()
	cfg.DataDir = b.TempDir()
	cfg.Log.Level = "error"
	cfg.RateLimit.PerSecond, cfg.RateLimit.Burst = 1e9, 1e9
	hs := httptest.NewUnstartedServer(nil)
	cfg.Node.URL = "http://" + hs.Listener.Addr().String()
	cfg.Listen = hs.Listener.Addr().String()
	if err := cfg.Check(); err != nil {
		b.Fatal(err)
	}
	srv, err := node.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Index().Close() })
	hs.Config.Handler = srv.Handler()
	hs.Start()
	b.Cleanup(hs.Close)
	g := corpus.New(corpus.Config{Seed: 2026, Districts: corpus.Districts(12)})
	for start := 0; start < n; start += 1000 {
		items := make([]corpus.Item, 0, 1000)
		for i := start; i < min(n, start+1000); i++ {
			items = append(items, g.Item(i))
		}
		if err := srv.Index().Upsert(context.Background(), searchtest.Documents(items)); err != nil {
			b.Fatal(err)
		}
	}
	token, _, err := srv.Tokens().Create(context.Background(), "bench", "teacher", "")
	if err != nil {
		b.Fatal(err)
	}
	return srv, hs.URL, token
}
