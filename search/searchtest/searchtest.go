// Package searchtest is the contract every search.Index backend satisfies. A backend's tests call
//
//	searchtest.Run(t, func(t *testing.T) search.Index { … a new, empty index … })
//
// The suite checks behaviour a caller can see: text matching with typos and synonyms, every filter,
// facet counts against a count done independently over a generated corpus, sorting, paging, the
// visibility filter, escaping of snippets, and that bad input is a *search.QueryError.
package searchtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/corpus"
	"github.com/brightspots-nic/brightspots/search"
)

// CorpusSize is the number of generated practices the corpus tests index.
const CorpusSize = 300

// Evidence returns the search evidence of a generated item.
func Evidence(it *corpus.Item) search.Evidence {
	return search.Evidence{Level: it.Level, PooledEffect: it.PooledEffect, TestCount: it.TestCount,
		DistrictCount: it.DistrictCount, Designs: it.Designs, Decisions: it.Decisions}
}

// Documents projects generated items into search documents.
func Documents(items []corpus.Item) []search.Document {
	out := make([]search.Document, len(items))
	for i := range items {
		out[i] = search.FromPractice(&items[i].Practice, Evidence(&items[i]))
	}
	return out
}

// Run runs the contract suite. newIndex returns a new, empty index; the suite closes it.
func Run(t *testing.T, newIndex func(t *testing.T) search.Index) {
	t.Run("Basics", func(t *testing.T) { testBasics(t, newIndex(t)) })
	t.Run("TextFeatures", func(t *testing.T) { testText(t, newIndex(t)) })
	t.Run("Escaping", func(t *testing.T) { testEscaping(t, newIndex(t)) })
	t.Run("Corpus", func(t *testing.T) { testCorpus(t, newIndex(t)) })
	t.Run("Ranking", func(t *testing.T) { testRanking(t, newIndex(t)) })
	t.Run("Learnings", func(t *testing.T) { testLearnings(t, newIndex(t)) })
	t.Run("Aims", func(t *testing.T) { testAims(t, newIndex(t)) })
}

// testAims: kind=aim finds aims by their statement, drivers and change ideas; aim=<uri> keeps only
// the practices the aim's change ideas link (resolved by the caller into AimPractices), and an aim
// that links nothing matches nothing.
func testAims(t *testing.T, idx search.Index) {
	defer idx.Close()
	const origin, aimRecordID = "https://a.example.org", "0193a3c0-0000-7000-8000-0000000000a1"
	var docs []search.Document
	for i, title := range []string{"Number lines for unit fractions", "Fraction strips with partners", "Phonics games"} {
		d := doc(fmt.Sprintf("p%d", i), title, "A daily routine: "+strings.ToLower(title)+".", []string{"math"}, []string{"04"}, practices.VisibilityNetwork, i+1)
		d.URI = origin + "/practices/p" + strconv.Itoa(i)
		docs = append(docs, d)
	}
	aim := practices.Aim{
		Meta: practices.Meta{ID: aimRecordID, Kind: practices.KindAim, URI: origin + "/aims/" + aimRecordID, Origin: origin, OriginID: "a",
			Status: practices.StatusPublished, UpdatedAt: t0, Visibility: practices.VisibilityNetwork},
		Title: "Fractions proficiency by June", Statement: "70 % of grade 3–5 students proficient on the common assessment.",
		Drivers:     []practices.Driver{{ID: "d", Level: practices.DriverPrimary, Text: "Visual models in every lesson"}},
		ChangeIdeas: []practices.ChangeIdea{{ID: "c", Text: "Daily estimation warm-ups", Drivers: []string{"d"}, Practices: []string{docs[0].URI, docs[2].URI}}},
	}
	mustUpsert(t, idx, append(docs, search.FromAim(&aim))...)

	aimID := search.DocID(origin, practices.KindAim, aimRecordID)
	for _, text := range []string{"proficiency", "estimation", "visual models"} {
		r := mustSearch(t, idx, member(search.Query{Text: text, Kinds: []practices.Kind{practices.KindAim}}))
		if !slices.Equal(ids(r), []string{aimID}) || r.Hits[0].Kind != practices.KindAim {
			t.Errorf("kind=aim %q: %v, want the aim", text, ids(r))
		}
	}
	if r := mustSearch(t, idx, member(search.Query{Kinds: []practices.Kind{practices.KindPractice}})); slices.Contains(ids(r), aimID) {
		t.Errorf("kind=practice lists the aim: %v", ids(r))
	}
	linked := member(search.Query{Aim: aim.URI, AimPractices: aim.ChangeIdeas[0].Practices})
	r := mustSearch(t, idx, linked)
	got := ids(r)
	slices.Sort(got)
	if !slices.Equal(got, []string{docs[0].ID, docs[2].ID}) || r.Total != 2 {
		t.Errorf("aim filter: %v (total %d), want the two linked practices", got, r.Total)
	}
	linked.Text = "fractions"
	if r := mustSearch(t, idx, linked); !slices.Equal(ids(r), []string{docs[0].ID}) {
		t.Errorf("aim filter with text: %v, want only the linked practice about fractions", ids(r))
	}
	if r := mustSearch(t, idx, member(search.Query{Aim: aim.URI})); r.Total != 0 || len(r.Hits) != 0 {
		t.Errorf("an aim that links nothing matched %v", ids(r))
	}
}

