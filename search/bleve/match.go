package bleve

import (
	"context"
	"fmt"
	"math"
	"sync"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"

	"github.com/brightspots-nic/brightspots/search"
)

// Matching runs on roaring bitmaps of bleve's postings rather than on bleve's searchers: a query is
// an AND of clauses, a clause an OR of alternatives (the typed words, or a synonym term), an
// alternative an AND of words, and a word an OR of its dictionary terms (exact and typo
// candidates). Each term's postings become a bitmap once per index segment (segments are
// immutable) and are cached; a query combines cached bitmaps, then adds each matched term's weight
// to the score of the documents it holds. The score is a sum of inverse document frequencies —
// three times for a word of the title (the title weight adds to the body's), 0.4× for a typo candidate, 0.8× for a synonym — without term
// frequency or length normalization; ties go to the newest.

// Weights of a matched term, times its idf.
const (
	weightBody    = 1.0
	weightTitle   = 2.0 // added on top of body for a title match
	weightFuzzy   = 0.4
	weightSynonym = 0.8
	maxCachedSeg  = 50000 // term bitmaps cached per segment before the cache is dropped
)

type term struct {
	field, text string
}

// scoring is a term whose documents get weight × idf added to their score.
type scoring struct {
	t term
	w float64
}

// word matches any of its terms.
type word []term

// alt matches all of its words.
type alt []word

// clause matches any of its alternatives.
type clause []alt

// plan is the analyzed query text.
type plan struct {
	clauses []clause
	scores  []scoring
	matched map[string]bool // lower-cased words that count as matches, for snippets
}

func (x *Index) plan(snap *scorch.IndexSnapshot, text string) (plan, error) {
	p := plan{matched: map[string]bool{}}
	for _, c := range x.syn.Expand(search.Words(text)) {
		var cl clause
		// The words as typed; a multi-word synonym term is matched without typos.
		var typed alt
		for _, w := range c.Words {
			n := utf8.RuneCountInString(w)
			for _, t := range x.analyze(w) {
				wd := word{{fieldBody, t}}
				p.matched[t] = true
				p.scores = append(p.scores, scoring{term{fieldBody, t}, weightBody}, scoring{term{fieldTitle, t}, weightTitle})
				if f := fuzziness(n); f > 0 && len(c.Alternatives) == 0 {
					cands, err := fuzzyTerms(snap, t, f)
					if err != nil {
						return p, err
					}
					for _, ct := range cands {
						wd = append(wd, term{fieldBody, ct})
						p.matched[ct] = true
						p.scores = append(p.scores, scoring{term{fieldBody, ct}, weightFuzzy})
					}
				}
				typed = append(typed, wd)
			}
		}
		if len(typed) > 0 {
			cl = append(cl, typed)
		}
		for _, syn := range c.Alternatives {
			var a alt
			for _, w := range syn {
				for _, t := range x.analyze(w) {
					a = append(a, word{{fieldBody, t}})
					p.matched[t] = true
					p.scores = append(p.scores, scoring{term{fieldBody, t}, weightSynonym})
				}
			}
			if len(a) > 0 {
				cl = append(cl, a)
			}
		}
		if len(cl) > 0 {
			p.clauses = append(p.clauses, cl)
		}
	}
	return p, nil
}

// bits caches term bitmaps: per segment in the segment's own document numbers, and per snapshot in
// global numbers (live documents only).
type termCache struct {
	mu   sync.Mutex
	seg  map[segment.Segment]map[term]*roaring.Bitmap
	snap *scorch.IndexSnapshot
	glob map[term]*roaring.Bitmap
}

func newTermCache() *termCache {
	return &termCache{seg: map[segment.Segment]map[term]*roaring.Bitmap{}}
}

func segmentBits(seg segment.Segment, t term) (*roaring.Bitmap, error) {
	bm := roaring.New()
	d, err := seg.Dictionary(t.field)
	if err != nil {
		return nil, fmt.Errorf("search/bleve: dictionary %s: %w", t.field, err)
	}
	if d == nil {
		return bm, nil
	}
	pl, err := d.PostingsList([]byte(t.text), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("search/bleve: postings of %s: %w", t.text, err)
	}
	if pl == nil {
		return bm, nil
	}
	it := pl.Iterator(false, false, false, nil)
	for {
		p, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("search/bleve: postings of %s: %w", t.text, err)
		}
		if p == nil {
			break
		}
		bm.Add(uint32(p.Number()))
	}
	bm.RunOptimize()
	return bm, nil
}

