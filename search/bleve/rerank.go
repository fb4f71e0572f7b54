package bleve

import (
	"slices"
	"strings"
)

// Phrase credit, applied to the best rerankPool candidates of a relevance-sorted query of two or
// more words: the share of consecutive query-word pairs that are consecutive in a field (stop words
// skipped), times the field's credit. Only the title, the summary and the standard codes are kept
// in memory, so only they give credit; the description and key moves are matched and scored but
// not checked for phrases.
const (
	rerankPool      = 100
	phraseTitle     = 0.30
	phraseStandards = 0.30
	phraseSummary   = 0.10
)

func (x *Index) rerank(c []cand, p *plan, less func(a, b cand) bool) []cand {
	rows := x.tbl.rows
	for i := range c {
		d := rows[c[i].ord].doc
		credit := phraseTitle*pairShare(d.Title, p.phrase) + phraseSummary*pairShare(d.Summary, p.phrase)
		if len(d.Standards) > 0 {
			credit += phraseStandards * pairShare(strings.Join(d.Standards, " "), p.phrase)
		}
		c[i].score *= 1 + credit
	}
	slices.SortStableFunc(c, func(a, b cand) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
	return c
}

// pairShare is the share of consecutive pairs of query words (each a set of accepted forms) found
// next to each other, in order, in text.
func pairShare(text string, words []map[string]bool) float64 {
	toks := tokens(text)
	if len(toks) < 2 {
		return 0
	}
	found := 0
	for i := 0; i+1 < len(words); i++ {
		for j := 0; j+1 < len(toks); j++ {
			if words[i][toks[j]] && words[i+1][toks[j+1]] {
				found++
				break
			}
		}
	}
	return float64(found) / float64(len(words)-1)
}