// withEvidence sets a document's evidence level (and the tests behind it).
func withEvidence(d search.Document, level string) search.Document {
	d.EvidenceLevel = level
	d.EvidenceRank = practices.EvidenceRank(level)
	if d.EvidenceRank > 0 {
		d.TestCount, d.DistrictCount, d.HasResults = 3, 3, true
	}
	return d
}

// testRanking pins what a teacher expects of the order, on each backend: a practice about the words
// comes before one that mentions them in passing, an exact match before a typo match, and among
// practices that match equally, the one with stronger evidence first — which never lifts a passing
// mention over a title match. In each case the document that should lose is the newer one (the tie
// break) and has the stronger evidence where evidence is not the point, so only the rule tested can
// put the winner first.
func testRanking(t *testing.T, idx search.Index) {
	defer idx.Close()
	long := "A weekly routine for the whole class. Students keep a reading log, meet a partner on Fridays, " +
		"and write a short reflection. The teacher reviews the logs, confers with two students a day and " +
		"keeps notes on their goals. Once a month the class also plays a game with fractions."
	title := withEvidence(doc("r-title", "Fractions with fraction strips", "Students fold paper strips to compare parts of a whole.",
		[]string{"math"}, []string{"04"}, practices.VisibilityNetwork, 10), practices.LevelDescribed)
	passing := doc("r-passing", "Reading logs and partner Fridays", "A reading routine that keeps students reading at home.",
		[]string{"ela"}, []string{"04"}, practices.VisibilityNetwork, 1)
	passing.Description = long
	passing = withEvidence(passing, practices.LevelNetworkConfirmed)

	exact := withEvidence(doc("r-exact", "Geometry journals", "Students sketch polygons and explain their reasoning.",
		[]string{"math"}, []string{"06"}, practices.VisibilityNetwork, 10), practices.LevelDescribed)
	typo := withEvidence(doc("r-typo", "Geometry journal", "Students sketch polygons and explain their reasoning.",
		[]string{"math"}, []string{"06"}, practices.VisibilityNetwork, 1), practices.LevelNetworkConfirmed)

	strong := withEvidence(doc("r-strong", "Choral counting", "The class counts aloud together and looks for patterns.",
		[]string{"math"}, []string{"01"}, practices.VisibilityNetwork, 10), practices.LevelNetworkConfirmed)
	weak := withEvidence(doc("r-weak", "Choral counting", "The class counts aloud together and looks for patterns.",
		[]string{"math"}, []string{"01"}, practices.VisibilityNetwork, 1), practices.LevelTested)
	mustUpsert(t, idx, title, passing, exact, typo, strong, weak)

	first := func(text string, want, other search.Document) {
		t.Helper()
		r := mustSearch(t, idx, member(search.Query{Text: text}))
		got := ids(r)
		if !slices.Contains(got, other.ID) {
			t.Fatalf("%q: hits %v lack %s: the comparison needs both", text, got, other.ID)
		}
		if len(got) == 0 || got[0] != want.ID {
			t.Errorf("%q: order %v, want %s (%s) first", text, got, want.ID, want.Title)
		}
	}
	first("fractions", title, passing)              // the title match, though the passing mention has network-confirmed evidence
	first("geometry journals", exact, typo)         // the exact word, though the typo match has stronger evidence
	first("choral counting patterns", strong, weak) // equal text: stronger evidence first, though it is older
}

