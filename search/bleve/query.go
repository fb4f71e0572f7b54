package bleve

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"

	"github.com/brightspots-nic/brightspots/search"
)

// maxFuzzy is the most typo candidates kept per word, nearest and most frequent first.
const maxFuzzy = 8

// snapMap maps the global document numbers of one bleve snapshot to table ordinals (-1: none).
type snapMap struct {
	snap *scorch.IndexSnapshot
	ords []int32
}

// ordinals returns the number → ordinal map of snap, building the maps of segments it has not seen.
// Caller holds mu (read). Every query asks, so the common case (snap is the latest snapshot, already
// mapped) reads an atomic pointer and takes no lock.
func (x *Index) ordinals(snap *scorch.IndexSnapshot) []int32 {
	if c := x.cur.Load(); c != nil && c.snap == snap {
		return c.ords
	}
	x.mapMu.Lock()
	defer x.mapMu.Unlock()
	if c := x.cur.Load(); c != nil && c.snap == snap {
		return c.ords
	}
	segs := snap.Segments()
	total := 0
	for _, ss := range segs {
		total += int(ss.Segment().Count())
	}
	ords := make([]int32, 0, total)
	next := make(map[segment.Segment][]int32, len(segs))
	for _, ss := range segs {
		seg := ss.Segment()
		m, ok := x.segs[seg]
		if !ok {
			m = make([]int32, seg.Count())
			for n := range m {
				m[n] = -1
				id, err := seg.DocID(uint64(n))
				if err != nil || id == nil {
					continue
				}
				if o, ok := x.tbl.ids[string(id)]; ok {
					m[n] = o
				}
			}
		}
		next[seg] = m
		ords = append(ords, m...)
	}
	x.segs = next
	x.cur.Store(&snapMap{snap: snap, ords: ords})
	return ords
}

type fuzzyCand struct {
	term string
	dist int
}

// fuzzyTerms returns the body terms within f edits of term (other than term), sharing its first
// character, nearest and most frequent first, at most maxFuzzy.
func (x *Index) fuzzyTerms(snap *scorch.IndexSnapshot, term string, f int) ([]fuzzyCand, error) {
	x.fuzzyMu.Lock()
	if x.fuzzySnap != snap {
		// Entries of other snapshots would never be read again, and would keep them reachable.
		x.fuzzySnap = snap
		x.fuzzy.reset()
	}
	x.fuzzyMu.Unlock()
	k := fuzzyKey{snap, term, f}
	if c, ok := x.fuzzy.get(k); ok {
		return c, nil
	}
	c, err := fuzzyTermsOf(snap, term, f)
	if err == nil {
		x.fuzzy.put(k, c)
	}
	return c, err
}

// fuzzyKey keys the typo candidates of a word in one snapshot (a write may add candidates).
type fuzzyKey struct {
	snap *scorch.IndexSnapshot
	word string
	f    int
}

func fuzzySize(c []fuzzyCand) int64 {
	n := int64(96)
	for _, x := range c {
		n += int64(len(x.term)) + 32
	}
	return n
}

// fuzzyCacheBytes bounds the typo candidate cache: building a word's Levenshtein automaton costs
// more than the rest of a typical query.
const fuzzyCacheBytes = 4 << 20

func fuzzyTermsOf(snap *scorch.IndexSnapshot, term string, f int) ([]fuzzyCand, error) {
	r, size := utf8.DecodeRuneInString(term)
	if r == utf8.RuneError {
		return nil, nil
	}
	d, err := snap.FieldDictFuzzy(fieldBody, term, f, term[:size])
	if err != nil {
		return nil, fmt.Errorf("search/bleve: fuzzy terms: %w", err)
	}
	defer d.Close()
	var ents []index.DictEntry
	for {
		e, err := d.Next()
		if err != nil {
			return nil, fmt.Errorf("search/bleve: fuzzy terms: %w", err)
		}
		if e == nil {
			break
		}
		if e.Term != term {
			ents = append(ents, *e)
		}
	}
	slices.SortFunc(ents, func(a, b index.DictEntry) int {
		if c := cmp.Compare(a.EditDistance, b.EditDistance); c != 0 {
			return c
		}
		return cmp.Compare(b.Count, a.Count)
	})
	out := make([]fuzzyCand, 0, min(len(ents), maxFuzzy))
	for i := 0; i < len(ents) && i < maxFuzzy; i++ {
		out = append(out, fuzzyCand{ents[i].Term, int(ents[i].EditDistance)})
	}
	return out, nil
}

// cand is a hit candidate: a table ordinal and its score.
type cand struct {
	ord   int32
	score float64
}

