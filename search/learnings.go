package search

import (
	"html/template"
	"strings"
	"unicode/utf8"
)

// snippetWords is how many words a learning snippet shows around the first match.
const snippetWords = 24

// LearningSnippet returns a short piece of the first learning in which match finds a word, as safe
// HTML (escaped, the matched words in <mark>), or "" when no learning matches. The snippet is cut at
// word boundaries, with an ellipsis where text was left out.
func LearningSnippet(learnings []string, match func(word string) bool) template.HTML {
	for _, l := range learnings {
		fields := strings.Fields(l)
		first := -1
		for i, f := range fields {
			for _, w := range Words(f) {
				if match(w) {
					first = i
					break
				}
			}
			if first >= 0 {
				break
			}
		}
		if first < 0 {
			continue
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
	return ""
}