var ctx = context.Background()

func mustUpsert(t *testing.T, idx search.Index, docs ...search.Document) {
	t.Helper()
	if err := idx.Upsert(ctx, docs); err != nil {
		t.Fatalf("upsert: %v", err)
	}
}

func mustSearch(t *testing.T, idx search.Index, q search.Query) search.Result {
	t.Helper()
	r, err := idx.Search(ctx, q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	return r
}

func ids(r search.Result) []string {
	out := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		out[i] = h.ID
	}
	return out
}

func member(q search.Query) search.Query { q.Audience = search.MembersAudience(); return q }

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// doc builds a practice document from a few fields.
func doc(id, title, summary string, subjects, grades []string, vis practices.Visibility, age int) search.Document {
	p := practices.Practice{
		Meta: practices.Meta{ID: id, Kind: practices.KindPractice, Origin: "https://a.example.org", OriginID: "a",
			Status: practices.StatusPublished, UpdatedAt: t0.Add(-time.Duration(age) * time.Hour), Visibility: vis},
		Title: title, Summary: summary, Subjects: subjects, GradeLevels: grades,
	}
	return search.FromPractice(&p, search.Evidence{})
}

func testBasics(t *testing.T, idx search.Index) {
	defer idx.Close()
	a := doc("a1", "Number talks for fractions", "Daily number talks about fractions.", []string{"math"}, []string{"04"}, practices.VisibilityNetwork, 1)
	b := doc("b2", "Phonics games", "Word building with letter tiles.", []string{"ela"}, []string{"01"}, practices.VisibilityPublic, 2)
	mustUpsert(t, idx, a, b)

	r := mustSearch(t, idx, member(search.Query{Text: "fractions"}))
	if got := ids(r); !slices.Equal(got, []string{a.ID}) || r.Total != 1 {
		t.Fatalf("fractions: hits %v total %d, want [%s]", got, r.Total, a.ID)
	}
	h := r.Hits[0]
	if h.Title != a.Title || h.District != "a" || h.Kind != practices.KindPractice || h.RecordID != "a1" || !h.UpdatedAt.Equal(a.UpdatedAt) {
		t.Fatalf("hit fields: %+v", h)
	}
	if r.Page != 1 || r.PerPage != search.DefaultPerPage {
		t.Fatalf("page %d per_page %d", r.Page, r.PerPage)
	}

	// Empty query lists everything visible, newest first.
	r = mustSearch(t, idx, member(search.Query{}))
	if got := ids(r); !slices.Equal(got, []string{a.ID, b.ID}) {
		t.Fatalf("empty query: %v, want newest first [%s %s]", got, a.ID, b.ID)
	}
	// The anonymous audience sees only the public one.
	r = mustSearch(t, idx, search.Query{})
	if got := ids(r); !slices.Equal(got, []string{b.ID}) || r.Total != 1 {
		t.Fatalf("anonymous: %v total %d, want only the public %s", got, r.Total, b.ID)
	}
	r = mustSearch(t, idx, search.Query{Text: "fractions"})
	if r.Total != 0 || len(r.Hits) != 0 {
		t.Fatalf("anonymous found a members-only practice: %v", ids(r))
	}

	// Upsert replaces.
	a.Title = "Number talks for decimals"
	a.Summary = "Daily number talks about decimals."
	mustUpsert(t, idx, a)
	if r := mustSearch(t, idx, member(search.Query{Text: "fractions"})); r.Total != 0 {
		t.Fatalf("old text still found after upsert: %v", ids(r))
	}
	if r := mustSearch(t, idx, member(search.Query{Text: "decimals"})); !slices.Equal(ids(r), []string{a.ID}) {
		t.Fatalf("new text not found after upsert: %v", ids(r))
	}

	// Delete removes; deleting a missing id is fine.
	if err := idx.Delete(ctx, []string{a.ID, "practice_000000000000_missing"}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if r := mustSearch(t, idx, member(search.Query{})); !slices.Equal(ids(r), []string{b.ID}) {
		t.Fatalf("after delete: %v", ids(r))
	}

	// Invalid queries are QueryErrors, not engine errors.
	for _, q := range []search.Query{{PerPage: search.MaxPerPage + 1}, {Subjects: []string{"mth"}}, {Page: 1000, PerPage: 100},
		{Text: strings.Repeat("a", search.MaxQueryLen+1)}, {Text: "fractions\x00"}, {Sort: "random"}, {MinEvidence: "strong"}} {
		_, err := idx.Search(ctx, q)
		var qe *search.QueryError
		if !errors.As(err, &qe) || !errors.Is(err, search.ErrInvalidQuery) {
			t.Errorf("query %+v: err %v, want a *search.QueryError", q, err)
		}
	}

	// Clear empties.
	if err := idx.Clear(ctx); err != nil {
		t.Fatalf("clear: %v", err)
	}
	if r := mustSearch(t, idx, member(search.Query{})); r.Total != 0 {
		t.Fatalf("after clear: %d documents", r.Total)
	}
	mustUpsert(t, idx, b)
	if r := mustSearch(t, idx, member(search.Query{Text: "phonics"})); !slices.Equal(ids(r), []string{b.ID}) {
		t.Fatalf("after clear and upsert: %v", ids(r))
	}
}

func testText(t *testing.T, idx search.Index) {
	defer idx.Close()
	frac := doc("f1", "Fractions on a number line", "Fourth graders place fractions on a number line.", []string{"math"}, []string{"04"}, practices.VisibilityNetwork, 1)
	sel := doc("s1", "Morning meeting", "A social-emotional routine that builds belonging.", []string{"sel"}, []string{"02"}, practices.VisibilityNetwork, 2)
	selAbbr := doc("s2", "Calm corner", "An SEL strategy for self-regulation.", []string{"sel"}, []string{"03"}, practices.VisibilityNetwork, 3)
	mathWord := doc("m1", "Mathematics journals", "Students write about their thinking.", []string{"math"}, []string{"07"}, practices.VisibilityNetwork, 4)
	ela := doc("e1", "Partner reading", "Repeated reading with a partner builds fluency.", []string{"ela"}, []string{"02"}, practices.VisibilityNetwork, 5)
	plc := doc("p1", "Data protocol", "Our professional learning community reviews exit tickets weekly.", []string{"cross"}, []string{"06"}, practices.VisibilityNetwork, 6)
	el := doc("l1", "Sentence frames", "Supports for English learners during discussions.", []string{"ela"}, []string{"05"}, practices.VisibilityNetwork, 7)
	mustUpsert(t, idx, frac, sel, selAbbr, mathWord, ela, plc, el)

	find := func(text string, want ...string) {
		t.Helper()
		r := mustSearch(t, idx, member(search.Query{Text: text, PerPage: 100}))
		got := ids(r)
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%q: hits %v lack %s", text, got, w)
			}
		}
	}
	// Misspellings.
	find("fractoins number line", frac.ID)
	find("fractions nubmer line", frac.ID)
	find("morning meting", sel.ID)
	// Synonyms, both ways.
	find("SEL", sel.ID, selAbbr.ID)
	find("social emotional", sel.ID, selAbbr.ID)
	find("math journals", mathWord.ID)
	find("mathematics fractions", frac.ID) // frac's tags say Mathematics; its text says math nowhere
	find("ELA partner", ela.ID)
	find("english language arts", ela.ID)
	find("PLC", plc.ID)
	find("ELL sentence frames", el.ID)

	// The best match comes first: all words in the title.
	r := mustSearch(t, idx, member(search.Query{Text: "fractions number line"}))
	if len(r.Hits) == 0 || r.Hits[0].ID != frac.ID {
		t.Errorf("fractions number line: first hit %v, want %s", ids(r), frac.ID)
	}
	if !strings.Contains(string(r.Hits[0].TitleHTML), "<mark>Fractions</mark>") {
		t.Errorf("title not highlighted: %s", r.Hits[0].TitleHTML)
	}
	// Words that match nothing find nothing.
	if r := mustSearch(t, idx, member(search.Query{Text: "xylophone quartz"})); r.Total != 0 {
		t.Errorf("nonsense query found %v", ids(r))
	}
}

