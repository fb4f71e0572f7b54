// Package searchbench measures search: a reproducible mix of realistic queries drawn from the
// generated corpus, and a load loop that runs them from concurrent clients and reports latency
// percentiles. The loop takes a function, so the same mix can be run directly against an Index or
// through the HTTP API.
package searchbench

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/corpus"
	"github.com/brightspots-nic/brightspots/search"
)

// MixConfig chooses a query mix.
type MixConfig struct {
	Seed      uint64
	N         int               // distinct queries (default 1000)
	Corpus    *corpus.Generator // the indexed corpus: query words come from its practices
	CorpusLen int               // how many of its items are indexed
	Districts []corpus.District // district filter values
}

// Mix returns N distinct queries: 2–4 words taken from a practice of the corpus (so most queries
// match something) or from the corpus vocabulary, about one in five with a misspelled word, 0–2
// filters (subject, grade band, evidence level, district), as a signed-in member; every search
// computes the four facets.
func Mix(cfg MixConfig) []search.Query {
	if cfg.N <= 0 {
		cfg.N = 1000
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xb5))
	vocab := corpus.Vocabulary()
	seen := map[string]bool{}
	var out []search.Query
	for len(out) < cfg.N {
		var pool []string
		if rng.IntN(4) > 0 && cfg.Corpus != nil && cfg.CorpusLen > 0 {
			it := cfg.Corpus.Item(rng.IntN(cfg.CorpusLen))
			pool = words(it.Practice.Title + " " + it.Practice.Summary)
		} else {
			pool = vocab
		}
		if len(pool) < 2 {
			continue
		}
		n := 2 + rng.IntN(3)
		var ws []string
		for _, i := range rng.Perm(len(pool))[:min(n, len(pool))] {
			ws = append(ws, pool[i])
		}
		if rng.IntN(5) == 0 {
			i := rng.IntN(len(ws))
			ws[i] = misspell(rng, ws[i])
		}
		q := search.Query{Text: strings.Join(ws, " "), Audience: search.MembersAudience()}
		for range rng.IntN(3) {
			switch rng.IntN(4) {
			case 0:
				q.Subjects = []string{practices.SubjectCodes[rng.IntN(len(practices.SubjectCodes))]}
			case 1:
				q.GradeBands = []string{practices.GradeBands[1+rng.IntN(len(practices.GradeBands)-1)]}
			case 2:
				q.MinEvidence = practices.EvidenceLevels[1+rng.IntN(len(practices.EvidenceLevels)-1)]
			case 3:
				if len(cfg.Districts) > 0 {
					q.Districts = []string{cfg.Districts[rng.IntN(len(cfg.Districts))].ID}
				}
			}
		}
		k := fmt.Sprint(q.Values())
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, q)
	}
	return out
}

var stop = map[string]bool{}

func init() {
	for _, w := range search.StopWords {
		stop[w] = true
	}
}

func words(s string) []string {
	var out []string
	for _, w := range search.Words(s) {
		if len(w) >= 3 && !stop[w] && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// misspell swaps two neighbouring letters of a word of 5 letters or more, or drops one.
func misspell(rng *rand.Rand, w string) string {
	if len(w) < 5 {
		return w
	}
	b := []byte(w)
	i := 1 + rng.IntN(len(b)-2)
	if rng.IntN(2) == 0 {
		b[i], b[i+1] = b[i+1], b[i]
		return string(b)
	}
	return string(append(b[:i:i], b[i+1:]...))
}

// Stats are the figures of one load run.
type Stats struct {
	Clients  int
	Queries  int
	Errors   int
	Elapsed  time.Duration
	P50, P90 time.Duration
	P99, Max time.Duration
	QPS      float64
	MeanHits float64 // mean total hits per query
	// CPUPerQuery is the process's CPU time (user + system, every goroutine, the garbage collector
	// included) over the run divided by the queries: what a query costs, which other work on the
	// machine inflates far less than its latency. Zero where the platform does not report it.
	CPUPerQuery time.Duration
	// Slowest are the slowest queries of the run, slowest first (at most SlowestKept).
	Slowest []Slow
}

// Slow is one slow query of a run.
type Slow struct {
	Query   search.Query
	Latency time.Duration
	Hits    int
}

func (s Slow) String() string {
	return fmt.Sprintf("%8.2f ms %7d hits  %s", ms(s.Latency), s.Hits, s.Query.Values().Encode())
}

// SlowestKept is how many of the slowest queries a run keeps.
const SlowestKept = 10

// SlowestReport is the slowest queries as lines, for a benchmark's log.
func (s Stats) SlowestReport() string {
	var b strings.Builder
	for _, q := range s.Slowest {
		b.WriteString("\n    ")
		b.WriteString(q.String())
	}
	return b.String()
}

func (s Stats) String() string {
	return fmt.Sprintf("%d clients, %d queries: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms, %.0f queries/s, %.0f hits/query, %.3f ms CPU/query, %d errors",
		s.Clients, s.Queries, ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max), s.QPS, s.MeanHits, float64(s.CPUPerQuery.Nanoseconds())/1e6, s.Errors)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// RunFunc runs one query and returns its total hits.
type RunFunc func(ctx context.Context, q search.Query) (total int, err error)

// Direct runs queries against an index.
func Direct(idx search.Index) RunFunc {
	return func(ctx context.Context, q search.Query) (int, error) {
		r, err := idx.Search(ctx, q)
		return r.Total, err
	}
}

// Load runs total queries, taken round-robin from the mix, from clients concurrent clients, and
// measures each query's latency.
func Load(ctx context.Context, run RunFunc, mix []search.Query, clients, total int) Stats {
	lat := make([]time.Duration, total)
	nHits := make([]int, total)
	var next, errs, hits atomic.Int64
	var wg sync.WaitGroup
	cpu0 := processCPU()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(total) || ctx.Err() != nil {
					return
				}
				t := time.Now()
				n, err := run(ctx, mix[int(i)%len(mix)])
				lat[i] = time.Since(t)
				nHits[i] = n
				if err != nil {
					errs.Add(1)
				}
				hits.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	cpu := processCPU() - cpu0
	order := make([]int, total)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(lat[b], lat[a]) })
	var slowest []Slow
	for _, i := range order[:min(SlowestKept, total)] {
		slowest = append(slowest, Slow{Query: mix[i%len(mix)], Latency: lat[i], Hits: nHits[i]})
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return Stats{Clients: clients, Queries: total, Errors: int(errs.Load()), Elapsed: el,
		P50: pct(0.50), P90: pct(0.90), P99: pct(0.99), Max: lat[len(lat)-1],
		QPS: float64(total) / el.Seconds(), MeanHits: float64(hits.Load()) / float64(total),
		CPUPerQuery: cpu / time.Duration(total), Slowest: slowest}
}