// Search implements search.Index.
func (x *Index) Search(ctx context.Context, q search.Query) (search.Result, error) {
	start := time.Now()
	if err := q.Validate(); err != nil {
		return search.Result{}, err
	}
	// Take a turn before anything else, so a waiting search holds no lock and no snapshot.
	select {
	case x.slots <- struct{}{}:
	case <-ctx.Done():
		return search.Result{}, ctx.Err()
	}
	defer func() { <-x.slots }()
	x.wait.Observe(time.Since(start).Seconds())
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return search.Result{}, search.ErrClosed
	}
	snap, err := x.snapshot()
	if err != nil {
		return search.Result{}, err
	}
	defer snap.Close()

	p, err := x.plan(snap, q.Text)
	if err != nil {
		return search.Result{}, err
	}
	f := x.tbl.compile(&q)
	order := q.SortOrder()
	k := q.Offset() + q.Limit()
	rerank := order == search.SortRelevance && len(p.phrase) >= 2
	pool := k
	if rerank {
		pool = max(k, rerankPool)
	}
	top := newTopK(pool, x.less(order))
	c := &counts{districts: make([]int, len(x.tbl.districts.vals))}
	total := 0
	rows := x.tbl.rows

	switch {
	case f.empty:
	case len(p.clauses) == 0:
		for o := range rows {
			r := &rows[o]
			if !f.match(r) {
				continue
			}
			total++
			c.add(r)
			if !q.CountOnly {
				top.push(cand{ord: int32(o)})
			}
		}
	default:
		ords := x.ordinals(snap)
		emit := func(o int32, score float64) { top.push(cand{ord: o, score: score}) }
		if q.CountOnly {
			emit = nil // the total and the facets are counted in the filter pass; nothing to score
		}
		total, err = x.match(ctx, snap, &p, ords, func(o int32) bool {
			r := &rows[o]
			if !f.match(r) {
				return false
			}
			c.add(r)
			return true
		}, emit)
		if err != nil {
			return search.Result{}, err
		}
	}

	res := search.Result{
		Hits:    []search.Hit{},
		Facets:  x.tbl.facets(c),
		Total:   total,
		Page:    q.PageNumber(),
		PerPage: q.Limit(),
	}
	sorted := top.sorted()
	if rerank {
		sorted = x.rerank(sorted, &p, x.less(order))
	}
	for i := q.Offset(); i < len(sorted) && i < k; i++ {
		res.Hits = append(res.Hits, x.hit(&rows[sorted[i].ord], sorted[i].score, p.matched))
	}
	res.TookMS = time.Since(start).Milliseconds()
	return res, nil
}

// less orders candidates best first for a sort order. Ties fall back to newest, then document id.
func (x *Index) less(order search.Sort) func(a, b cand) bool {
	rows := x.tbl.rows
	tie := func(a, b cand) bool {
		ra, rb := &rows[a.ord], &rows[b.ord]
		if ra.updated != rb.updated {
			return ra.updated > rb.updated
		}
		return ra.doc.ID < rb.doc.ID
	}
	switch order {
	case search.SortNewest:
		return tie
	case search.SortEffect:
		return func(a, b cand) bool {
			ea, eb := rows[a.ord].effect, rows[b.ord].effect
			switch na, nb := math.IsNaN(ea), math.IsNaN(eb); {
			case na != nb:
				return nb
			case !na && ea != eb:
				return ea > eb
			case a.score != b.score:
				return a.score > b.score
			}
			return tie(a, b)
		}
	}
	return func(a, b cand) bool {
		if a.score != b.score {
			return a.score > b.score
		}
		return tie(a, b)
	}
}

func (x *Index) hit(r *row, score float64, matched map[string]bool) search.Hit {
	d := r.doc
	h := search.Hit{
		ID: d.ID, Kind: d.Kind, RecordID: d.RecordID, URI: d.URI, Origin: d.Origin, District: d.District,
		Title: d.Title, Summary: d.Summary, Subjects: d.Subjects, GradeLevels: d.GradeLevels,
		EvidenceLevel: d.EvidenceLevel, PooledEffect: d.PooledEffect, TestCount: d.TestCount,
		PooledTests: d.PooledTests, PooledFamily: d.PooledFamily,
		DistrictCount: d.DistrictCount, UpdatedAt: d.UpdatedAt, Score: score,
	}
	match := func(w string) bool { return matched[w] }
	h.TitleHTML = search.HighlightWords(d.Title, match)
	h.SummaryHTML = search.HighlightWords(d.Summary, match)
	h.LearningHTML = search.LearningSnippet(d.Learnings, match)
	return h
}

// topK keeps the k best candidates in a binary heap whose root is the worst kept.
type topK struct {
	k    int
	less func(a, b cand) bool
	h    []cand
}

func newTopK(k int, less func(a, b cand) bool) *topK {
	return &topK{k: k, less: less, h: make([]cand, 0, min(k, 1024))}
}

func (t *topK) push(c cand) {
	if len(t.h) < t.k {
		t.h = append(t.h, c)
		// sift up: parent must be worse than child (root = worst)
		i := len(t.h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !t.less(t.h[p], t.h[i]) {
				break
			}
			t.h[p], t.h[i] = t.h[i], t.h[p]
			i = p
		}
		return
	}
	if !t.less(c, t.h[0]) {
		return
	}
	t.h[0] = c
	i := 0
	for {
		l, r, w := 2*i+1, 2*i+2, i
		if l < len(t.h) && t.less(t.h[w], t.h[l]) {
			w = l
		}
		if r < len(t.h) && t.less(t.h[w], t.h[r]) {
			w = r
		}
		if w == i {
			return
		}
		t.h[i], t.h[w] = t.h[w], t.h[i]
		i = w
	}
}

func (t *topK) sorted() []cand {
	out := slices.Clone(t.h)
	slices.SortFunc(out, func(a, b cand) int {
		switch {
		case t.less(a, b):
			return -1
		case t.less(b, a):
			return 1
		}
		return 0
	})
	return out
}
