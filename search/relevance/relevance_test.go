package relevance_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/brightspots-nic/brightspots/practices/corpus"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/search/bleve"
	"github.com/brightspots-nic/brightspots/search/relevance"
	"github.com/brightspots-nic/brightspots/search/searchtest"
)

// corpusSize is the judged corpus: practices/corpus, seed 2026, 12 districts, items 0 … 9,999 (the
// first tenth of the speed benchmark's corpus).
const corpusSize = 10000

func generate() []corpus.Item {
	return corpus.New(corpus.Config{Seed: 2026, Districts: corpus.Districts(12)}).Generate(corpusSize)
}

func load(tb testing.TB) []relevance.Query {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", "judgments.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	qs, err := relevance.Parse(f)
	if err != nil {
		tb.Fatalf("judgments.txt: %v", err)
	}
	return qs
}

// The judged set is what the benchmark claims: at least 100 queries, every kind present, and every
// query has practices in the corpus worth showing (a rule that matches nothing is a typo in the file).
func TestJudgments(t *testing.T) {
	qs := load(t)
	if len(qs) < 100 {
		t.Fatalf("%d judged queries, want at least 100", len(qs))
	}
	kinds := map[string]int{}
	for _, q := range qs {
		kinds[q.Kind]++
	}
	for _, k := range relevance.Kinds {
		if kinds[k] == 0 {
			t.Errorf("no query of kind %s", k)
		}
	}
	items := generate()
	for _, j := range relevance.Judge(qs, items, true) {
		if j.Best() < 2 {
			t.Errorf("line %d %q: best grade in the corpus is %d, want at least 2", j.Line, j.Text, j.Best())
		}
	}
}

func TestMetrics(t *testing.T) {
	j := relevance.Judge([]relevance.Query{{Text: "x", Kind: "topic", Rules: []relevance.Rule{{Grade: 3,
		Conds: []relevance.Cond{{Key: "topic", Vals: []string{"t3"}}}}, {Grade: 1, Conds: []relevance.Cond{{Key: "topic", Vals: []string{"t1"}}}}}}},
		[]corpus.Item{item("a", "t3"), item("b", "t1"), item("c", "t0")}, true)[0]
	if got := j.NDCG([]string{"a", "b", "c"}, 10); got != 1 {
		t.Errorf("ideal ranking: nDCG %v, want 1", got)
	}
	if got := j.NDCG([]string{"c", "b", "a"}, 10); got <= 0 || got >= 1 {
		t.Errorf("reversed ranking: nDCG %v, want between 0 and 1", got)
	}
	if got := j.NDCG([]string{"c"}, 10); got != 0 {
		t.Errorf("nothing relevant: nDCG %v, want 0", got)
	}
	if got := j.RR([]string{"c", "b", "a"}); got != 1.0/3 {
		t.Errorf("best at rank 3: RR %v, want 1/3", got)
	}
}

func item(id, topic string) corpus.Item {
	var it corpus.Item
	it.Practice.ID = id
	it.Topic = topic
	return it
}

// Report is the relevance of both rankings over the judged set.
type report struct {
	ours, base map[string][2]float64 // kind ("all", "misspelled" …) → mean nDCG@10, MRR
	text       map[string][2]float64 // kind → mean nDCG@10 with text-only judgments: ours, baseline
	perQuery   []string
}

var (
	built     *bleve.Index
	judged    []relevance.Judged // with evidence
	textOnly  []relevance.Judged // without
	buildOnce sync.Once
	buildDir  string
)

