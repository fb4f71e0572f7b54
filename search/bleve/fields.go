package bleve

import (
	"strings"

	"github.com/brightspots-nic/brightspots/search"
)

// textField is one searchable field of a document: its own bleve field, scored with BM25F.
type textField struct {
	name string
	// weight multiplies the field's term frequency before saturation (BM25F): a word of the title
	// counts three times a word of the description.
	weight float64
	// b is the field's length normalisation (0: none, 1: full): a word in a short summary says more
	// than the same word in a long description. Standard codes and tags are lists, not prose: no
	// normalisation.
	b    float64
	text func(d *search.Document) string
}

// textFields are the document's searchable fields, strongest first. Adding one (for example the
// "learnings" field a practice's tests will add) is one line here and one in search/meili's
// searchableAttributes; bump mappingVersion so existing indexes are rebuilt.
var textFields = [...]textField{
	{name: "title", weight: 3.0, b: 0.5, text: func(d *search.Document) string { return d.Title }},
	{name: "summary", weight: 1.5, b: 0.75, text: func(d *search.Document) string { return d.Summary }},
	{name: "moves", weight: 1.2, b: 0.75, text: func(d *search.Document) string { return strings.Join(d.KeyMoves, "\n") }},
	{name: "description", weight: 1.0, b: 0.75, text: func(d *search.Document) string { return d.Description }},
	{name: "standards", weight: 2.0, b: 0, text: standardsText},
	{name: "tags", weight: 0.8, b: 0, text: func(d *search.Document) string { return d.Tags + "\n" + d.District }},
	// What teams learned testing the practice: found, but below the practice's own description.
	{name: "learnings", weight: 0.7, b: 0.75, text: func(d *search.Document) string { return strings.Join(d.Learnings, "\n") }},
}

// maxTextFields bounds textFields (a row keeps one length per field).
const maxTextFields = 8

const _ = uint(maxTextFields - len(textFields)) // compile-time check: len(textFields) ≤ maxTextFields

// standardsText is the standard codes as words: "CCSS.MATH.CONTENT.4.NF.A.1" becomes
// "ccss math content 4 nf a 1", so that a teacher typing "4.NF.A.1" (the words 4, nf, 1) finds it;
// bleve's Unicode tokenizer would keep "nf.a" as one token.
func standardsText(d *search.Document) string {
	var b strings.Builder
	for _, s := range d.Standards {
		b.WriteString(strings.Join(search.Words(s), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// stopWord reports whether w is dropped by the analyzer.
var stopWord = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range search.StopWords {
		m[w] = true
	}
	return m
}()

// fieldLen is the number of indexed words of s, capped to fit a uint16.
func fieldLen(s string) uint16 {
	n := 0
	for _, w := range search.Words(s) {
		if !stopWord[w] {
			n++
		}
	}
	return uint16(min(n, 65535))
}
