package bleve

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"

	"github.com/brightspots-nic/brightspots/search"
)

// Ranking.
//
// Matching runs on roaring bitmaps of bleve's postings: a query is an AND of clauses, a clause an OR
// of alternatives (the typed words, or a synonym term), an alternative an AND of words, and a word an
// OR of its dictionary terms in the body field (every text field in one: the exact word and its typo
// candidates). A clause no document has at all (a word beyond typo reach) is dropped. A question —
// five clauses or more, or four that no document matches entirely —
// is matched by the documents holding all but one of the most clauses any document holds (and at
// least half of them), and each
// score is scaled by the share of those clauses the document holds: a teacher's "how can I help my
// 3rd graders compare fractions" has words no practice uses, and the practices holding the most of
// the rest come first (Meilisearch's "words" ranking rule does the same).
//
// Scoring is BM25F over the text fields (fields.go): for each scored term, a document's term
// frequency in each field is length-normalised (b per field), weighted (title 3 … tags 0.8),
// summed, saturated (k1 = 1.2) and multiplied by the term's idf. Each typed word is scored exactly
// (×1); its typo candidates at ×0.3 (one edit) or ×0.15 (two edits) and the terms of a synonym at
// ×0.8, so an exact match always outscores the same match through a typo or a synonym. Term
// frequencies per field (up to 4) are read once per segment and term, packed into one word per
// document, and cached beside the postings (segmentFrequencies).
//
// Two adjustments follow, both multiplicative and bounded so that they reorder near-equal text
// matches and never lift a weak one over a strong one:
//
//   - evidence prior: ×(1 + 0.02 × evidence rank), at most +8 % for network-confirmed over
//     described. A practice whose words match in passing (one mention in the description, ~1/3 of a
//     title match's score) cannot pass a title match however strong its evidence.
//   - phrase credit (query.go): for a query of two or more words, the best candidates (rerankPool)
//     gain up to +30 % when consecutive query words are consecutive in the title or the standard
//     codes, +10 % in the summary.
const (
	k1            = 1.2
	weightTypo1   = 0.3
	weightTypo2   = 0.15
	weightSynonym = 0.8
	evidenceStep  = 0.02
	// flatIDF: a term whose idf is below this (held by more than ~60 % of documents) is scored on
	// the body alone.
	flatIDF = 0.5
)

type term struct {
	field, text string
}

// scoring is a term whose BM25F score, times w, is added to the documents holding it. A typo
// candidate is scored on the body field alone (term frequency 1, the body's length): typo matches
// are many (up to maxFuzzy per word) and weigh little, and per-field postings for each would
// multiply the cache by the number of fields.
type scoring struct {
	text   string
	w      float64
	fields bool
}

// word matches any of its body terms.
type word []string

// alt matches all of its words.
type alt []word

// clause matches any of its alternatives.
type clause []alt

// plan is the analyzed query text.
type plan struct {
	clauses []clause
	scores  []scoring
	matched map[string]bool   // lower-cased words that count as matches, for snippets
	phrase  []map[string]bool // the typed words in order, each with its accepted forms
}

