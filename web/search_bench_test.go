package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/node"
	"github.com/brightspots-nic/brightspots/practices/corpus"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/search/bleve"
	"github.com/brightspots-nic/brightspots/search/searchbench"
	"github.com/brightspots-nic/brightspots/search/searchtest"
)

// BenchmarkSearchAPI measures the same query mix through GET /api/v1/search (HTTP, authentication,
// parsing, JSON) and directly against the same index, alternating in one run, and reports the API's
// overhead at p50 and p99. Run one size at a time on a quiet machine — the size anchored, or
// "10000" also matches "100000":
//
//	go test ./web -run '^$' -bench 'SearchAPI/^10000$' -benchtime 1x
//	go test ./web -run '^$' -bench 'SearchAPI/^100000$' -benchtime 1x -timeout 30m
//
// The node of each size is built once per process and each (size, clients) pair is warmed once, so
// a run without -benchtime 1x (which calls a sub-benchmark again with a larger b.N) repeats the
// measured loads, not the setup. The client runs in the same process; its JSON decode of the answers
// is not in the API figures but measured apart on the same answers ("client decode"). To profile the
// direct and the API loads alone, set BENCH_CPUPROFILE to a folder (see profileLoad).
func BenchmarkSearchAPI(b *testing.B) {
	nodes := &benchNodes{owner: b, nodes: map[int]*benchNodeOf{}}
	for _, n := range []int{10000, 100000} {
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("%d/%dclients", n, clients), func(b *testing.B) {
				bn := nodes.of(b, n)
				districts := corpus.Districts(12)
				mix := searchbench.Mix(searchbench.MixConfig{Seed: 7, N: 1000, Corpus: corpus.New(corpus.Config{Seed: 2026, Districts: districts}), CorpusLen: n, Districts: districts})
				direct := searchbench.Direct(bn.srv.Index())
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
				get := func(ctx context.Context, q search.Query) ([]byte, error) {
					req, _ := http.NewRequestWithContext(ctx, "GET", bn.url+"/api/v1/search?"+q.Values().Encode(), nil)
					req.Header.Set("Authorization", "Bearer "+bn.token)
					res, err := client.Do(req)
					if err != nil {
						return nil, err
					}
					defer res.Body.Close()
					body, err := io.ReadAll(res.Body)
					if err == nil && res.StatusCode != 200 {
						err = fmt.Errorf("%d %s", res.StatusCode, body)
					}
					return body, err
				}
				decode := func(body []byte) (int, error) {
					var out struct {
						Total int `json:"total"`
					}
					err := json.Unmarshal(body, &out)
					return out.Total, err
				}
				// The API path: the request, the server's work, the transport and gzip both ways, and
				// the whole body read; the client's JSON decode is measured apart (below), since it is
				// the client's cost, not the API's, and at 10,000 practices it is as large as the rest.
				api := func(ctx context.Context, q search.Query) (int, error) {
					body, err := get(ctx, q)
					if err != nil {
						return 0, err
					}
					return scanTotal(body)
				}
				// The floor: the same client, token and middleware, answering nothing (GET /healthz) —
				// what any API request costs before the search and its answer.
				floor := func(ctx context.Context, q search.Query) (int, error) {
					req, _ := http.NewRequestWithContext(ctx, "GET", bn.url+"/healthz", nil)
					req.Header.Set("Authorization", "Bearer "+bn.token)
					res, err := client.Do(req)
					if err != nil {
						return 0, err
					}
					defer res.Body.Close()
					_, err = io.Copy(io.Discard, res.Body)
					if err == nil && res.StatusCode != 200 {
						err = fmt.Errorf("healthz: %d", res.StatusCode)
					}
					return 0, err
				}
				ctx := context.Background()
				if k := fmt.Sprint(n, clients); !bn.warmed[k] {
					searchbench.Load(ctx, direct, mix, clients, 2*len(mix)) // warm both paths with the whole mix
					searchbench.Load(ctx, api, mix, clients, 2*len(mix))
					bn.warmed[k] = true
				}
				// The client's decode alone, on the responses of the mix.
				bodies := make([][]byte, 0, 200)
				for _, q := range mix[:200] {
					body, err := get(ctx, q)
					if err != nil {
						b.Fatal(err)
					}
					bodies = append(bodies, body)
					scanned, err1 := scanTotal(body)
					decoded, err2 := decode(body)
					if err1 != nil || err2 != nil || scanned != decoded {
						b.Fatalf("total %d (%v) read from the end of the answer, %d (%v) decoded", scanned, err1, decoded, err2)
					}
				}
				logGzip(b, bodies)
				b.ResetTimer()
				var d, a, fl searchbench.Stats
				var decodeTime time.Duration
				for range b.N {
					stop := profileLoad(b, "direct", n, clients)
					d = searchbench.Load(ctx, direct, mix, clients, 3000)
					stop()
					stop = profileLoad(b, "api", n, clients)
					a = searchbench.Load(ctx, api, mix, clients, 3000)
					stop()
					fl = searchbench.Load(ctx, floor, mix, clients, 3000)
					t0 := time.Now()
					for _, body := range bodies {
						if _, err := decode(body); err != nil {
							b.Fatal(err)
						}
					}
					decodeTime = time.Since(t0) / time.Duration(len(bodies))
				}
				b.StopTimer()
				if d.Errors+a.Errors+fl.Errors > 0 {
					b.Fatalf("errors: direct %d, api %d, floor %d", d.Errors, a.Errors, fl.Errors)
				}
				b.ReportMetric(float64(d.P99.Microseconds())/1000, "direct-p99-ms")
				b.ReportMetric(float64(a.P99.Microseconds())/1000, "api-p99-ms")
				b.ReportMetric(100*(float64(a.P50)/float64(d.P50)-1), "p50-overhead-%")
				b.ReportMetric(100*(float64(a.P99)/float64(d.P99)-1), "p99-overhead-%")
				b.ReportMetric(float64((a.CPUPerQuery-d.CPUPerQuery).Nanoseconds())/1e6, "api-cpu-ms/query")
				b.ReportMetric(float64(decodeTime.Nanoseconds())/1e6, "client-decode-ms")
				if cs, ok := bn.srv.Index().(interface {
					CacheStats() map[string]bleve.CacheStats
				}); ok {
					for name, s := range cs.CacheStats() {
						b.Logf("cache %-17s %7d entries %6.1f MB of %5.1f MB; %d hits, %d misses, %d evicted",
							name, s.Entries, float64(s.Bytes)/(1<<20), float64(s.Budget)/(1<<20), s.Hits, s.Misses, s.Evictions)
					}
				}
				b.ReportMetric(float64(fl.P50.Microseconds())/1000, "floor-p50-ms")
				b.Logf("%d practices, %d clients\n  direct: %s\n  api:    %s\n  floor:  %s (GET /healthz)\n  client decode (not in the api figures): %.3f ms per response",
					n, clients, d, a, fl, float64(decodeTime.Nanoseconds())/1e6)
			})
		}
	}
}