func testEscaping(t *testing.T, idx search.Index) {
	defer idx.Close()
	d := doc("x1", `Fractions <script>alert("x")</script> & more`, `Use <b>bold</b> fractions`, []string{"math"}, []string{"04"}, practices.VisibilityNetwork, 1)
	d.Standards = []string{`ODD"CODE\1`, "CCSS.MATH.CONTENT.4.NF.A.1"}
	d.District = `dist"rict\x`
	other := doc("x2", "Fractions two", "More fractions", []string{"math"}, []string{"04"}, practices.VisibilityNetwork, 2)
	other.Standards = []string{`ODD"CODE`}
	mustUpsert(t, idx, d, other)

	r := mustSearch(t, idx, member(search.Query{Text: "fractions", Standards: []string{`ODD"CODE\1`}}))
	if !slices.Equal(ids(r), []string{d.ID}) {
		t.Fatalf("standard with quote and backslash: %v, want [%s]", ids(r), d.ID)
	}
	h := r.Hits[0]
	title := string(h.TitleHTML)
	if strings.Contains(title, "<script") || !strings.Contains(title, "&lt;script&gt;") || !strings.Contains(title, "&amp;") {
		t.Fatalf("title not escaped: %s", title)
	}
	if !strings.Contains(title, "<mark>Fractions</mark>") {
		t.Fatalf("title not highlighted: %s", title)
	}
	if s := string(h.SummaryHTML); strings.Contains(s, "<b>") || !strings.Contains(s, "&lt;b&gt;") {
		t.Fatalf("summary not escaped: %s", s)
	}
	r = mustSearch(t, idx, member(search.Query{Districts: []string{`dist"rict\x`}}))
	if !slices.Equal(ids(r), []string{d.ID}) {
		t.Fatalf("district with quote and backslash: %v", ids(r))
	}
	// A value that looks like filter syntax is only a value.
	for _, v := range []string{`a" OR audience = "members`, `x\" OR 1=1`, `) OR (kind = practice`} {
		r = mustSearch(t, idx, search.Query{Districts: []string{v}})
		if r.Total != 0 {
			t.Fatalf("district %q matched %v", v, ids(r))
		}
	}
	if fv := r.Facets; fv == nil {
		t.Fatalf("facets missing on an empty result")
	}
}

