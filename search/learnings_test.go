package search_test

import (
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/search"
)

func TestLearningSnippet(t *testing.T) {
	match := func(w string) bool { return w == "english" || w == "learners" }
	long := strings.Repeat("word ", 30) + "Our <b>English</b> learners needed sentence frames " + strings.Repeat("more ", 30)
	got := string(search.LearningSnippet([]string{"Nothing relevant here.", long}, match))
	for _, want := range []string{"… ", "&lt;b&gt;<mark>English</mark>&lt;/b&gt; <mark>learners</mark>", " …"} {
		if !strings.Contains(got, want) {
			t.Errorf("snippet %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "<b>") || len(strings.Fields(got)) > 30 {
		t.Errorf("snippet not escaped or too long: %q", got)
	}
	// The learning that matches most of the query wins over an earlier one that matches less.
	if s := string(search.LearningSnippet([]string{"English only.", "English learners too."}, match)); !strings.HasPrefix(s, "<mark>English</mark> <mark>learners</mark>") {
		t.Errorf("snippet %q: want the learning with more matched words", s)
	}
	if s := search.LearningSnippet([]string{"Nothing relevant here."}, match); s != "" {
		t.Errorf("snippet without a match: %q", s)
	}
}

func TestPracticeDocumentCarriesLearnings(t *testing.T) {
	p := &practices.Practice{Meta: practices.Meta{ID: "p1", Origin: "http://a.test", OriginID: "a", Visibility: practices.VisibilityPublic}, Title: "Number talks"}
	d := search.FromPractice(p, search.Evidence{Learnings: []string{"Worked with English learners.\u0007", "  "}})
	if len(d.Learnings) != 1 || d.Learnings[0] != "Worked with English learners." {
		t.Fatalf("learnings = %q", d.Learnings)
	}
}

// FuzzLearningSnippet: whatever a team writes, the snippet is escaped text with only <mark> markup.
func FuzzLearningSnippet(f *testing.F) {
	for _, s := range []string{"Our English learners needed frames.", "<script>alert(1)</script> english", "a & b \"english\" 'x'", "\uE000english\uE001", "english\x00<"} {
		f.Add(s, "english")
	}
	f.Fuzz(func(t *testing.T, text, word string) {
		out := string(search.LearningSnippet([]string{text}, func(w string) bool { return w == strings.ToLower(word) }))
		rest := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(out)
		if strings.ContainsAny(rest, "<>\"") {
			t.Fatalf("unescaped markup in %q", out)
		}
		if strings.Count(out, "<mark>") != strings.Count(out, "</mark>") {
			t.Fatalf("unbalanced marks in %q", out)
		}
	})
}
