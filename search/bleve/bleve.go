// Package bleve is the embedded search backend: a bleve v2 (scorch) index under the data folder, the
// default when no Meilisearch is configured.
//
// bleve keeps the text: analysis, the term dictionaries (with their Levenshtein automata for typo
// tolerance), the postings, persistence. Query evaluation runs on roaring bitmaps of those postings
// (match.go): each term's postings become bitmaps once per immutable index segment and are cached,
// so a query is a few bitmap ANDs and ORs, one filter pass over the matches and one pass per scored
// term over the matches that passed (see "What a query costs" below). Everything after the match — the visibility and other filters,
// the four facet counts, sorting by relevance, date or effect, paging, snippets — runs over a table
// of small integers kept in memory beside bleve (table.go). bleve's own searchers, facets and sorts
// read postings and doc values hit by hit, which is what made a broad query with three facets take a
// third of a second on 100,000 documents; see BENCHMARKS.md for the figures before and after.
//
// Ranking (match.go, rerank.go) is BM25F over the document's text fields (fields.go: title, summary,
// key moves, description, standard codes, tags — one line each, with its weight and length
// normalisation), typo candidates and synonyms weighted below exact words, phrase credit for the best
// candidates, and a bounded evidence prior. It is measured against bleve's own BM25 query path on the
// same index by the judged query set of search/relevance (BENCHMARKS.md, "Search relevance").
//
// Why bitmaps and not bleve's searchers for scoring: bleve's BM25 path (BM25Baseline, kept for the
// benchmark) scores hit by hit through its searchers, which is the cost the bitmaps removed; and the
// ranking we want (per-field BM25F with field weights, typo and synonym weights, an evidence prior,
// matching a question by most of its words) is not what its match query scores. The price is a
// dependency on scorch's segment API (IndexSnapshot.Segments, a segment's dictionary and postings,
// its deleted documents): per-segment caching is what makes a query right after a write cheap (only
// the new, small segment is read), and bleve's public IndexReader has no per-segment view. Upgrading
// bleve therefore means re-running this package's tests and benchmarks; the code touching scorch is
// confined to match.go (postings per segment), query.go (document numbers to rows, typo candidates)
// and load in this file.
//
// What a query costs, and why it is laid out this way (issue 17). On 2 cores, the p99 of 16 clients
// is set by the CPU of the broadest queries of the mix (tens of thousands of matches): the others
// queue behind them. So the work per match is kept to a few passes over dense arrays:
//
//  1. Matching: bitmap ANDs and ORs of the cached body postings (per segment, then per snapshot in
//     global numbers).
//  2. One filter pass over the matches, in document order: the one read of each match's table row
//     (its first cache line holds everything this pass needs, table.go) applies the filters, counts
//     the facets and the total, and copies the field lengths and evidence rank into a dense array by
//     document number. Only what passes is scored: a query filtered to one district scores a twelfth
//     of what it matched.
//  3. One scoring pass per scored term over its documents that passed. A term's frequencies in the
//     seven fields are read once per segment, packed three bits per field into one word per document
//     (segmentFrequencies; capped at 4, where BM25's saturation makes more matter little), and cached
//     beside the postings; a document's BM25F term score is then a handful of multiply-adds. The pass
//     walks the term's postings against a bitset of the accepted documents, or, when those are few
//     against the term's postings, looks each one up by rank. Before this, each scored term was one
//     bitmap AND and pass per (field, frequency level) over every text match, filtered or not, each
//     reading the row: ~30 passes for a three-word query. Scores are bit-for-bit what that computed.
//  4. One pass over the accepted documents applies the evidence prior and keeps the best in a bounded
//     heap; phrase credit re-ranks the best 50.
//
// Not done: bounding the scored set of a broad query (WAND or max-score). Every match of an AND
// query holds every query word, so a per-term bound (its idf) does not separate candidates; only the
// per-field frequencies do, and reading them is the pass itself. (Reasoned, not measured.)
//
// Searches take turns. At most Config.Concurrency searches (default: one per core) evaluate at once;
// the others wait on a channel, first come first served, holding no lock or snapshot. Without the
// turns, 16 concurrent searches on 2 cores were all runnable at once and Go's scheduler shared the
// cores in 10 ms slices: a 1 ms query that lost its core mid-way waited for the slices of the other
// runnable searches, ~70 ms, so about one query in ten paid that and the p99 of 16 clients at
// 100,000 practices was 130–170 ms with a p50 under 1 ms. With turns each search runs to the end
// once started and waits only for the queue ahead of it: p99 15–20 ms for the same load and 10 %
// more throughput (BENCHMARKS.md, "Searches take turns"). The wait is the metric
// brightspots_search_wait_seconds.
//
// Caches are bounded (Config.CacheBytes, default DefaultCacheBytes, plus 4 MB of typo candidates) and
// reported as metrics (metrics.go). Each is two generations (cache.go), so it keeps without
// thrashing a working set of up to half its bound: the segment postings, two thirds of
// Config.CacheBytes, hold the packed frequencies of every (segment, term) the queries read — 28 MB
// for the benchmark mix at 100,000 practices. At the former 48 MB default that working set did not
// fit and 2–3 lookups per query missed and re-read their frequencies from bleve (a sixth of the CPU).
//
// The bleve mapping indexes each text field on its own (for BM25F) and all of them again as "body"
// (what a query word must match somewhere, and the dictionary typo candidates come from), with a
// Unicode tokenizer, lower-casing and search.StopWords — no stemming, no term vectors, no doc values
// — and stores one field: the document's JSON, from which the table is rebuilt when the index is
// opened. Typo tolerance expands each query word of 5 characters or more to the dictionary terms
// within 1 edit (2 from 9 characters; a swap of two letters is one edit), with the first character
// fixed, as Meilisearch does.
package bleve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	blv "github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	tokenmap "github.com/blevesearch/bleve/v2/analysis/tokenmap"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/brightspots-nic/brightspots/search"
)