// testCorpus checks filters, facets, sorting, paging and the audience against counts done
// independently over a generated corpus.
func testCorpus(t *testing.T, idx search.Index) {
	defer idx.Close()
	items := corpus.New(corpus.Config{Seed: 42, Districts: corpus.Districts(5)}).Generate(CorpusSize)
	docs := Documents(items)
	for i := 0; i < len(docs); i += 100 {
		mustUpsert(t, idx, docs[i:min(i+100, len(docs))]...)
	}

	yes := true
	type tc struct {
		name string
		q    search.Query
		keep func(d *search.Document) bool
	}
	cases := []tc{
		{"all", search.Query{}, func(*search.Document) bool { return true }},
		{"subject math", search.Query{Subjects: []string{"math"}}, func(d *search.Document) bool { return slices.Contains(d.Subjects, "math") }},
		{"subject sel or science", search.Query{Subjects: []string{"sel", "science"}}, func(d *search.Document) bool {
			return slices.Contains(d.Subjects, "sel") || slices.Contains(d.Subjects, "science")
		}},
		{"grade 04", search.Query{Grades: []string{"04"}}, func(d *search.Document) bool { return slices.Contains(d.GradeLevels, "04") }},
		{"band 6-8", search.Query{GradeBands: []string{"6-8"}}, func(d *search.Document) bool { return slices.Contains(d.GradeBands, "6-8") }},
		{"standard", search.Query{Standards: []string{"CCSS.MATH.PRACTICE.MP4"}}, func(d *search.Document) bool {
			return slices.Contains(d.Standards, "CCSS.MATH.PRACTICE.MP4")
		}},
		{"district", search.Query{Districts: []string{"riverside"}}, func(d *search.Document) bool { return d.District == "riverside" }},
		{"evidence replicated+", search.Query{MinEvidence: practices.LevelReplicated}, func(d *search.Document) bool {
			return d.EvidenceRank >= practices.EvidenceRank(practices.LevelReplicated)
		}},
		{"design", search.Query{Designs: []string{"post_only_comparison"}}, func(d *search.Document) bool {
			return slices.Contains(d.Designs, "post_only_comparison")
		}},
		{"decision", search.Query{Decisions: []string{"abandon"}}, func(d *search.Document) bool { return slices.Contains(d.Decisions, "abandon") }},
		{"has results", search.Query{HasResults: &yes}, func(d *search.Document) bool { return d.HasResults }},
		{"kind practice", search.Query{Kinds: []practices.Kind{practices.KindPractice}}, func(*search.Document) bool { return true }},
		{"kind collection", search.Query{Kinds: []practices.Kind{practices.KindCollection}}, func(*search.Document) bool { return false }},
		{"combined", search.Query{Subjects: []string{"math"}, GradeBands: []string{"3-5"}, MinEvidence: practices.LevelTested},
			func(d *search.Document) bool {
				return slices.Contains(d.Subjects, "math") && slices.Contains(d.GradeBands, "3-5") && d.EvidenceRank >= 1
			}},
		{"text phonics", search.Query{Text: "phonics"}, func(d *search.Document) bool { return containsWord(d, "phonics") }},
		{"text phonics + grade 01", search.Query{Text: "phonics", Grades: []string{"01"}}, func(d *search.Document) bool {
			return containsWord(d, "phonics") && slices.Contains(d.GradeLevels, "01")
		}},
		{"unknown district", search.Query{Districts: []string{"nowhere"}}, func(*search.Document) bool { return false }},
	}
	for _, c := range cases {
		for _, members := range []bool{true, false} {
			name := c.name + map[bool]string{true: " (member)", false: " (anonymous)"}[members]
			t.Run(name, func(t *testing.T) {
				q := c.q
				if members {
					q.Audience = search.MembersAudience()
				}
				want := map[string]bool{}
				wantFacets := map[string]map[string]int{}
				for _, n := range search.FacetNames {
					wantFacets[n] = map[string]int{}
				}
				for i := range docs {
					d := &docs[i]
					if !q.Audience.Sees(d.Audience) || !c.keep(d) {
						continue
					}
					want[d.ID] = true
					for _, s := range d.Subjects {
						wantFacets[search.FacetSubject][s]++
					}
					for _, b := range d.GradeBands {
						wantFacets[search.FacetGradeBand][b]++
					}
					wantFacets[search.FacetDistrict][d.District]++
					wantFacets[search.FacetEvidence][d.EvidenceLevel]++
				}
				q.PerPage = search.MaxPerPage
				got := map[string]bool{}
				var first search.Result
				for page := 1; ; page++ {
					q.Page = page
					r := mustSearch(t, idx, q)
					if page == 1 {
						first = r
					}
					if r.Total != len(want) {
						t.Fatalf("total %d, want %d", r.Total, len(want))
					}
					for _, h := range r.Hits {
						if got[h.ID] {
							t.Fatalf("hit %s on two pages", h.ID)
						}
						got[h.ID] = true
						if !want[h.ID] {
							t.Fatalf("unexpected hit %s (%s)", h.ID, h.Title)
						}
					}
					if len(r.Hits) < q.PerPage {
						break
					}
				}
				if len(got) != len(want) {
					t.Fatalf("paged through %d hits, want %d", len(got), len(want))
				}
				for _, n := range search.FacetNames {
					gotN := map[string]int{}
					for _, v := range first.Facets[n] {
						if v.Count > 0 {
							gotN[v.Value] = v.Count
						}
					}
					if fmt.Sprint(gotN) != fmt.Sprint(wantFacets[n]) {
						t.Errorf("facet %s: %v, want %v", n, gotN, wantFacets[n])
					}
				}
				// Counting only (the search page's facet recounts): the same total and facets, no hits.
				cq := q
				cq.Page, cq.CountOnly = 1, true
				counted := mustSearch(t, idx, cq)
				if counted.Total != first.Total || len(counted.Hits) != 0 || !reflect.DeepEqual(counted.Facets, first.Facets) {
					t.Errorf("count only: total %d, %d hits, facets %v; want total %d, no hits, facets %v",
						counted.Total, len(counted.Hits), counted.Facets, first.Total, first.Facets)
				}
			})
		}
	}

	t.Run("page past the end", func(t *testing.T) {
		r := mustSearch(t, idx, member(search.Query{Subjects: []string{"math"}, Page: 50, PerPage: 100}))
		if len(r.Hits) != 0 || r.Total == 0 || r.Page != 50 {
			t.Fatalf("page past the end: %d hits, total %d, page %d", len(r.Hits), r.Total, r.Page)
		}
	})
	t.Run("newest first", func(t *testing.T) {
		r := mustSearch(t, idx, member(search.Query{PerPage: 100}))
		for i := 1; i < len(r.Hits); i++ {
			if r.Hits[i].UpdatedAt.After(r.Hits[i-1].UpdatedAt) {
				t.Fatalf("hit %d newer than hit %d", i, i-1)
			}
		}
		r2 := mustSearch(t, idx, member(search.Query{Text: "students", Sort: search.SortNewest, PerPage: 100}))
		for i := 1; i < len(r2.Hits); i++ {
			if r2.Hits[i].UpdatedAt.After(r2.Hits[i-1].UpdatedAt) {
				t.Fatalf("sort=newest with text: hit %d newer than hit %d", i, i-1)
			}
		}
	})
	t.Run("effect first", func(t *testing.T) {
		r := mustSearch(t, idx, member(search.Query{Sort: search.SortEffect, PerPage: 100, Page: 1}))
		seenNil := false
		for i, h := range r.Hits {
			if h.PooledEffect == nil {
				seenNil = true
				continue
			}
			if seenNil {
				t.Fatalf("hit %d has an effect after one without", i)
			}
			if i > 0 && r.Hits[i-1].PooledEffect != nil && *h.PooledEffect > *r.Hits[i-1].PooledEffect {
				t.Fatalf("hit %d effect %v above hit %d's %v", i, *h.PooledEffect, i-1, *r.Hits[i-1].PooledEffect)
			}
		}
	})
	t.Run("misspelled topic", func(t *testing.T) {
		// Every practice about fractions on a number line is found with the misspelled query.
		var want []string
		for i := range docs {
			if strings.Contains(docs[i].Title, "fractions on a number line") {
				want = append(want, docs[i].ID)
			}
		}
		if len(want) == 0 {
			t.Fatal("corpus has no fractions-on-a-number-line practice")
		}
		r := mustSearch(t, idx, member(search.Query{Text: "fractoins number line", PerPage: 100}))
		got := ids(r)
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Fatalf("fractoins number line: %d hits lack %s", len(got), w)
			}
		}
	})
}