func (p *plan) score(t string, w float64, fields bool) {
	for i := range p.scores {
		if p.scores[i].text == t {
			if w > p.scores[i].w {
				p.scores[i] = scoring{t, w, fields}
			}
			return
		}
	}
	p.scores = append(p.scores, scoring{t, w, fields})
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
				wd := word{t}
				forms := map[string]bool{t: true}
				p.matched[t] = true
				p.score(t, 1, true)
				if f := fuzziness(n); f > 0 && len(c.Alternatives) == 0 {
					cands, err := x.fuzzyTerms(snap, t, f)
					if err != nil {
						return p, err
					}
					for _, ct := range cands {
						wd = append(wd, ct.term)
						forms[ct.term] = true
						p.matched[ct.term] = true
						p.score(ct.term, typoWeight(ct.dist), false)
					}
				}
				typed = append(typed, wd)
				p.phrase = append(p.phrase, forms)
			}
		}
		if len(typed) > 0 {
			cl = append(cl, typed)
		}
		for _, syn := range c.Alternatives {
			var a alt
			for _, w := range syn {
				for _, t := range x.analyze(w) {
					a = append(a, word{t})
					p.matched[t] = true
					p.score(t, weightSynonym, true)
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

func typoWeight(dist int) float64 {
	if dist <= 1 {
		return weightTypo1
	}
	return weightTypo2
}

// termCache holds term postings: per segment in the segment's own document numbers (segments are
// immutable, so these survive writes), and per snapshot in global numbers (live documents only).
// Both are bounded in bytes (Config.CacheBytes).
type termCache struct {
	seg *boundedCache[segTerm, *postings]

	mu   sync.Mutex
	snap *scorch.IndexSnapshot // the latest snapshot seen; the global cache is emptied when it changes
	glob *boundedCache[snapTerm, *postings]
}

type snapTerm struct {
	snap *scorch.IndexSnapshot
	t    term
}

type segTerm struct {
	seg segment.Segment
	t   term
}

func newTermCache(budget int64) *termCache {
	size := (*postings).size
	return &termCache{seg: newBoundedCache[segTerm](budget*2/3, size), glob: newBoundedCache[snapTerm](budget/3, size)}
}

// segmentPostings reads the postings of t in seg: for the body field, the documents holding the
// term; for fieldTF, its packed per-field frequencies.
func segmentPostings(seg segment.Segment, t term) (*postings, error) {
	if t.field == fieldTF {
		return segmentFrequencies(seg, t.text)
	}
	pl, err := postingsList(seg, t.field, t.text)
	if err != nil || pl == nil {
		return emptyPostings, err
	}
	docs := roaring.New()
	it := pl.Iterator(false, false, false, nil)
	for {
		p, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("search/bleve: postings of %s: %w", t.text, err)
		}
		if p == nil {
			break
		}
		docs.Add(uint32(p.Number()))
	}
	docs.RunOptimize()
	layers := []*roaring.Bitmap{docs}
	return &postings{layers: layers}, nil
}

// postingsList is the postings of text in one field of seg, nil if none.
func postingsList(seg segment.Segment, field, text string) (segment.PostingsList, error) {
	d, err := seg.Dictionary(field)
	if err != nil {
		return nil, fmt.Errorf("search/bleve: dictionary %s: %w", field, err)
	}
	if d == nil {
		return nil, nil
	}
	pl, err := d.PostingsList([]byte(text), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("search/bleve: postings of %s: %w", text, err)
	}
	if pl == nil || pl.Count() == 0 {
		return nil, nil
	}
	return pl, nil
}

// fieldTF is the cache's pseudo-field for a term's packed per-field frequencies (segmentFrequencies);
// no bleve field has this name.
const fieldTF = "\x00tf"

// tfBits is the width of one field's term frequency in a packed word: frequencies are capped at
// maxLayers (4), as the layered bitmaps capped them.
const tfBits = 3

const _ = uint(32 - tfBits*maxTextFields) // compile-time check: the packed frequencies fit a uint32

// segmentFrequencies reads, for every document of seg holding text in its body, the term's
// frequency in each text field, min(frequency, maxLayers), packed tfBits per field in textFields
// order: postings.tfs[i] belongs to the i-th document of layers[0] (ascending). Scoring a term is
// then one pass over its documents instead of one per (field, frequency level).
func segmentFrequencies(seg segment.Segment, text string) (*postings, error) {
	body, err := segmentPostings(seg, term{fieldBody, text})
	if err != nil {
		return nil, err
	}
	docs := body.docs()
	nums := docs.ToArray()
	tfs := make([]uint32, len(nums))
	for fi := range textFields {
		pl, err := postingsList(seg, textFields[fi].name, text)
		if err != nil {
			return nil, err
		}
		if pl == nil {
			continue
		}
		it := pl.Iterator(true, false, false, nil)
		j := 0
		for {
			p, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("search/bleve: postings of %s: %w", text, err)
			}
			if p == nil {
				break
			}
			// A field's documents are among the body's (the body is every field), both ascending.
			n := uint32(p.Number())
			for j < len(nums) && nums[j] < n {
				j++
			}
			if j == len(nums) {
				break
			}
			if nums[j] == n {
				tfs[j] |= uint32(min(p.Frequency(), maxLayers)) << (tfBits * fi)
			}
		}
	}
	return &postings{layers: []*roaring.Bitmap{docs}, tfs: tfs}, nil
}

// local returns the postings of t in one segment, in the segment's numbers, from the cache.
func (b *termCache) local(seg segment.Segment, t term) (*postings, error) {
	k := segTerm{seg, t}
	if p, ok := b.seg.get(k); ok {
		return p, nil
	}
	p, err := segmentPostings(seg, t)
	if err != nil {
		return nil, err
	}
	b.seg.put(k, p)
	return p, nil
}

// get returns the global postings of t in snap. The result is shared: never modify it.
func (b *termCache) get(snap *scorch.IndexSnapshot, t term) (*postings, error) {
	b.mu.Lock()
	if b.snap != snap {
		b.snap = snap
		b.glob.reset()
	}
	b.mu.Unlock()
	gk := snapTerm{snap, t}
	if g, ok := b.glob.get(gk); ok {
		return g, nil
	}

	var parts [maxLayers][]*roaring.Bitmap
	var offset uint64
	for _, ss := range snap.Segments() {
		seg := ss.Segment()
		local, err := b.local(seg, t)
		if err != nil {
			return nil, err
		}
		del := ss.Deleted()
		for l, bm := range local.layers {
			part := bm
			if del != nil && !del.IsEmpty() && bm.Intersects(del) {
				part = roaring.AndNot(bm, del)
			}
			if offset > 0 && !part.IsEmpty() {
				part = roaring.AddOffset64(part, int64(offset))
			}
			if !part.IsEmpty() {
				parts[l] = append(parts[l], part)
			}
		}
		offset += seg.Count()
	}
	g := &postings{}
	for l := range parts {
		switch len(parts[l]) {
		case 0:
		case 1:
			g.layers = append(g.layers, parts[l][0])
		default:
			g.layers = append(g.layers, roaring.FastOr(parts[l]...))
		}
		if len(g.layers) <= l {
			break
		}
	}
	if len(g.layers) == 0 {
		g = emptyPostings
	}
	b.mu.Lock()
	same := b.snap == snap
	b.mu.Unlock()
	if same {
		b.glob.put(gk, g)
	}
	return g, nil
}

var (
	scorePool = sync.Pool{New: func() any { return new([]float32) }}
	countPool = sync.Pool{New: func() any { return new([]uint8) }}
	hitPool   = sync.Pool{New: func() any { return new(hitScratch) }}
)

// questionWords is the number of clauses from which a query is taken for a question: documents
// holding all but one of the most words any document holds match, scaled by the share they hold.
// From relaxWords clauses, a query no document matches entirely is taken for a question too;
// shorter ones then find nothing, as before (a two-word query with a word no practice has is
// more likely a typo beyond reach than a question).
const (
	questionWords = 5
	relaxWords    = 4
)

func scratch(n int) *[]float32 {
	sp := scorePool.Get().(*[]float32)
	if len(*sp) < n {
		*sp = make([]float32, grown(n))
	}
	return sp
}

// grown is the length to allocate for per-document scratch of n documents: an eighth more, because
// each write adds documents (a replaced one keeps its old number until a merge), and scratch sized
// exactly would be allocated again by the first query after every write.
func grown(n int) int { return n + n/8 + 64 }

// hitInfo is what scoring needs of a matching document, copied from its table row once by the
// filter pass into an array indexed by document number: the scoring passes then read a small dense
// array instead of the rows (~150 bytes each, in ordinal order), whose cache misses were a third of a
// broad query's time.
type hitInfo struct {
	lens [maxTextFields]uint16
	rank int8
}

// hitScratch is one query's per-document scratch, indexed by document number and pooled: the set of
// accepted documents as a bitset and their hitInfo. Only the entries of accepted documents are
// written (and read), so neither needs clearing beyond the bits set.
type hitScratch struct {
	set  []uint64
	info []hitInfo
	hits []uint32
}

func getHitScratch(n int) *hitScratch {
	h := hitPool.Get().(*hitScratch)
	if len(h.info) < n {
		h.info = make([]hitInfo, grown(n))
		h.set = make([]uint64, (len(h.info)+63)/64)
	}
	h.hits = h.hits[:0]
	return h
}

func (h *hitScratch) release() {
	for _, d := range h.hits {
		h.set[d>>6] = 0
	}
	if cap(h.hits) > 1<<16 {
		h.hits = nil // a rare very broad query does not keep its list
	}
	hitPool.Put(h)
}

func (h *hitScratch) has(d uint32) bool { return h.set[d>>6]&(1<<(d&63)) != 0 }

// smallShare: a term's documents are looked up one by one (rank in the term's postings) for each
// accepted document rather than scanned whole when the accepted documents are fewer than this
// share of them.
const smallShare = 16

// match evaluates the plan over snap. Every document matching the text is offered to accept (the
// query's filters and facet counts) once; the accepted ones are scored and passed to emit with their
// score. It returns how many were accepted. With emit nil nothing is scored (a count-only query).
//
// Filters run before scoring, so a filtered query scores only what it returns; and each scored term
// is one pass over its documents with their per-field frequencies packed in one word
// (segmentFrequencies), rather than one pass per (field, frequency level): the score of every
// document is bit-for-bit what the per-field passes computed (same float32 operations in the same
// order).
func (x *Index) match(ctx context.Context, snap *scorch.IndexSnapshot, p *plan, ords []int32,
	accept func(ord int32) bool, emit func(ord int32, score float64)) (int, error) {
	bodyDocs := func(t string) (*roaring.Bitmap, error) {
		pl, err := x.terms.get(snap, term{fieldBody, t})
		if err != nil {
			return nil, err
		}
		return pl.docs(), nil
	}
	cbs := make([]*roaring.Bitmap, 0, len(p.clauses))
	for _, cl := range p.clauses {
		var altBits []*roaring.Bitmap
		for _, a := range cl {
			var ab *roaring.Bitmap
			for _, w := range a {
				var wbs []*roaring.Bitmap
				for _, t := range w {
					bm, err := bodyDocs(t)
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
		cbs = append(cbs, cb)
	}
	var counts []uint8
	var most uint8
	result := roaring.New()
	if len(cbs) < questionWords {
		result = and(cbs)
		if result.IsEmpty() && len(cbs) > 1 && len(cbs) < relaxWords {
			// A word no document has (beyond typo reach) is dropped rather than emptying the result.
			known := slices.DeleteFunc(slices.Clone(cbs), (*roaring.Bitmap).IsEmpty)
			if len(known) > 0 && len(known) < len(cbs) {
				result = and(known)
			}
		}
	}
	if result.IsEmpty() && len(cbs) >= relaxWords {
		cp := countPool.Get().(*[]uint8)
		if len(*cp) < len(ords) {
			*cp = make([]uint8, grown(len(ords)))
		}
		counts = (*cp)[:len(ords)]
		defer func() {
			clear(counts)
			countPool.Put(cp)
		}()
		result, most = relax(cbs, counts)
	}
	if result.IsEmpty() {
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	// The filter pass: the one read of each matching document's row.
	rows := x.tbl.rows
	hs := getHitScratch(len(ords))
	defer hs.release()
	buf := make([]uint32, 256)
	it := result.ManyIterator()
	for k := it.NextMany(buf); k > 0; k = it.NextMany(buf) {
		for _, d := range buf[:k] {
			if int(d) >= len(ords) {
				continue
			}
			o := ords[d]
			if o < 0 || !accept(o) {
				continue
			}
			r := &rows[o]
			hs.info[d] = hitInfo{lens: r.lens, rank: r.rank}
			hs.set[d>>6] |= 1 << (d & 63)
			hs.hits = append(hs.hits, d)
		}
	}
	hits, info := hs.hits, hs.info
	if len(hits) == 0 || emit == nil {
		return len(hits), nil
	}

	sp := scratch(len(ords))
	defer scorePool.Put(sp)
	scores := (*sp)[:len(ords)]
	total := float64(x.tbl.live)
	var invAvg [maxTextFields]float32
	for i := range textFields {
		invAvg[i] = float32(1 / x.tbl.avgLen(i))
	}
	var hitBits *roaring.Bitmap // the accepted documents as a bitmap, made when first needed
	bodyB, bodyInvAvg := float32(0.75), float32(1/x.tbl.avgBody())
	segs := snap.Segments()
	for _, s := range p.scores {
		docs, err := bodyDocs(s.text)
		if err != nil {
			return 0, err
		}
		df := float64(docs.GetCardinality())
		if df == 0 {
			continue
		}
		idf := math.Log(1 + (total-df+0.5)/(df+0.5))
		c := float32(s.w * idf * (k1 + 1))
		if !s.fields || idf < flatIDF {
			// Body only, term frequency 1: typo candidates, and words most documents hold (their
			// idf is too small for their frequencies to matter).
			if hitBits == nil {
				hitBits = roaring.New()
				hitBits.AddMany(hits)
			}
			both := roaring.And(hitBits, docs)
			bit := both.ManyIterator()
			for k := bit.NextMany(buf); k > 0; k = bit.NextMany(buf) {
				for _, d := range buf[:k] {
					bodyLen := 0
					for _, l := range info[d].lens {
						bodyLen += int(l)
					}
					a := 1 / (1 - bodyB + bodyB*float32(bodyLen)*bodyInvAvg)
					scores[d] += c * a / (k1 + a)
				}
			}
			continue
		}
		// BM25F: the field frequencies of each accepted document holding the term, from the
		// packed per-segment frequencies. The document's weighted, length-normalised frequencies
		// are summed field by field and level by level, as the per-field bitmaps summed them.
		score := func(d uint32, packed uint32) {
			lens := &info[d].lens
			var a float32
			for fi := range textFields {
				tf := (packed >> (tfBits * fi)) & (1<<tfBits - 1)
				if tf == 0 {
					continue
				}
				f := &textFields[fi]
				w, b := float32(f.weight), float32(f.b)
				for range tf {
					a += w / (1 - b + b*float32(lens[fi])*invAvg[fi])
				}
			}
			scores[d] += c * a / (k1 + a)
		}
		var offset uint64
		few := uint64(len(hits))*smallShare < uint64(df)
		lo := 0 // hits[lo:] are at or after this segment's first number
		for _, ss := range segs {
			seg := ss.Segment()
			end := offset + seg.Count()
			hi := lo
			for hi < len(hits) && uint64(hits[hi]) < end {
				hi++
			}
			if hi > lo {
				tp, err := x.terms.local(seg, term{fieldTF, s.text})
				if err != nil {
					return 0, err
				}
				local := tp.docs()
				if few {
					for _, d := range hits[lo:hi] {
						n := uint32(uint64(d) - offset)
						if local.Contains(n) {
							score(d, tp.tfs[local.Rank(n)-1])
						}
					}
				} else {
					i := 0
					lit := local.ManyIterator()
					for k := lit.NextMany(buf); k > 0; k = lit.NextMany(buf) {
						for _, n := range buf[:k] {
							if d := uint64(n) + offset; d < uint64(len(ords)) && hs.has(uint32(d)) {
								score(uint32(d), tp.tfs[i])
							}
							i++
						}
					}
				}
			}
			lo = hi
			offset = end
		}
	}

	for _, d := range hits {
		sc := scores[d]
		scores[d] = 0
		sc *= 1 + evidenceStep*float32(info[d].rank)
		if counts != nil {
			sc *= float32(counts[d]) / float32(most)
		}
		emit(ords[d], float64(sc))
	}
	return len(hits), nil
}

func and(bms []*roaring.Bitmap) *roaring.Bitmap {
	if len(bms) == 0 {
		return roaring.New()
	}
	r := bms[0]
	for _, b := range bms[1:] {
		r = roaring.And(r, b)
		if r.IsEmpty() {
			break
		}
	}
	return r
}

// relax is the match of a question: documents holding all but one of the most clauses any document
// holds, and at least half of them, with how many each holds (counts, indexed by document number).
func relax(cbs []*roaring.Bitmap, counts []uint8) (*roaring.Bitmap, uint8) {
	buf := make([]uint32, 256)
	most := uint8(0)
	for _, cb := range cbs {
		it := cb.ManyIterator()
		for k := it.NextMany(buf); k > 0; k = it.NextMany(buf) {
			for _, d := range buf[:k] {
				if int(d) < len(counts) {
					counts[d]++
					most = max(most, counts[d])
				}
			}
		}
	}
	// All but one of the most any document holds, and at least half of the clauses: four words
	// that never meet do not turn into "any of them".
	least := max(1, most-1, uint8((len(cbs)+1)/2))
	r := roaring.New()
	for _, cb := range cbs {
		it := cb.ManyIterator()
		for k := it.NextMany(buf); k > 0; k = it.NextMany(buf) {
			for _, d := range buf[:k] {
				if int(d) < len(counts) && counts[d] >= least {
					r.Add(d)
				}
			}
		}
	}
	return r, most
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
