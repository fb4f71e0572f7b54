package bleve

import (
	"context"
	"fmt"

	blv "github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/brightspots-nic/brightspots/search"
)

// BM25Baseline runs text through bleve's own query path with its BM25 scoring, on this index, and
// returns the record ids of the best k documents. It is the baseline the relevance benchmark
// (search/relevance) measures our ranking against, not a search path of the server: a match query
// per text field (the same fields and weights as our ranking, as boosts), each with bleve's
// automatic fuzziness and the first character fixed as ours, any word matching, OR-ed. It knows
// nothing of synonyms, the evidence prior or visibility.
func (x *Index) BM25Baseline(ctx context.Context, text string, k int) ([]string, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return nil, search.ErrClosed
	}
	var qs []query.Query
	for _, f := range textFields {
		m := query.NewMatchQuery(text)
		m.SetField(f.name)
		m.SetAutoFuzziness(true)
		m.SetPrefix(1)
		m.SetBoost(f.weight)
		qs = append(qs, m)
	}
	req := blv.NewSearchRequestOptions(query.NewDisjunctionQuery(qs), k, 0, false)
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search/bleve: baseline: %w", err)
	}
	out := make([]string, 0, len(res.Hits))
	for _, h := range res.Hits {
		if o, ok := x.tbl.ids[h.ID]; ok && x.tbl.rows[o].live {
			out = append(out, x.tbl.rows[o].doc.RecordID)
		}
	}
	return out, nil
}