// Config configures the embedded index.
type Config struct {
	// Dir is the index folder, created if missing (conventionally {data}/search).
	Dir string
	// Synonyms expand query words; nil uses search.DefaultSynonyms().
	Synonyms *search.Synonyms
	Logger   *slog.Logger
	// CacheBytes bounds the memory of the term postings cache (default DefaultCacheBytes): two thirds
	// for per-segment postings, which survive writes, one third for the current snapshot's.
	CacheBytes int64
	// Concurrency is how many searches evaluate at once (default runtime.GOMAXPROCS(0)); the rest
	// wait their turn in arrival order. See "Searches take turns" in the package doc.
	Concurrency int
}

// DefaultCacheBytes is the default bound of the term postings cache (node config search.cache_mb). At
// 100,000 practices the benchmark mix's working set is 28 MB of segment postings and 5 MB of
// snapshot postings, which fits in half of each part (see the package doc).
const DefaultCacheBytes = 96 << 20

// mappingVersion changes whenever the bleve mapping or the stored document changes; an index of
// another version is rebuilt empty (the indexer then replays the log, see InstanceID).
const mappingVersion = "brightspots-search-3" // 3: a learnings field (what teams learned testing a practice)

var (
	keyVersion  = []byte("brightspots:mapping")
	keyInstance = []byte("brightspots:instance")
)

const (
	fieldBody = "body"
	fieldSrc  = "src"
)

// Index is the embedded search index.
type Index struct {
	cfg      Config
	log      *slog.Logger
	syn      *search.Synonyms
	analyzer analysis.Analyzer

	writeMu sync.Mutex // serializes writers

	mu       sync.RWMutex // guards idx, tbl, closed
	idx      blv.Index
	tbl      *table
	instance string
	closed   bool
	lock     *os.File // held while open, see lockDir

	mapMu sync.Mutex
	cur   atomic.Pointer[snapMap] // the latest snapshot's map: read without mapMu, written under it
	segs  map[segment.Segment][]int32
	terms *termCache
	fuzzy *boundedCache[fuzzyKey, []fuzzyCand]

	fuzzyMu   sync.Mutex
	fuzzySnap *scorch.IndexSnapshot

	// slots admits Config.Concurrency searches at a time; a waiting search is queued on the channel,
	// and a channel's blocked senders are served first come, first served.
	slots chan struct{}
	wait  prometheus.Histogram
}

var _ search.Index = (*Index)(nil)

// Open opens or creates the index in cfg.Dir and loads its table.
func Open(cfg Config) (*Index, error) {
	if cfg.Dir == "" {
		return nil, errors.New("search/bleve: Config.Dir is required")
	}
	x := &Index{cfg: cfg, log: cfg.Logger, syn: cfg.Synonyms, segs: map[segment.Segment][]int32{}}
	conc := cfg.Concurrency
	if conc <= 0 {
		conc = runtime.GOMAXPROCS(0)
	}
	x.slots = make(chan struct{}, conc)
	x.wait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "brightspots_search_wait_seconds",
		Help:    "Time a search waited for its turn to run (Config.Concurrency searches run at once).",
		Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1},
	})
	if x.log == nil {
		x.log = slog.New(slog.DiscardHandler)
	}
	if x.syn == nil {
		x.syn = search.DefaultSynonyms()
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	x.lock = lock
	if err := x.open(); err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	return x, nil
}