// get returns the global bitmap of t in snap. The result is shared: never modify it.
func (b *termCache) get(snap *scorch.IndexSnapshot, t term) (*roaring.Bitmap, error) {
	b.mu.Lock()
	if b.snap != snap {
		b.snap, b.glob = snap, map[term]*roaring.Bitmap{}
		live := make(map[segment.Segment]map[term]*roaring.Bitmap, len(snap.Segments()))
		for _, ss := range snap.Segments() {
			if m, ok := b.seg[ss.Segment()]; ok {
				live[ss.Segment()] = m
			}
		}
		b.seg = live
	}
	if g, ok := b.glob[t]; ok {
		b.mu.Unlock()
		return g, nil
	}
	b.mu.Unlock()

	var parts []*roaring.Bitmap
	var offset uint64
	for _, ss := range snap.Segments() {
		seg := ss.Segment()
		b.mu.Lock()
		m := b.seg[seg]
		if m == nil || len(m) > maxCachedSeg {
			m = map[term]*roaring.Bitmap{}
			b.seg[seg] = m
		}
		local, ok := m[t]
		b.mu.Unlock()
		if !ok {
			var err error
			if local, err = segmentBits(seg, t); err != nil {
				return nil, err
			}
			b.mu.Lock()
			m[t] = local
			b.mu.Unlock()
		}
		part := local
		if del := ss.Deleted(); del != nil && !del.IsEmpty() && local.Intersects(del) {
			part = roaring.AndNot(local, del)
		}
		if offset > 0 && !part.IsEmpty() {
			part = roaring.AddOffset64(part, int64(offset))
		}
		if !part.IsEmpty() {
			parts = append(parts, part)
		}
		offset += seg.Count()
	}
	var g *roaring.Bitmap
	switch len(parts) {
	case 0:
		g = roaring.New()
	case 1:
		g = parts[0]
	default:
		g = roaring.FastOr(parts...)
	}
	b.mu.Lock()
	if b.snap == snap {
		b.glob[t] = g
	}
	b.mu.Unlock()
	return g, nil
}

var scorePool = sync.Pool{New: func() any { return new([]float32) }}

// match evaluates the plan over snap and calls fn for every matching document with its score; it
// returns how many matches fn accepted.
func (x *Index) match(ctx context.Context, snap *scorch.IndexSnapshot, p *plan, ords []int32,
	fn func(ord int32, score float64) bool) (int, error) {
	get := func(t term) (*roaring.Bitmap, error) { return x.terms.get(snap, t) }
	var result *roaring.Bitmap
	for _, cl := range p.clauses {
		var altBits []*roaring.Bitmap
		for _, a := range cl {
			var ab *roaring.Bitmap
			for _, w := range a {
				var wbs []*roaring.Bitmap
				for _, t := range w {
					bm, err := get(t)
					if err != nil {
						return 0, err
					}
					wbs = append(wbs, bm)
				}
				wb := wbs[0]
				if len(wbs) > 1 {
					wb = roaring.FastOr(wbs...)
				}
				if ab == nil {
					ab = wb
				} else {
					ab = roaring.And(ab, wb)
				}
			}
			altBits = append(altBits, ab)
		}
		cb := altBits[0]
		if len(altBits) > 1 {
			cb = roaring.FastOr(altBits...)
		}
		if result == nil {
			result = cb
		} else {
			result = roaring.And(result, cb)
		}
		if result.IsEmpty() {
			return 0, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	sp := scorePool.Get().(*[]float32)
	defer scorePool.Put(sp)
	if len(*sp) < len(ords) {
		*sp = make([]float32, len(ords))
	}
	scores := (*sp)[:len(ords)]
	n := float64(result.GetCardinality())
	total := float64(x.tbl.live)
	buf := make([]uint32, 256)
	for _, s := range p.scores {
		bm, err := get(s.t)
		if err != nil {
			return 0, err
		}
		df := float64(bm.GetCardinality())
		if df == 0 {
			continue
		}
		w := float32(s.w * math.Log(1+total/df))
		hits := bm
		if df > n {
			hits = roaring.And(bm, result)
		} else {
			hits = roaring.And(result, bm)
		}
		it := hits.ManyIterator()
		for k := it.NextMany(buf); k > 0; k = it.NextMany(buf) {
			for _, d := range buf[:k] {
				scores[d] += w
			}
		}
	}

	accepted := 0
	it := result.ManyIterator()
	for k := it.NextMany(buf); k > 0; k = it.NextMany(buf) {
		for _, d := range buf[:k] {
			sc := scores[d]
			scores[d] = 0
			if int(d) >= len(ords) {
				continue
			}
			if o := ords[d]; o >= 0 && fn(o, float64(sc)) {
				accepted++
			}
		}
	}
	return accepted, nil
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
