package bleve

import (
	"math/bits"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Phrase credit, applied to the best rerankPool candidates of a relevance-sorted query of two or
// more words: the share of consecutive query-word pairs that are consecutive in a field (stop words
// skipped), times the field's credit. Only the title, the summary and the standard codes are kept
// in memory, so only they give credit; the description and key moves are matched and scored but
// not checked for phrases.
const (
	rerankPool      = 50
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
// next to each other, in order, in text (stop words skipped). It scans text once without
// allocating: each word of text sets the bits of the query positions it matches, and a pair (i,
// i+1) is found when the previous word matched i and this one i+1.
func pairShare(text string, words []map[string]bool) float64 {
	if len(words) < 2 || len(words) > 64 {
		return 0
	}
	var lower [64]byte
	var prev, found uint64
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			i += n
			continue
		}
		start := i
		for i < len(text) {
			r, n := utf8.DecodeRuneInString(text[i:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			i += n
		}
		w := text[start:i]
		var key string
		if len(w) <= len(lower) && isASCII(w) {
			b := lower[:len(w)]
			for j := 0; j < len(w); j++ {
				c := w[j]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b[j] = c
			}
			if stopWord[string(b)] {
				continue
			}
			var cur uint64
			for q, forms := range words {
				if forms[string(b)] {
					cur |= 1 << uint(q)
				}
			}
			found |= (prev << 1) & cur
			prev = cur
			continue
		}
		key = strings.ToLower(w)
		if stopWord[key] {
			continue
		}
		var cur uint64
		for q, forms := range words {
			if forms[key] {
				cur |= 1 << uint(q)
			}
		}
		found |= (prev << 1) & cur
		prev = cur
	}
	return float64(bits.OnesCount64(found)) / float64(len(words)-1)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