func index(tb testing.TB) (*bleve.Index, []relevance.Judged, []relevance.Judged) {
	buildOnce.Do(func() {
		items := generate()
		qs := load(tb)
		judged = relevance.Judge(qs, items, true)
		textOnly = relevance.Judge(qs, items, false)
		var err error
		buildDir, err = os.MkdirTemp("", "brightspots-relevance-*")
		if err != nil {
			tb.Fatal(err)
		}
		built, err = bleve.Open(bleve.Config{Dir: filepath.Join(buildDir, "search")})
		if err != nil {
			tb.Fatal(err)
		}
		docs := searchtest.Documents(items)
		for i := 0; i < len(docs); i += 1000 {
			if err := built.Upsert(context.Background(), docs[i:min(i+1000, len(docs))]); err != nil {
				tb.Fatal(err)
			}
		}
	})
	if built == nil {
		tb.Fatal("index not built")
	}
	return built, judged, textOnly
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built != nil {
		built.Close()
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func measure(tb testing.TB) report {
	idx, js, tjs := index(tb)
	ctx := context.Background()
	sums := map[string]*[5]float64{} // kind → ours nDCG, ours RR, base nDCG, base RR, n
	add := func(kind string, v [4]float64) {
		s := sums[kind]
		if s == nil {
			s = new([5]float64)
			sums[kind] = s
		}
		for i := range v {
			s[i] += v[i]
		}
		s[4]++
	}
	var rep report
	textSums := map[string]*[3]float64{}
	addText := func(kind string, v [2]float64) {
		s := textSums[kind]
		if s == nil {
			s = new([3]float64)
			textSums[kind] = s
		}
		s[0] += v[0]
		s[1] += v[1]
		s[2]++
	}
	for i := range js {
		j := &js[i]
		res, err := idx.Search(ctx, search.Query{Text: j.Text, Audience: search.MembersAudience(), PerPage: 10})
		if err != nil {
			tb.Fatalf("%q: %v", j.Text, err)
		}
		var ours []string
		for _, h := range res.Hits {
			ours = append(ours, h.RecordID)
		}
		base, err := idx.BM25Baseline(ctx, j.Text, 10)
		if err != nil {
			tb.Fatalf("%q: baseline: %v", j.Text, err)
		}
		v := [4]float64{j.NDCG(ours, 10), j.RR(ours), j.NDCG(base, 10), j.RR(base)}
		tv := [2]float64{tjs[i].NDCG(ours, 10), tjs[i].NDCG(base, 10)}
		addText("all", tv)
		addText(j.Kind, tv)
		add("all", v)
		add(j.Kind, v)
		rep.perQuery = append(rep.perQuery, fmt.Sprintf("%-14s %-60q ours %.3f / %.3f  bm25 %.3f / %.3f", j.Kind, j.Text, v[0], v[1], v[2], v[3]))
	}
	rep.ours, rep.base, rep.text = map[string][2]float64{}, map[string][2]float64{}, map[string][2]float64{}
	for k, s := range textSums {
		rep.text[k] = [2]float64{s[0] / s[2], s[1] / s[2]}
	}
	for k, s := range sums {
		rep.ours[k] = [2]float64{s[0] / s[4], s[1] / s[4]}
		rep.base[k] = [2]float64{s[2] / s[4], s[3] / s[4]}
	}
	return rep
}

func (r report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %8s %8s %6s %8s %8s | %s\n", "kind", "nDCG@10", "bm25", "ratio", "MRR", "bm25", "text-only nDCG@10: ours, bm25, ratio")
	kinds := append([]string{"all"}, relevance.Kinds...)
	for _, k := range kinds {
		o, bs, tx := r.ours[k], r.base[k], r.text[k]
		fmt.Fprintf(&b, "%-16s %8.3f %8.3f %5.2fx %8.3f %8.3f | %.3f %.3f %.2fx\n", k, o[0], bs[0], o[0]/bs[0], o[1], bs[1], tx[0], tx[1], tx[0]/tx[1])
	}
	return b.String()
}

// Our ranking must beat bleve's BM25 path on the judged set by the margins issue 17 set: 1.10× in
// nDCG@10 overall and 1.25× on misspelled queries. Deterministic (same corpus, same index): a
// ranking change that loses relevance fails here.
func TestRankingBeatsBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes 10,000 practices")
	}
	rep := measure(t)
	t.Logf("\n%s", rep)
	if o, b := rep.ours["all"][0], rep.base["all"][0]; o < 1.10*b {
		t.Errorf("nDCG@10 %.3f, want at least 1.10 × the baseline's %.3f", o, b)
	}
	if o, b := rep.ours["misspelled"][0], rep.base["misspelled"][0]; o < 1.25*b {
		t.Errorf("misspelled nDCG@10 %.3f, want at least 1.25 × the baseline's %.3f", o, b)
	}
	if t.Failed() || testing.Verbose() {
		lines := append([]string(nil), rep.perQuery...)
		sort.Strings(lines)
		t.Logf("per query (nDCG@10 / RR):\n%s", strings.Join(lines, "\n"))
	}
}

// BenchmarkRelevance reports nDCG@10 and MRR of both rankings, overall and on misspelled queries.
//
//	go test ./search/relevance -run '^$' -bench Relevance -benchtime 1x
func BenchmarkRelevance(b *testing.B) {
	var rep report
	for range b.N {
		rep = measure(b)
	}
	b.ReportMetric(rep.ours["all"][0], "nDCG@10")
	b.ReportMetric(rep.base["all"][0], "bm25-nDCG@10")
	b.ReportMetric(rep.ours["all"][1], "MRR")
	b.ReportMetric(rep.base["all"][1], "bm25-MRR")
	b.ReportMetric(rep.ours["misspelled"][0], "misspelled-nDCG@10")
	b.ReportMetric(rep.base["misspelled"][0], "misspelled-bm25-nDCG@10")
	b.ReportMetric(rep.text["all"][0], "text-only-nDCG@10")
	b.ReportMetric(rep.text["all"][1], "text-only-bm25-nDCG@10")
	b.Logf("\n%s", rep)
}
