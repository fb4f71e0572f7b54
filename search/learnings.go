package search

import (
	"html/template"
	"slices"
	"strings"
	"unicode/utf8"
)

// snippetWords is how many words a learning snippet shows around the first match.
const snippetWords = 24

// LearningSnippet returns a short piece of the learning in which match finds the most distinct
// words (the first of equals), as safe HTML (escaped, the matched words in <mark>), or "" when no
// learning matches. The snippet is cut at word boundaries, with an ellipsis where text was left out.
func LearningSnippet(learnings []string, match func(word string) bool) template.HTML {
	best, bestScore := "", 0
	for _, l := range learnings {
		seen := map[string]bool{}
		for _, w := range Words(l) {
			if !seen[w] && match(w) {
				seen[w] = true
			}
		}
		if len(seen) > bestScore {
			best, bestScore = l, len(seen)
		}
	}
	if bestScore == 0 {
		return ""
	}
	fields := strings.Fields(best)
	first := 0
	for i, f := range fields {
		if slices.ContainsFunc(Words(f), match) {
			first = i
			break
		}
	}
	start := max(0, first-snippetWords/3)
	end := min(len(fields), start+snippetWords)
	text := strings.Join(fields[start:end], " ")
	if utf8.RuneCountInString(text) > 300 {
		text = string([]rune(text)[:300])
	}
	var b strings.Builder
	if start > 0 {
		b.WriteString("… ")
	}
	b.WriteString(string(HighlightWords(text, match)))
	if end < len(fields) {
		b.WriteString(" …")
	}
	return template.HTML(b.String())
}
