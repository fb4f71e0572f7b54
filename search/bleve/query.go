package bleve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"

	"github.com/brightspots-nic/brightspots/search"
)

// Scoring weights.
const (
	boostTitle   = 3.0
	boostBody    = 1.0
	boostFuzzy   = 0.4 // a typo match counts less than an exact one
	boostSynonym = 0.8
	maxFuzzy     = 8 // fuzzy candidates kept per word, nearest and most frequent first
)

// snapMap maps the global document numbers of one bleve snapshot to table ordinals (-1: none).
type snapMap struct {
	snap *scorch.IndexSnapshot
	ords []int32
}

// ordinals returns the number → ordinal map of snap, building the maps of segments it has not seen.
// Caller holds mu (read).
func (x *Index) ordinals(snap *scorch.IndexSnapshot) []int32 {
	x.mapMu.Lock()
	defer x.mapMu.Unlock()
	if x.cur != nil && x.cur.snap == snap {
		return x.cur.ords
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
	x.cur = &snapMap{snap: snap, ords: ords}
	return ords
}

// plan is the analyzed query text.
type plan struct {
	q       query.Query     // nil: no text to match (empty, or only stop words)
	matched map[string]bool // analyzed terms that count as a match, for snippets
}

func (x *Index) analyze(word string) []string {
	var out []string
	for _, t := range x.analyzer.Analyze([]byte(word)) {
		out = append(out, string(t.Term))
	}
	return out
}

// fuzziness is the edit distance allowed for a typed word of n characters (Meilisearch's defaults).
func fuzziness(n int) int {
	switch {
	case n >= 9:
		return 2
	case n >= 5:
		return 1
	}
	return 0
}

func (x *Index) plan(snap *scorch.IndexSnapshot, text string) (plan, error) {
	p := plan{matched: map[string]bool{}}
	words := search.Words(text)
	if len(words) == 0 {
		return p, nil
	}
	var conj []query.Query
	for _, c := range x.syn.Expand(words) {
		var alts []query.Query
		typed, err := x.typedQuery(snap, c.Words, len(c.Alternatives) > 0, p.matched)
		if err != nil {
			return p, err
		}
		if typed != nil {
			alts = append(alts, typed)
		}
		for _, alt := range c.Alternatives {
			if aq := x.exactQuery(alt, boostSynonym, p.matched); aq != nil {
				alts = append(alts, aq)
			}
		}
		switch len(alts) {
		case 0: // only stop words
		case 1:
			conj = append(conj, alts[0])
		default:
			conj = append(conj, query.NewDisjunctionQuery(alts))
		}
	}
	switch len(conj) {
	case 0:
	case 1:
		p.q = conj[0]
	default:
		p.q = query.NewConjunctionQuery(conj)
	}
	return p, nil
}

func termQuery(field, term string, boost float64) query.Query {
	q := query.NewTermQuery(term)
	q.SetField(field)
	q.SetBoost(boost)
	return q
}

// exactQuery matches all of words (analyzed), each in title or body, without typo tolerance.
func (x *Index) exactQuery(words []string, boost float64, matched map[string]bool) query.Query {
	var conj []query.Query
	for _, w := range words {
		for _, t := range x.analyze(w) {
			matched[t] = true
			conj = append(conj, query.NewDisjunctionQuery([]query.Query{
				termQuery(fieldTitle, t, boost*boostTitle), termQuery(fieldBody, t, boost*boostBody)}))
		}
	}
	switch len(conj) {
	case 0:
		return nil
	case 1:
		return conj[0]
	}
	return query.NewConjunctionQuery(conj)
}

// typedQuery matches the words as typed: each word exactly in title or body, or within its typo
// budget in body. A multi-word synonym term is matched exactly.
func (x *Index) typedQuery(snap *scorch.IndexSnapshot, words []string, isSynonym bool, matched map[string]bool) (query.Query, error) {
	if len(words) > 1 && isSynonym {
		return x.exactQuery(words, 1, matched), nil
	}
	var conj []query.Query
	for _, w := range words {
		n := utf8.RuneCountInString(w)
		for _, t := range x.analyze(w) {
			matched[t] = true
			alts := []query.Query{termQuery(fieldTitle, t, boostTitle), termQuery(fieldBody, t, boostBody)}
			if f := fuzziness(n); f > 0 && !isSynonym {
				cands, err := fuzzyTerms(snap, t, f)
				if err != nil {
					return nil, err
				}
				for _, c := range cands {
					matched[c] = true
					alts = append(alts, termQuery(fieldBody, c, boostFuzzy))
				}
			}
			conj = append(conj, query.NewDisjunctionQuery(alts))
		}
	}
	switch len(conj) {
	case 0:
		return nil, nil
	case 1:
		return conj[0], nil
	}
	return query.NewConjunctionQuery(conj), nil
}

// fuzzyTerms returns the body terms within f edits of term (other than term), sharing its first
// character, nearest and most frequent first, at most maxFuzzy.
func fuzzyTerms(snap *scorch.IndexSnapshot, term string, f int) ([]string, error) {
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
	out := make([]string, 0, min(len(ents), maxFuzzy))
	for i := 0; i < len(ents) && i < maxFuzzy; i++ {
		out = append(out, ents[i].Term)
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
	top := newTopK(k, x.less(order))
	c := &counts{districts: make([]int, len(x.tbl.districts.vals))}
	total := 0
	rows := x.tbl.rows

	switch {
	case f.empty:
	case p.q == nil:
		for o := range rows {
			r := &rows[o]
			if !f.match(r) {
				continue
			}
			total++
			c.add(r)
			top.push(cand{ord: int32(o)})
		}
	default:
		ords := x.ordinals(snap)
		total, err = x.collect(ctx, snap, p.q, ords, func(o int32, score float64) bool {
			r := &rows[o]
			if !f.match(r) {
				return false
			}
			c.add(r)
			top.push(cand{ord: o, score: score})
			return true
		})
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
	for i := q.Offset(); i < len(sorted); i++ {
		res.Hits = append(res.Hits, x.hit(&rows[sorted[i].ord], sorted[i].score, p.matched))
	}
	res.TookMS = time.Since(start).Milliseconds()
	return res, nil
}

// collect runs the bleve query over snap and calls fn for every live match; it returns how many
// matches fn accepted.
func (x *Index) collect(ctx context.Context, snap *scorch.IndexSnapshot, q query.Query, ords []int32,
	fn func(ord int32, score float64) bool) (int, error) {
	sctx := context.WithValue(ctx, bsearch.GetScoringModelCallbackKey,
		bsearch.GetScoringModelCallbackFn(func() string { return index.DefaultScoringModel }))
	s, err := q.Searcher(sctx, snap, x.idx.Mapping(), bsearch.SearcherOptions{})
	if err != nil {
		return 0, fmt.Errorf("search/bleve: build searcher: %w", err)
	}
	defer s.Close()
	mctx := &bsearch.SearchContext{
		DocumentMatchPool: bsearch.NewDocumentMatchPool(s.DocumentMatchPoolSize()+1, 0),
		IndexReader:       snap,
	}
	n := 0
	for i := 0; ; i++ {
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		dm, err := s.Next(mctx)
		if err != nil {
			return 0, fmt.Errorf("search/bleve: match: %w", err)
		}
		if dm == nil {
			break
		}
		num := dm.IndexInternalID.Value()
		score := dm.Score
		mctx.DocumentMatchPool.Put(dm)
		if num >= uint64(len(ords)) {
			return 0, errors.New("search/bleve: document number outside the snapshot")
		}
		if o := ords[num]; o >= 0 && fn(o, score) {
			n++
		}
	}
	return n, nil
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
		DistrictCount: d.DistrictCount, UpdatedAt: d.UpdatedAt, Score: score,
	}
	match := func(w string) bool { return matched[w] }
	h.TitleHTML = search.HighlightWords(d.Title, match)
	h.SummaryHTML = search.HighlightWords(d.Summary, match)
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
