package search

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

func TestParseQuery(t *testing.T) {
	yes := true
	ok := []struct {
		in   string
		want Query
	}{
		{"", Query{}},
		{"q=+fractoins++number%09line+4th+grade+", Query{Text: "fractoins number line 4th grade"}},
		{"subject=math&subject=SEL", Query{Subjects: []string{"math", "sel"}}},
		{"subject=math,science", Query{Subjects: []string{"math", "science"}}},
		{"grade=4&grade=K&grade=3-5&grade=pk&grade=11", Query{Grades: []string{"04", "KG", "PK", "11"}, GradeBands: []string{"3-5"}}},
		{"standard=ccss.math.content.4.nf.a.1", Query{Standards: []string{"CCSS.MATH.CONTENT.4.NF.A.1"}}},
		{"district=riverside&evidence=network-confirmed", Query{Districts: []string{"riverside"}, MinEvidence: practices.LevelNetworkConfirmed}},
		{"kind=practice&has_results=true&sort=effect&page=2&per_page=100", Query{Kinds: []practices.Kind{"practice"}, HasResults: &yes, Sort: SortEffect, Page: 2, PerPage: 100}},
		{"design=post_only_comparison&decision=adopt", Query{Designs: []string{"post_only_comparison"}, Decisions: []string{"adopt"}}},
	}
	for _, c := range ok {
		v, _ := url.ParseQuery(c.in)
		got, err := ParseQuery(v)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}

	bad := []struct{ in, param, rule string }{
		{"subject=mth", "subject", "unknown subject"},
		{"grade=13", "grade", "unknown grade"},
		{"evidence=strong", "evidence", "unknown evidence level"},
		{"kind=test", "kind", "unknown kind"},
		{"sort=random", "sort", "unknown sort"},
		{"design=rct", "design", "unknown design"},
		{"has_results=maybe", "has_results", "true or false"},
		{"per_page=101", "per_page", "from 1 to 100"},
		{"per_page=0", "per_page", "from 1 to 100"},
		{"per_page=ten", "per_page", "whole number"},
		{"page=0", "page", "whole number"},
		{"page=-3", "page", "whole number"},
		{"page=99999999999999999999", "page", "whole number"},
		{"page=101&per_page=100", "page", "at most 10000"},
		{"q=" + strings.Repeat("a", 10000), "q", "at most 256 characters"},
		{"q=fractions%00", "q", "control characters"},
		{"q=a%1bb", "q", "control characters"},
		{"q=%ff", "q", "UTF-8"},
		{"q=" + strings.Repeat("a+", 40), "q", "at most 32 words"},
		{"q=a&q=b", "q", "at most once"},
		{"subjet=math", "subjet", "unknown parameter"},
		{"standard=" + strings.Repeat("X", 101), "standard", "at most 100 bytes"},
		{"district=a%07b", "district", "control characters"},
		{"subject=" + strings.Repeat("math,", 21), "subject", "at most 20 values"},
	}
	for _, c := range bad {
		v, err := url.ParseQuery(c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		_, err = ParseQuery(v)
		var qe *QueryError
		if !errors.As(err, &qe) || !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("%.40q: err %v, want a *QueryError", c.in, err)
			continue
		}
		if qe.Param != c.param || !strings.Contains(qe.Rule, c.rule) {
			t.Errorf("%.40q: %v, want parameter %s and rule containing %q", c.in, err, c.param, c.rule)
		}
		if len(err.Error()) > 400 {
			t.Errorf("%.40q: error message of %d bytes echoes the input", c.in, len(err.Error()))
		}
	}
}

func TestQueryDefaults(t *testing.T) {
	q := Query{}
	if q.SortOrder() != SortNewest || q.Limit() != DefaultPerPage || q.PageNumber() != 1 || q.Offset() != 0 {
		t.Errorf("empty query: sort %s limit %d page %d", q.SortOrder(), q.Limit(), q.PageNumber())
	}
	q = Query{Text: "x", Page: 3, PerPage: 10}
	if q.SortOrder() != SortRelevance || q.Offset() != 20 {
		t.Errorf("text query: sort %s offset %d", q.SortOrder(), q.Offset())
	}
}

// FuzzParseQuery: any query string either parses into a valid Query that survives a round trip
// through Values, or is a *QueryError; nothing panics.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"q=fractoins+number+line+4th+grade&subject=math&grade=3-5", "q=%00", "page=2&per_page=100",
		"standard=A%22B%5CC&district=x,y", "evidence=replicated&sort=effect&kind=collection", "grade=k,pk,12,9-12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("%q: error %v is not a QueryError", raw, err)
			}
			return
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("%q: parsed query does not validate: %v", raw, err)
		}
		q2, err := ParseQuery(q.Values())
		if err != nil {
			t.Fatalf("%q: re-parse of %v: %v", raw, q.Values(), err)
		}
		if !reflect.DeepEqual(q, q2) {
			t.Fatalf("%q: round trip\n %+v\n %+v", raw, q, q2)
		}
	})
}

