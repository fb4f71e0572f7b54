package search

import (
	"html"
	"html/template"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MarkHighlights turns text whose matches are wrapped in HighlightPre/HighlightPost into safe HTML: the
// text is HTML-escaped first, then the markers become <mark> and </mark>. Unbalanced markers are dropped.
func MarkHighlights(s string) template.HTML {
	var b strings.Builder
	b.Grow(len(s) + 16)
	open := false
	for {
		i := strings.IndexAny(s, HighlightPre+HighlightPost)
		if i < 0 {
			b.WriteString(html.EscapeString(s))
			break
		}
		b.WriteString(html.EscapeString(s[:i]))
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\uE000' && !open:
			b.WriteString("<mark>")
			open = true
		case r == '\uE001' && open:
			b.WriteString("</mark>")
			open = false
		}
		s = s[i+n:]
	}
	if open {
		b.WriteString("</mark>")
	}
	return template.HTML(b.String())
}

// HighlightWords returns text as safe HTML with every word for which match returns true wrapped in
// <mark>…</mark>. Words are maximal runs of letters and digits; match gets each word lower-cased.
// Each piece of text is escaped before markup is added around it.
func HighlightWords(text string, match func(word string) bool) template.HTML {
	var b strings.Builder
	b.Grow(len(text) + 32)
	last := 0
	for start := 0; start < len(text); {
		r, n := utf8.DecodeRuneInString(text[start:])
		if !isWordRune(r) {
			start += n
			continue
		}
		end := start + n
		for end < len(text) {
			r, n := utf8.DecodeRuneInString(text[end:])
			if !isWordRune(r) {
				break
			}
			end += n
		}
		if match(strings.ToLower(text[start:end])) {
			b.WriteString(html.EscapeString(text[last:start]))
			b.WriteString("<mark>")
			b.WriteString(html.EscapeString(text[start:end]))
			b.WriteString("</mark>")
			last = end
		}
		start = end
	}
	b.WriteString(html.EscapeString(text[last:]))
	return template.HTML(b.String())
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// Words splits text into lower-cased words: maximal runs of letters and digits.
func Words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !isWordRune(r) })
}