// textAnalyzer splits on Unicode word boundaries, lower-cases and drops search.StopWords. No stemming:
// typo tolerance covers plurals, as in Meilisearch, so both backends find the same documents.
const textAnalyzer = "brightspots_text"

func newMapping() (*mapping.IndexMappingImpl, error) {
	im := mapping.NewIndexMapping()
	stops := make([]any, len(search.StopWords))
	for i, w := range search.StopWords {
		stops[i] = w
	}
	if err := im.AddCustomTokenMap("brightspots_stop_words", map[string]any{"type": tokenmap.Name, "tokens": stops}); err != nil {
		return nil, err
	}
	if err := im.AddCustomTokenFilter("brightspots_stop", map[string]any{"type": stop.Name, "stop_token_map": "brightspots_stop_words"}); err != nil {
		return nil, err
	}
	if err := im.AddCustomAnalyzer(textAnalyzer, map[string]any{"type": custom.Name, "tokenizer": unicode.Name,
		"token_filters": []any{lowercase.Name, "brightspots_stop"}}); err != nil {
		return nil, err
	}
	text := func() *mapping.FieldMapping {
		f := mapping.NewTextFieldMapping()
		f.Analyzer = textAnalyzer
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	src := mapping.NewTextFieldMapping()
	src.Analyzer = keyword.Name
	src.Index = false
	src.Store = true
	src.IncludeTermVectors = false
	src.IncludeInAll = false
	src.DocValues = false

	dm := mapping.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(fieldBody, text())
	for _, f := range textFields {
		dm.AddFieldMappingsAt(f.name, text())
	}
	dm.AddFieldMappingsAt(fieldSrc, src)

	im.DefaultMapping = dm
	im.DefaultAnalyzer = textAnalyzer
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	// Our ranking does not use bleve's scorer; the BM25 model is for BM25Baseline, bleve's own query
	// path that the relevance benchmark compares against.
	im.ScoringModel = index.BM25Scoring
	return im, nil
}

// open opens or creates the bleve index and loads the table. Caller holds mu (or is Open).
func (x *Index) open() error {
	dir := x.cfg.Dir
	var idx blv.Index
	var err error
	if _, statErr := os.Stat(filepath.Join(dir, "index_meta.json")); statErr == nil {
		idx, err = blv.Open(dir)
		if err != nil {
			return fmt.Errorf("search/bleve: open %s: %w", dir, err)
		}
		v, err := idx.GetInternal(keyVersion)
		if err != nil || string(v) != mappingVersion {
			x.log.Warn("search/bleve: index has another mapping version; recreating it empty", "dir", dir, "version", string(v))
			idx.Close()
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("search/bleve: remove old index %s: %w", dir, err)
			}
			idx = nil
		}
	}
	if idx == nil {
		if err := os.MkdirAll(filepath.Dir(filepath.Clean(dir)), 0o755); err != nil {
			return fmt.Errorf("search/bleve: create %s: %w", dir, err)
		}
		im, err := newMapping()
		if err != nil {
			return fmt.Errorf("search/bleve: mapping: %w", err)
		}
		idx, err = blv.NewUsing(dir, im, scorch.Name, scorch.Name, nil)
		if err != nil {
			return fmt.Errorf("search/bleve: create %s: %w", dir, err)
		}
		var id [16]byte
		_, _ = rand.Read(id[:])
		b := idx.NewBatch()
		b.SetInternal(keyVersion, []byte(mappingVersion))
		b.SetInternal(keyInstance, []byte(hex.EncodeToString(id[:])))
		if err := idx.Batch(b); err != nil {
			idx.Close()
			return fmt.Errorf("search/bleve: initialize %s: %w", dir, err)
		}
	}
	inst, err := idx.GetInternal(keyInstance)
	if err != nil {
		idx.Close()
		return fmt.Errorf("search/bleve: read instance id: %w", err)
	}
	x.idx = idx
	x.instance = string(inst)
	x.analyzer = idx.Mapping().AnalyzerNamed(textAnalyzer)
	if x.analyzer == nil {
		idx.Close()
		return errors.New("search/bleve: text analyzer missing from the index mapping")
	}
	x.tbl = newTable()
	x.cur.Store(nil)
	x.segs = map[segment.Segment][]int32{}
	budget := x.cfg.CacheBytes
	if budget <= 0 {
		budget = DefaultCacheBytes
	}
	x.terms = newTermCache(budget)
	x.fuzzy = newBoundedCache[fuzzyKey](fuzzyCacheBytes, fuzzySize)
	if err := x.load(); err != nil {
		idx.Close()
		return err
	}
	return nil
}