func TestAudience(t *testing.T) {
	if a := AudienceOf(practices.Anonymous); a.Sees(AudienceMembers) || !a.Sees(AudiencePublic) {
		t.Error("anonymous sees members documents")
	}
	if a := AudienceOf(practices.Principal{Kind: "node", Subject: "https://peer.example.org"}); a.Sees(AudienceMembers) {
		t.Error("a peer node sees members documents")
	}
	if a := AudienceOf(practices.Principal{Kind: "session", Subject: "u1"}); !a.Sees(AudienceMembers) || !a.Sees(AudiencePublic) {
		t.Error("a signed-in teacher does not see members documents")
	}
	for v, want := range map[practices.Visibility]string{practices.VisibilityPublic: AudiencePublic, practices.VisibilityNetwork: AudienceMembers,
		practices.VisibilityDistrict: AudienceMembers, practices.VisibilityPeers: AudienceMembers} {
		if got := DocumentAudience(v); got != want {
			t.Errorf("DocumentAudience(%s) = %s, want %s", v, got, want)
		}
	}
}

func TestSynonyms(t *testing.T) {
	s := DefaultSynonyms()
	m := s.Map()
	for a, b := range map[string]string{"ela": "english language arts", "english language arts": "reading", "sel": "social emotional",
		"social emotional": "sel", "math": "mathematics", "plc": "professional learning community", "ell": "english learners", "swd": "special education"} {
		found := false
		for _, x := range m[a] {
			found = found || x == b
		}
		if !found {
			t.Errorf("synonyms of %q = %v, lack %q", a, m[a], b)
		}
	}
	cl := s.Expand(Words("Social-Emotional learning for ELLs and English language arts"))
	var got []string
	for _, c := range cl {
		got = append(got, strings.Join(c.Words, " "))
	}
	want := []string{"social emotional learning", "for", "ells", "and", "english language arts"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Expand clauses %q, want %q", got, want)
	}
	extra, err := ParseSynonyms(strings.NewReader("# district words\nmath, numeracy block\nbell ringer, do now, warm up\n"), "extra")
	if err != nil {
		t.Fatal(err)
	}
	merged := s.Merge(extra).Map()
	if !contains(merged["numeracy block"], "mathematics") || !contains(merged["do now"], "bell ringer") {
		t.Errorf("merged synonyms: %v / %v", merged["numeracy block"], merged["do now"])
	}
	if _, err := ParseSynonyms(strings.NewReader("lonely\n"), "bad"); err == nil || !strings.Contains(err.Error(), "bad line 1") {
		t.Errorf("one-term group: err %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestHighlight(t *testing.T) {
	got := string(MarkHighlights("a <b> " + HighlightPre + "fractions & \"x\"" + HighlightPost + " " + HighlightPre + "open"))
	want := "a &lt;b&gt; <mark>fractions &amp; &#34;x&#34;</mark> <mark>open</mark>"
	if got != want {
		t.Errorf("MarkHighlights = %s, want %s", got, want)
	}
	got = string(HighlightWords(`<i>Fractions</i> & fraction's`, func(w string) bool { return w == "fractions" || w == "i" }))
	want = "&lt;<mark>i</mark>&gt;<mark>Fractions</mark>&lt;/<mark>i</mark>&gt; &amp; fraction&#39;s"
	if got != want {
		t.Errorf("HighlightWords = %s, want %s", got, want)
	}
}

func TestDocumentProjection(t *testing.T) {
	eff := 0.42
	p := &practices.Practice{
		Meta:  practices.Meta{ID: "p1", Origin: "https://a.example.org", OriginID: "a", Visibility: practices.VisibilityPublic, Status: practices.StatusPublished},
		Title: "T\x00itle \uE000x", Subjects: []string{"math", "sel", "math"}, GradeLevels: []string{"04", "03", "06"},
		Standards: []practices.Standard{{Code: " ccss.math.content.4.nf.a.1 "}},
	}
	d := FromPractice(p, Evidence{Level: "replicated", PooledEffect: &eff, TestCount: 2, DistrictCount: 2, Designs: []string{"single_group_pre_post"}})
	if d.Title != "Title x" || !reflect.DeepEqual(d.Subjects, []string{"math", "sel"}) || !reflect.DeepEqual(d.GradeBands, []string{"3-5", "6-8"}) ||
		!reflect.DeepEqual(d.Standards, []string{"CCSS.MATH.CONTENT.4.NF.A.1"}) || d.EvidenceRank != 2 || !d.HasResults || d.Audience != AudiencePublic ||
		!strings.Contains(d.Tags, "4th") || !strings.Contains(d.Tags, "Mathematics") {
		t.Errorf("projection: %+v", d)
	}
	if d2 := FromPractice(p, Evidence{Level: "bogus"}); d2.EvidenceLevel != practices.LevelDescribed || d2.HasResults {
		t.Errorf("unknown level: %+v", d2)
	}
}