// benchNodeOf is a node built for the benchmark, shared by its sub-benchmarks of one size.
type benchNodeOf struct {
	srv        *node.Node
	url, token string
	warmed     map[string]bool
}

// benchNodes holds the nodes of one benchmark function, by size. Their folders and shutdown belong
// to the parent benchmark (owner), which outlives every call of its sub-benchmarks.
type benchNodes struct {
	owner *testing.B
	mu    sync.Mutex
	nodes map[int]*benchNodeOf
}

// of returns the node of n practices, building it on first use.
func (bs *benchNodes) of(b *testing.B, n int) *benchNodeOf {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if bn, ok := bs.nodes[n]; ok {
		return bn
	}
	srv, url, token := benchNodeOwned(b, bs.owner, n)
	bn := &benchNodeOf{srv: srv, url: url, token: token, warmed: map[string]bool{}}
	bs.nodes[n] = bn
	return bn
}

// benchNode starts a node whose index holds n generated practices (written straight into the index:
// the benchmark is about queries, not publishing) and returns it with its URL and a teacher token.
func benchNode(b *testing.B, n int) (*node.Node, string, string) {
	b.Helper()
	return benchNodeOwned(b, b, n)
}

// benchNodeOwned is benchNode with the node's folder and shutdown tied to owner (b or a parent of it).
func benchNodeOwned(b, owner *testing.B, n int) (*node.Node, string, string) {
	b.Helper()
	cfg := node.Defaults()
	cfg.DataDir = owner.TempDir()
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
	owner.Cleanup(func() { srv.Index().Close() })
	hs.Config.Handler = srv.Handler()
	hs.Start()
	owner.Cleanup(hs.Close)
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

// profileLoad starts a CPU profile of one load (path "direct" or "api") when BENCH_CPUPROFILE names a
// folder (go test -cpuprofile would also hold the index build, which dwarfs the queries), and returns
// what stops it. The profile is {folder}/{path}-{n}-{clients}.pprof.
func profileLoad(b *testing.B, path string, n, clients int) (stop func()) {
	dir := os.Getenv("BENCH_CPUPROFILE")
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d-%d.pprof", path, n, clients)))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// scanTotal reads the top-level "total" of a search answer without decoding the rest: it is the
// answer's last "total" key (search.Result.AppendJSON writes it after the hits and facets, and no
// hit or facet has one; a "total" inside a string would have its quotes escaped).
func scanTotal(body []byte) (int, error) {
	i := bytes.LastIndex(body, []byte(`"total":`))
	if i < 0 {
		return 0, fmt.Errorf("no total in %.200s", body)
	}
	rest := body[i+len(`"total":`):]
	end := bytes.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end <= 0 {
		return 0, fmt.Errorf("total is not a number: %.40s", rest)
	}
	return strconv.Atoi(string(rest[:end]))
}

// logGzip logs what the search API's responses weigh and cost to compress at the fastest and the
// default gzip level, the choice made for /api/v1/search in web/server.go.
func logGzip(b *testing.B, bodies [][]byte) {
	raw := 0
	for _, body := range bodies {
		raw += len(body)
	}
	for _, level := range []int{gzip.BestSpeed, gzip.DefaultCompression} {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, level)
		size := 0
		t0 := time.Now()
		for _, body := range bodies {
			buf.Reset()
			zw.Reset(&buf)
			zw.Write(body)
			zw.Close()
			size += buf.Len()
		}
		el := time.Since(t0)
		b.Logf("gzip level %d: %d responses, %.1f KB → %.1f KB each (%.0f %%), %.3f ms each",
			level, len(bodies), float64(raw)/float64(len(bodies))/1024, float64(size)/float64(len(bodies))/1024,
			100*float64(size)/float64(raw), float64(el.Nanoseconds())/1e6/float64(len(bodies)))
	}
}