// containsWord reports whether any text field of d has word (as a whole word, any case).
func containsWord(d *search.Document, word string) bool {
	texts := append([]string{d.Title, d.Summary, d.Description}, d.KeyMoves...)
	for _, s := range texts {
		if slices.Contains(search.Words(s), word) {
			return true
		}
	}
	return false
}

// testLearnings: a practice is found by what teams learned testing it, and the hit carries an
// escaped snippet of that learning with the matched words marked.
func testLearnings(t *testing.T, idx search.Index) {
	defer idx.Close()
	d := doc("l1", "Number line talks", "Place fractions on a number line", []string{"math"}, []string{"04"}, practices.VisibilityNetwork, 1)
	d.Learnings = []string{"Our <b>newcomers</b> needed sentence frames before they could justify a placement."}
	other := doc("l2", "Fraction strips", "Fold strips", []string{"math"}, []string{"04"}, practices.VisibilityNetwork, 2)
	mustUpsert(t, idx, d, other)
	r := mustSearch(t, idx, member(search.Query{Text: "newcomers sentence frames"}))
	if !slices.Equal(ids(r), []string{d.ID}) {
		t.Fatalf("search by learning: %v, want [%s]", ids(r), d.ID)
	}
	s := string(r.Hits[0].LearningHTML)
	if !strings.Contains(s, "&lt;b&gt;<mark>newcomers</mark>&lt;/b&gt;") || strings.Contains(s, "<b>") {
		t.Fatalf("learning snippet %q: want the match marked and the text escaped", s)
	}
	r = mustSearch(t, idx, member(search.Query{Text: "strips"}))
	if len(r.Hits) != 1 || r.Hits[0].LearningHTML != "" {
		t.Fatalf("a hit that did not match in a learning has a snippet: %+v", r.Hits)
	}
}
