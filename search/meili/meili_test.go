package meili

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/meilisearch/meilisearch-go"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/search/searchtest"
)

// TestContract runs the shared suite against a real Meilisearch when BRIGHTSPOTS_TEST_MEILI_URL is set
// (and BRIGHTSPOTS_TEST_MEILI_KEY, if it needs one). Meilisearch cannot run on the project's machines,
// so this skip is accepted under CI too (the package doc says so); the unit tests below cover the
// request building without a server.
func TestContract(t *testing.T) {
	url := os.Getenv("BRIGHTSPOTS_TEST_MEILI_URL")
	if url == "" {
		t.Skip("skipping the Meilisearch contract suite: BRIGHTSPOTS_TEST_MEILI_URL is not set " +
			"(Meilisearch cannot run on this machine; this skip is accepted in CI too)")
	}
	n := 0
	searchtest.Run(t, func(t *testing.T) search.Index {
		n++
		uid := fmt.Sprintf("brightspots_test_%d_%d", os.Getpid(), n)
		idx, err := Open(context.Background(), Config{URL: url, APIKey: os.Getenv("BRIGHTSPOTS_TEST_MEILI_KEY"), Index: uid})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if _, err := idx.client.DeleteIndex(uid); err != nil {
				t.Logf("delete test index %s: %v", uid, err)
			}
		})
		return idx
	})
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		`math`:        `"math"`,
		`a"b`:         `"a\"b"`,
		`a\b`:         `"a\\b"`,
		`\"`:          `"\\\""`,
		`x" OR 1=1 "`: `"x\" OR 1=1 \""`,
		`ends with \`: `"ends with \\"`,
		`dist"rict\x`: `"dist\"rict\\x"`,
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestFilter(t *testing.T) {
	yes := false
	cases := []struct {
		name string
		q    search.Query
		want []string
	}{
		{"anonymous", search.Query{}, []string{`audience IN ["public"]`}},
		{"member", search.Query{Audience: search.MembersAudience()}, []string{`audience IN ["public", "members"]`}},
		{"everything", search.Query{
			Subjects: []string{"math", "sel"}, Grades: []string{"04"}, GradeBands: []string{"6-8"},
			Standards: []string{`CCSS.MATH.CONTENT.4.NF.A.1`, `Q"\`}, Districts: []string{"riverside"},
			MinEvidence: practices.LevelReplicated, Designs: []string{"post_only_comparison"}, Decisions: []string{"adopt"},
			Kinds: []practices.Kind{practices.KindPractice}, HasResults: &yes,
		}, []string{
			`audience IN ["public"]`,
			`subjects IN ["math", "sel"]`,
			`(grade_levels IN ["04"] OR grade_bands IN ["6-8"])`,
			`standards IN ["CCSS.MATH.CONTENT.4.NF.A.1", "Q\"\\"]`,
			`district IN ["riverside"]`,
			`evidence_rank >= 2`,
			`designs IN ["post_only_comparison"]`,
			`decisions IN ["adopt"]`,
			`kind IN ["practice"]`,
			`has_results = false`,
		}},
		{"band only", search.Query{GradeBands: []string{"K-2"}}, []string{`audience IN ["public"]`, `grade_bands IN ["K-2"]`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Filter(&c.q); !slices.Equal(got, c.want) {
				t.Errorf("Filter:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	q := search.Query{Text: "fractions", Sort: search.SortEffect, Page: 3, PerPage: 25}
	r := Request(&q)
	if r.Page != 3 || r.HitsPerPage == nil || *r.HitsPerPage != 25 {
		t.Errorf("paging: page %d hitsPerPage %v", r.Page, r.HitsPerPage)
	}
	q.CountOnly = true
	if r := Request(&q); r.HitsPerPage == nil || *r.HitsPerPage != 0 {
		t.Errorf("count only: hitsPerPage %v, want 0 (no documents, the exhaustive total and facets)", r.HitsPerPage)
	}
	if !slices.Equal(r.Sort, []string{"pooled_effect:desc", "updated_unix:desc"}) {
		t.Errorf("sort %v", r.Sort)
	}
	if !slices.Equal(r.Facets, []string{"subjects", "grade_bands", "district", "evidence_level"}) {
		t.Errorf("facets %v", r.Facets)
	}
	if r.HighlightPreTag != search.HighlightPre || r.HighlightPostTag != search.HighlightPost {
		t.Errorf("highlight tags %q %q", r.HighlightPreTag, r.HighlightPostTag)
	}
	q = search.Query{}
	if r := Request(&q); !slices.Equal(r.Sort, []string{"updated_unix:desc"}) {
		t.Errorf("empty query sort %v, want newest", r.Sort)
	}
	q = search.Query{Text: "x"}
	if r := Request(&q); r.Sort != nil {
		t.Errorf("relevance sort %v, want none", r.Sort)
	}
	// Short queries need every word; a question (five words besides stop words) drops the most
	// frequent ones until enough practices match, as the embedded backend does.
	for text, want := range map[string]meilisearch.MatchingStrategy{
		"fractions number line":                           meilisearch.All,
		"how to run a morning meeting":                    meilisearch.All,
		"how can I help my 3rd graders compare fractions": meilisearch.Frequency,
		"what helps students name emotions and calm down": meilisearch.Frequency,
	} {
		q := search.Query{Text: text}
		if got := Request(&q).MatchingStrategy; got != want {
			t.Errorf("%q: matching strategy %q, want %q", text, got, want)
		}
	}
}

// The ranking rules say what the embedded backend's ranking does: text rules first (words, typo,
// proximity, attribute, exactness), then evidence as the last tie-break; an explicit sort first.
func TestRankingRules(t *testing.T) {
	s := Settings(search.DefaultSynonyms())
	want := []string{"sort", "words", "typo", "proximity", "attribute", "exactness", "evidence_rank:desc"}
	if !slices.Equal(s.RankingRules, want) {
		t.Errorf("ranking rules %v, want %v", s.RankingRules, want)
	}
	// The attribute rule ranks by this order: the title first, the description after the summary
	// and key moves.
	if s.SearchableAttributes[0] != "title" ||
		slices.Index(s.SearchableAttributes, "description") < slices.Index(s.SearchableAttributes, "key_moves") {
		t.Errorf("searchable attributes %v: want the title first and the description after the key moves", s.SearchableAttributes)
	}
	// The evidence rule reads an attribute every document has.
	b, _ := json.Marshal(search.Document{EvidenceRank: 0})
	if !strings.Contains(string(b), `"evidence_rank":0`) {
		t.Errorf("documents lack evidence_rank: %s", b)
	}
	// Total is not capped at the paging window (nor at Meilisearch's default of 1,000).
	if s.Pagination == nil || s.Pagination.MaxTotalHits < 1_000_000 {
		t.Errorf("pagination %+v: Total would be capped", s.Pagination)
	}
}

func TestSettings(t *testing.T) {
	b, err := json.Marshal(Settings(search.DefaultSynonyms()))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	typo, _ := got["typoTolerance"].(map[string]any)
	// The whole object, enabled spelled out: a partial one would switch typo tolerance off.
	for _, k := range []string{"enabled", "minWordSizeForTypos", "disableOnWords", "disableOnAttributes", "disableOnNumbers"} {
		if _, ok := typo[k]; !ok {
			t.Errorf("typoTolerance lacks %q: %s", k, b)
		}
	}
	if typo["enabled"] != true {
		t.Errorf("typo tolerance not enabled: %v", typo)
	}
	syn, _ := got["synonyms"].(map[string]any)
	for term, other := range map[string]string{"sel": "social emotional", "social emotional": "sel", "math": "mathematics", "mathematics": "math", "ela": "english language arts"} {
		list, _ := syn[term].([]any)
		if !slices.Contains(list, any(other)) {
			t.Errorf("synonyms[%q] = %v, lacks %q", term, list, other)
		}
	}
	for _, k := range []string{"searchableAttributes", "filterableAttributes", "sortableAttributes", "rankingRules", "stopWords", "pagination", "faceting"} {
		if _, ok := got[k]; !ok {
			t.Errorf("settings lack %s", k)
		}
	}
	// Every attribute the filter builder uses is filterable.
	f := Filter(&search.Query{Subjects: []string{"math"}, Grades: []string{"01"}, GradeBands: []string{"K-2"}, Standards: []string{"X"},
		Districts: []string{"d"}, MinEvidence: "tested", Designs: []string{"post_only_comparison"}, Decisions: []string{"adopt"},
		Kinds: []practices.Kind{"practice"}, HasResults: new(bool)})
	for _, expr := range f {
		attr := strings.Fields(strings.TrimLeft(expr, "("))[0]
		if !slices.Contains(filterableAttributes, attr) {
			t.Errorf("filter uses %s, which is not filterable", attr)
		}
	}
}

// fakeMeili answers the few routes Open and a write use, recording request bodies, and fails the
// tasks of the kinds named in fail.
type fakeMeili struct {
	mu     sync.Mutex
	bodies map[string][]string
	tasks  map[int]string // uid → type
	fail   map[string]string
}

func (f *fakeMeili) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	key := r.Method + " " + r.URL.Path
	f.bodies[key] = append(f.bodies[key], string(body))
	enqueue := func(typ string) {
		uid := len(f.tasks) + 1
		f.tasks[uid] = typ
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"taskUid":%d,"indexUid":"p","status":"enqueued","type":%q,"enqueuedAt":"2026-11-23T10:00:00Z"}`, uid, typ)
	}
	switch {
	case r.Method == "POST" && r.URL.Path == "/indexes":
		enqueue("indexCreation")
	case r.Method == "PATCH" && r.URL.Path == "/indexes/p/settings":
		enqueue("settingsUpdate")
	case r.Method == "POST" && r.URL.Path == "/indexes/p/documents":
		enqueue("documentAdditionOrUpdate")
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/tasks/"):
		var uid int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/tasks/"), "%d", &uid)
		typ := f.tasks[uid]
		if code, ok := f.fail[typ]; ok {
			fmt.Fprintf(w, `{"uid":%d,"status":"failed","type":%q,"error":{"message":"it broke","code":%q,"type":"invalid_request"}}`, uid, typ, code)
			return
		}
		fmt.Fprintf(w, `{"uid":%d,"status":"succeeded","type":%q}`, uid, typ)
	default:
		http.NotFound(w, r)
	}
}

func newFake(fail map[string]string) (*fakeMeili, *httptest.Server) {
	f := &fakeMeili{bodies: map[string][]string{}, tasks: map[int]string{}, fail: fail}
	return f, httptest.NewServer(f)
}

func TestOpenAppliesSettingsAndAwaitsTasks(t *testing.T) {
	// An existing index is fine: creation fails with index_already_exists.
	f, srv := newFake(map[string]string{"indexCreation": "index_already_exists"})
	defer srv.Close()
	idx, err := Open(context.Background(), Config{URL: srv.URL, Index: "p"})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	settings := f.bodies["PATCH /indexes/p/settings"]
	if len(settings) != 1 || !strings.Contains(settings[0], `"typoTolerance":{"enabled":true,`) {
		t.Fatalf("settings body: %v", settings)
	}
	if err := idx.Upsert(context.Background(), []search.Document{{ID: "practice_abc_1", Title: "x"}}); err != nil {
		t.Fatalf("upsert: %v", err)
	}
	if docs := f.bodies["POST /indexes/p/documents"]; len(docs) != 1 || !strings.Contains(docs[0], `"id":"practice_abc_1"`) {
		t.Fatalf("documents body: %v", docs)
	}
}

func TestFailedTaskIsAnError(t *testing.T) {
	_, srv := newFake(map[string]string{"documentAdditionOrUpdate": "invalid_document_id"})
	defer srv.Close()
	idx, err := Open(context.Background(), Config{URL: srv.URL, Index: "p"})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	err = idx.Upsert(context.Background(), []search.Document{{ID: "practice_abc_1"}})
	if err == nil || !strings.Contains(err.Error(), "invalid_document_id") || !strings.Contains(err.Error(), "failed") {
		t.Fatalf("upsert with a failed task: err %v", err)
	}

	_, srv2 := newFake(map[string]string{"settingsUpdate": "invalid_settings"})
	defer srv2.Close()
	if _, err := Open(context.Background(), Config{URL: srv2.URL, Index: "p"}); err == nil || !strings.Contains(err.Error(), "invalid_settings") {
		t.Fatalf("open with failing settings: err %v", err)
	}
}

func TestDocumentIDsAreMeiliSafe(t *testing.T) {
	for _, id := range []string{"3f2b9c1e-0d4a-5e6f-8a7b-1c2d3e4f5a6b", "has space", "slash/ed", strings.Repeat("x", 600), "ünïcode"} {
		d := search.DocID("https://a.example.org", practices.KindPractice, id)
		if len(d) > 511 {
			t.Errorf("DocID(%q) is %d bytes", id, len(d))
		}
		for _, c := range d {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				t.Errorf("DocID(%q) = %q has %q", id, d, c)
			}
		}
	}
}
