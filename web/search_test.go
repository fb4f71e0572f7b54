package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/web"
)

// searchUntil polls the search API until check passes or 5 s pass (the indexer follows the change
// log within a second or two; the deadline only bounds a failing test).
func (n *testNode) searchUntil(who, query string, check func(map[string]any) bool) map[string]any {
	n.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := n.do(who, "GET", "/api/v1/search?"+query, nil)
		if r.status != 200 {
			n.t.Fatalf("search %q: %d %s", query, r.status, r.body)
		}
		res := r.json(n.t)
		if check(res) || time.Now().After(deadline) {
			return res
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func hitTitles(res map[string]any) []string {
	var out []string
	hits, _ := res["hits"].([]any)
	for _, h := range hits {
		out = append(out, h.(map[string]any)["title"].(string))
	}
	return out
}

func hasTitle(res map[string]any, title string) bool {
	for _, t := range hitTitles(res) {
		if t == title {
			return true
		}
	}
	return false
}

func TestSearchOverHTTP(t *testing.T) {
	n := newTestNode(t)
	publish := func(title, visibility string) string {
		p := practiceJSON(title)
		p["visibility"] = visibility
		id := n.doJSON("math", "POST", "/api/v1/practices", p).json(t)["id"].(string)
		if r := n.doJSON("math", "POST", "/api/v1/practices/"+id+"/publish", nil); r.status != 200 {
			t.Fatalf("publish: %d %s", r.status, r.body)
		}
		return id
	}
	networkID := publish("Fraction number line talks", "network")
	publish("Public fraction strips", "public")
	draft := practiceJSON("Secret fraction draft")
	n.doJSON("math", "POST", "/api/v1/practices", draft)

	q := url.Values{"q": {"fractoins number line"}, "grade": {"04"}}.Encode()
	res := n.searchUntil("teacher", q, func(m map[string]any) bool { return hasTitle(m, "Fraction number line talks") })
	if !hasTitle(res, "Fraction number line talks") {
		t.Fatalf("typo query did not find the practice: %v", hitTitles(res))
	}
	if res["facets"] == nil || res["total"] == nil || res["took_ms"] == nil || res["per_page"] == nil {
		t.Fatalf("response shape: %v", res)
	}
	// Compressed when the client accepts it (at the fastest level, web/server.go), to the same JSON.
	plain := n.do("teacher", "GET", "/api/v1/search?"+q, nil, "Accept-Encoding", "identity")
	zipped := n.do("teacher", "GET", "/api/v1/search?"+q, nil, "Accept-Encoding", "gzip")
	if len(plain.body) < 1024 {
		t.Fatalf("a search answer of %d bytes is below the compression threshold; the check needs more", len(plain.body))
	}
	if plain.header.Get("Content-Encoding") != "" || zipped.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding: %q without gzip, %q with", plain.header.Get("Content-Encoding"), zipped.header.Get("Content-Encoding"))
	}
	for _, r := range []response{plain, zipped} {
		if r.header.Get("Content-Length") != strconv.Itoa(len(r.body)) || !strings.Contains(r.header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("search answer of %d bytes: Content-Length %q, Vary %q; want its length, and Vary: Accept-Encoding", len(r.body), r.header.Get("Content-Length"), r.header.Get("Vary"))
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped.body))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	if err := json.Unmarshal(plain.body, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(unzipped, &b); err != nil {
		t.Fatalf("gzipped answer: %v", err)
	}
	delete(a, "took_ms")
	delete(b, "took_ms")
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("gzipped answer differs:\n%s\n%s", plain.body, unzipped)
	}
	// Anonymous callers see public practices only; nobody sees a draft.
	res = n.searchUntil("", "q=fraction", func(m map[string]any) bool { return hasTitle(m, "Public fraction strips") })
	if !hasTitle(res, "Public fraction strips") || hasTitle(res, "Fraction number line talks") {
		t.Fatalf("anonymous search: %v", hitTitles(res))
	}
	// Once the indexer has read the draft's log entry, nobody finds it — not even its own team.
	waitFor(t, "indexer caught up with the draft", func() bool {
		return n.srv.Indexer().Cursor() >= n.srv.Repo().LogEnd()
	})
	for _, who := range []string{"", "teacher", "math", "admin"} {
		if r := n.do(who, "GET", "/api/v1/search?q=secret", nil).json(t); len(hitTitles(r)) != 0 {
			t.Fatalf("a draft appeared in %q's search: %v", who, hitTitles(r))
		}
	}
	// Withdrawal removes it from search.
	n.doJSON("math", "POST", "/api/v1/practices/"+networkID+"/withdraw", nil)
	res = n.searchUntil("teacher", "q=number+line", func(m map[string]any) bool { return !hasTitle(m, "Fraction number line talks") })
	if hasTitle(res, "Fraction number line talks") {
		t.Fatal("withdrawn practice still in search after 5 s")
	}
}

func TestSearchBadInput(t *testing.T) {
	n := newTestNode(t)
	cases := []struct{ query, param string }{
		{"per_page=1000", "per_page"},
		{"page=0", "page"},
		{"subject=astrology", "subject"},
		{"evidence=legendary", "evidence"},
		{"sort=random", "sort"},
		{"q=" + url.QueryEscape(strings.Repeat("fraction ", 1200)), "q"},
		{"q=" + url.QueryEscape("frac\x00tions"), "q"},
		{"colour=red", "colour"},
	}
	for _, tc := range cases {
		t.Run(tc.param, func(t *testing.T) {
			wantProblem(t, n.do("teacher", "GET", "/api/v1/search?"+tc.query, nil), 400, tc.param)
		})
	}
	// An empty query lists by newest; a page past the end is empty with the real total.
	if r := n.do("teacher", "GET", "/api/v1/search", nil); r.status != 200 {
		t.Fatalf("empty query: %d %s", r.status, r.body)
	}
	if r := n.do("teacher", "GET", "/api/v1/search?page=50", nil); r.status != 200 || len(hitTitles(r.json(t))) != 0 {
		t.Fatalf("page past the end: %d %s", r.status, r.body)
	}
}

// TestEvidenceReachesSearch: publishing a test with results raises its practice's evidence level
// in search, without any new version of the practice.
func TestEvidenceReachesSearch(t *testing.T) {
	n := newTestNode(t)
	pr := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Number line talks")).json(t)
	n.doJSON("math", "POST", "/api/v1/practices/"+pr["id"].(string)+"/publish", nil)
	res := n.searchUntil("teacher", "q=number+line&evidence=tested", func(m map[string]any) bool { return false })
	if hasTitle(res, "Number line talks") {
		t.Fatal("an untested practice matched evidence=tested")
	}
	id := n.plannedTest(pr["uri"].(string))
	r := n.do("math", "POST", "/api/v1/tests/"+id+"/results", strings.NewReader(scoreCSV(districtAPre, districtAPost)), "Content-Type", "text/csv")
	test := r.json(t)["test"].(map[string]any)
	test["learnings"], test["decision"] = "It worked.", "adopt"
	n.doJSON("math", "PUT", "/api/v1/tests/"+id, test, "If-Match", r.header.Get("ETag"))
	if r := n.doJSON("math", "POST", "/api/v1/tests/"+id+"/publish", nil); r.status != 200 {
		t.Fatalf("publish test: %d %s", r.status, r.body)
	}
	res = n.searchUntil("teacher", "q=number+line&evidence=tested", func(m map[string]any) bool { return hasTitle(m, "Number line talks") })
	if !hasTitle(res, "Number line talks") {
		t.Fatalf("practice not at evidence level tested after its test was published: %v", hitTitles(res))
	}
}

// Accept-Encoding is read as RFC 9110 says: q=0 refuses a coding, * stands for any not named, and a
// named gzip wins over *.
func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header []string
		want   bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"gzip"}, true},
		{[]string{"GZIP"}, true},
		{[]string{"x-gzip"}, true},
		{[]string{"br, gzip;q=0.5"}, true},
		{[]string{"deflate", "gzip"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.000"}, false},
		{[]string{"identity"}, false},
		{[]string{"*"}, true},
		{[]string{"*;q=0"}, false},
		{[]string{"gzip;q=0, *"}, false},
		{[]string{"*, gzip;q=0"}, false},
		{[]string{"gzipped"}, false},
	} {
		if got := web.AcceptsGzip(tc.header); got != tc.want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tc.header, got, tc.want)
		}
	}
}
