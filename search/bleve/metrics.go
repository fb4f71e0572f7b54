package bleve

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Every cache of the index is bounded (Config.CacheBytes, fuzzyCacheBytes) and reported as metrics,
// labelled by cache: "segment_postings" (term postings per index segment; they survive writes),
// "snapshot_postings" (the same per snapshot, in global document numbers; emptied by each write),
// "typo_candidates" (a word's dictionary terms within its typo distance; emptied by each write).
// The per-segment maps from bleve's document numbers to table rows are not a cache: they hold
// one entry per document of the live segments.
var (
	descEntries = prometheus.NewDesc("brightspots_search_cache_entries", "Entries in a search index cache.", []string{"cache"}, nil)
	descBytes   = prometheus.NewDesc("brightspots_search_cache_bytes", "Approximate heap held by a search index cache.", []string{"cache"}, nil)
	descBudget  = prometheus.NewDesc("brightspots_search_cache_budget_bytes", "The bound of a search index cache.", []string{"cache"}, nil)
	descHits    = prometheus.NewDesc("brightspots_search_cache_hits_total", "Lookups a search index cache answered.", []string{"cache"}, nil)
	descMisses  = prometheus.NewDesc("brightspots_search_cache_misses_total", "Lookups a search index cache could not answer.", []string{"cache"}, nil)
	descEvicted = prometheus.NewDesc("brightspots_search_cache_evictions_total", "Entries dropped from a search index cache (bound reached, or a write).", []string{"cache"}, nil)
)

var _ prometheus.Collector = (*Index)(nil)

// Describe implements prometheus.Collector.
func (x *Index) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEntries, descBytes, descBudget, descHits, descMisses, descEvicted} {
		ch <- d
	}
	x.wait.Describe(ch)
}

// Collect implements prometheus.Collector.
func (x *Index) Collect(ch chan<- prometheus.Metric) {
	for name, s := range x.CacheStats() {
		ch <- prometheus.MustNewConstMetric(descEntries, prometheus.GaugeValue, float64(s.Entries), name)
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(s.Bytes), name)
		ch <- prometheus.MustNewConstMetric(descBudget, prometheus.GaugeValue, float64(s.Budget), name)
		ch <- prometheus.MustNewConstMetric(descHits, prometheus.CounterValue, float64(s.Hits), name)
		ch <- prometheus.MustNewConstMetric(descMisses, prometheus.CounterValue, float64(s.Misses), name)
		ch <- prometheus.MustNewConstMetric(descEvicted, prometheus.CounterValue, float64(s.Evictions), name)
	}
	x.wait.Collect(ch)
}

// CacheStats reports each cache of the index by name (see Collect).
func (x *Index) CacheStats() map[string]CacheStats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return map[string]CacheStats{
		"segment_postings":  x.terms.seg.stats(),
		"snapshot_postings": x.terms.glob.stats(),
		"typo_candidates":   x.fuzzy.stats(),
	}
}
