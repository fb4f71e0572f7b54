package bleve

import (
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
)

// postings are a term's postings as queries read them: the documents holding it in the body
// (layers[0]: which documents hold it anywhere), and for the pseudo-field fieldTF also its packed
// per-field frequencies (tfs). (Before the packed frequencies, scoring read one bitmap per field and
// frequency level: layers[i] held the documents with more than i occurrences.)
type postings struct {
	layers []*roaring.Bitmap
	// tfs, for the pseudo-field fieldTF only: the term's frequency in each text field of each
	// document of layers[0], in its ascending order (segmentFrequencies).
	tfs []uint32
}

const maxLayers = 4

var emptyPostings = &postings{layers: []*roaring.Bitmap{roaring.New()}}

func (p *postings) docs() *roaring.Bitmap { return p.layers[0] }

func (p *postings) size() int64 {
	n := int64(64)
	for _, l := range p.layers {
		n += int64(l.GetSizeInBytes()) + 48
	}
	return n + 4*int64(len(p.tfs))
}

// boundedCache maps keys to postings within a byte budget, with two generations instead of an LRU
// list: entries go to the current generation; when it holds half the budget it becomes the old one
// and the previous old one is dropped. A hit in the old generation moves the entry to the current.
// So the cache never holds more than the budget (plus the entries being read), lookups are one or
// two map reads, and what is used keeps surviving.
type boundedCache[K comparable, V any] struct {
	mu       sync.Mutex
	budget   int64
	sizeOf   func(V) int64
	cur, old map[K]V
	curBytes int64
	oldBytes int64

	hits, misses, evicted atomic.Int64
}

func newBoundedCache[K comparable, V any](budget int64, sizeOf func(V) int64) *boundedCache[K, V] {
	return &boundedCache[K, V]{budget: budget, sizeOf: sizeOf, cur: map[K]V{}, old: map[K]V{}}
}

func (c *boundedCache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.cur[k]; ok {
		c.hits.Add(1)
		return p, true
	}
	if p, ok := c.old[k]; ok {
		c.hits.Add(1)
		delete(c.old, k)
		c.oldBytes -= c.sizeOf(p)
		c.putLocked(k, p)
		return p, true
	}
	c.misses.Add(1)
	var zero V
	return zero, false
}

func (c *boundedCache[K, V]) put(k K, p V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.cur[k]; ok {
		return
	}
	c.putLocked(k, p)
}

func (c *boundedCache[K, V]) putLocked(k K, p V) {
	c.cur[k] = p
	c.curBytes += c.sizeOf(p)
	if c.curBytes >= c.budget/2 {
		c.evicted.Add(int64(len(c.old)))
		c.old, c.oldBytes = c.cur, c.curBytes
		c.cur, c.curBytes = make(map[K]V, len(c.old)), 0
	}
}

// reset drops every entry (counted as evicted).
func (c *boundedCache[K, V]) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evicted.Add(int64(len(c.cur) + len(c.old)))
	c.cur, c.old = map[K]V{}, map[K]V{}
	c.curBytes, c.oldBytes = 0, 0
}

// CacheStats describes one cache of the index.
type CacheStats struct {
	Entries   int
	Bytes     int64 // approximate heap held by the entries
	Budget    int64
	Hits      int64
	Misses    int64
	Evictions int64
}

func (c *boundedCache[K, V]) stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: len(c.cur) + len(c.old), Bytes: c.curBytes + c.oldBytes, Budget: c.budget,
		Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evicted.Load()}
}
