package bleve

import (
	"maps"
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
	masks, n := phraseMasks(p.phrase), len(p.phrase)
	for i := range c {
		d := rows[c[i].ord].doc
		credit := phraseTitle*pairShare(d.Title, masks, n) + phraseSummary*pairShare(d.Summary, masks, n)
		if len(d.Standards) > 0 {
			credit += phraseStandards * pairShare(strings.Join(d.Standards, " "), masks, n)
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

// phraseWord is what a word of a text means for phrase credit: the query positions it fills, or that
// it is a stop word (skipped, as the analyzer skips it).
type phraseWord struct {
	mask uint64
	stop bool
}

// phraseMasks maps each accepted form of a query word (words, in order, each a set of accepted forms)
// to the query positions it fills, and each stop word to stop: one map read per word of a text,
// instead of one per query position plus the stop-word check.
func phraseMasks(words []map[string]bool) map[string]phraseWord {
	if len(words) < 2 || len(words) > 64 {
		return nil
	}
	m := maps.Clone(stopPhraseWords)
	for q, forms := range words {
		for f := range forms {
			if !m[f].stop {
				m[f] = phraseWord{mask: m[f].mask | 1<<uint(q)}
			}
		}
	}
	return m
}

// stopPhraseWords is every stop word as a phraseWord, the start of each query's map.
var stopPhraseWords = func() map[string]phraseWord {
	m := make(map[string]phraseWord, len(stopWord))
	for w := range stopWord {
		m[w] = phraseWord{stop: true}
	}
	return m
}()

// pairShare is the share of consecutive pairs of the n query words (masks: phraseMasks) found next
// to each other, in order, in text (stop words skipped). It scans text once without allocating:
// each word of text sets the bits of the query positions it matches, and a pair (i, i+1) is found
// when the previous word matched i and this one i+1.
func pairShare(text string, masks map[string]phraseWord, n int) float64 {
	if n < 2 || n > 64 || masks == nil {
		return 0
	}
	var lower [64]byte
	var prev, found uint64
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			i += size
			continue
		}
		start := i
		for i < len(text) {
			r, size := utf8.DecodeRuneInString(text[i:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			i += size
		}
		w := text[start:i]
		var pw phraseWord
		if len(w) <= len(lower) && isASCII(w) {
			b := lower[:len(w)]
			for j := 0; j < len(w); j++ {
				c := w[j]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b[j] = c
			}
			pw = masks[string(b)]
		} else {
			pw = masks[strings.ToLower(w)]
		}
		if pw.stop {
			continue
		}
		found |= (prev << 1) & pw.mask
		prev = pw.mask
	}
	return float64(bits.OnesCount64(found)) / float64(n-1)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