// load rebuilds the table from the stored documents, and with it the map from each segment's
// document numbers to rows (see ordinals): built here, from the documents being read anyway, the
// first query after a start does not build it (a read of every document's id) while every query
// behind it waits.
func (x *Index) load() error {
	snap, err := x.snapshot()
	if err != nil {
		return err
	}
	defer snap.Close()
	x.mapMu.Lock()
	defer x.mapMu.Unlock()
	for _, ss := range snap.Segments() {
		seg := ss.Segment()
		deleted := ss.Deleted()
		ords := make([]int32, seg.Count())
		for n := uint64(0); n < seg.Count(); n++ {
			ords[n] = -1
			if deleted != nil && deleted.Contains(uint32(n)) {
				continue
			}
			var src []byte
			err := ss.VisitDocument(n, func(field string, _ byte, value []byte, _ []uint64) bool {
				if field == fieldSrc {
					src = append([]byte(nil), value...)
					return false
				}
				return true
			})
			if err != nil {
				return fmt.Errorf("search/bleve: load document %d: %w", n, err)
			}
			if src == nil {
				continue
			}
			var d search.Document
			if err := json.Unmarshal(src, &d); err != nil {
				return fmt.Errorf("search/bleve: decode stored document: %w", err)
			}
			x.tbl.put(&d)
			ords[n] = x.tbl.ids[d.ID]
		}
		x.segs[seg] = ords
	}
	return nil
}

func (x *Index) snapshot() (*scorch.IndexSnapshot, error) {
	adv, err := x.idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("search/bleve: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("search/bleve: reader: %w", err)
	}
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		r.Close()
		return nil, fmt.Errorf("search/bleve: unexpected index reader %T", r)
	}
	return snap, nil
}

// InstanceID identifies this index's contents: it changes when the index is created anew, so the
// indexer knows to replay the change log instead of trusting its cursor (search.Instancer).
func (x *Index) InstanceID(context.Context) (string, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return "", search.ErrClosed
	}
	return x.instance, nil
}

// Len returns the number of documents in the index.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.tbl.live
}

// body is every text field in one: what a query word must match (in any field) and the dictionary
// typo candidates come from.
func body(d *search.Document) string {
	var b strings.Builder
	for _, f := range textFields {
		if t := f.text(d); t != "" {
			b.WriteString(t)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Upsert implements search.Index.
func (x *Index) Upsert(ctx context.Context, docs []search.Document) error {
	for i := range docs {
		if docs[i].ID == "" {
			return errors.New("search/bleve: upsert: document without id")
		}
	}
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	b := x.idx.NewBatch()
	for i := range docs {
		d := &docs[i]
		src, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("search/bleve: encode document %s: %w", d.ID, err)
		}
		fields := make(map[string]any, len(textFields)+2)
		for _, f := range textFields {
			fields[f.name] = f.text(d)
		}
		fields[fieldBody] = body(d)
		fields[fieldSrc] = string(src)
		if err := b.Index(d.ID, fields); err != nil {
			return fmt.Errorf("search/bleve: index document %s: %w", d.ID, err)
		}
	}
	// The table learns the ids first, so any bleve snapshot holding them maps them to a row.
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return search.ErrClosed
	}
	for i := range docs {
		x.tbl.put(&docs[i])
	}
	x.mu.Unlock()
	if err := x.idx.Batch(b); err != nil {
		return fmt.Errorf("search/bleve: upsert %d documents: %w", len(docs), err)
	}
	return nil
}

// Delete implements search.Index.
func (x *Index) Delete(ctx context.Context, ids []string) error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return search.ErrClosed
	}
	for _, id := range ids {
		x.tbl.remove(id)
	}
	x.mu.Unlock()
	b := x.idx.NewBatch()
	for _, id := range ids {
		b.Delete(id)
	}
	if err := x.idx.Batch(b); err != nil {
		return fmt.Errorf("search/bleve: delete %d documents: %w", len(ids), err)
	}
	return nil
}

// Clear implements search.Index: the index is recreated empty, with a new instance id.
func (x *Index) Clear(ctx context.Context) error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return search.ErrClosed
	}
	if err := x.idx.Close(); err != nil {
		return fmt.Errorf("search/bleve: clear: close: %w", err)
	}
	if err := os.RemoveAll(x.cfg.Dir); err != nil {
		return fmt.Errorf("search/bleve: clear: remove %s: %w", x.cfg.Dir, err)
	}
	if err := x.open(); err != nil {
		x.closed = true
		return fmt.Errorf("search/bleve: clear: %w", err)
	}
	return nil
}

// Close implements search.Index.
func (x *Index) Close() error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	if x.lock != nil {
		defer x.lock.Close()
	}
	if err := x.idx.Close(); err != nil {
		return fmt.Errorf("search/bleve: close: %w", err)
	}
	return nil
}
