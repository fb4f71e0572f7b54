package web_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
)

// parseFeed fetches path anonymously and parses it with gofeed's parser (a feed library the node
// does not use), requiring Atom.
func (n *testNode) parseFeed(t *testing.T, path string) *gofeed.Feed {
	t.Helper()
	r := n.do("", "GET", path, nil)
	if r.status != 200 {
		t.Fatalf("%s: %d %s", path, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/atom+xml") {
		t.Fatalf("%s: Content-Type %q", path, ct)
	}
	f, err := gofeed.NewParser().ParseString(string(r.body))
	if err != nil {
		t.Fatalf("%s does not parse as a feed: %v\n%s", path, err, r.body)
	}
	if f.FeedType != "atom" || f.FeedVersion != "1.0" {
		t.Fatalf("%s: feed type %s %s", path, f.FeedType, f.FeedVersion)
	}
	return f
}

func feedTitles(f *gofeed.Feed) []string {
	var out []string
	for _, it := range f.Items {
		out = append(out, it.Title)
	}
	return out
}

func TestAtomFeeds(t *testing.T) {
	n := newTestNode(t)
	a := n.publishPractice("Fraction strips for everyone", "public")
	b := n.publishPractice("Number talks with fractions", "public")
	hidden := n.publishPractice("Fraction district secret", "district")
	n.searchUntil("teacher", "q=fraction", func(res map[string]any) bool { return len(hitTitles(res)) == 3 })

	// A search feed: public records only, newest first, each with its link, summary and evidence.
	f := n.parseFeed(t, "/search.atom?q=fraction&subject=math")
	if got := feedTitles(f); !slices.Equal(got, []string{"Number talks with fractions", "Fraction strips for everyone"}) {
		t.Fatalf("search feed entries %v", got)
	}
	it := f.Items[0]
	if it.Link != n.url+"/practices/"+b || it.GUID != n.url+"/practices/"+b || !strings.Contains(it.Description, "Students place fractions") ||
		!strings.Contains(it.Description, "Evidence: ") || it.UpdatedParsed == nil {
		t.Errorf("entry %+v", it)
	}
	terms := it.Categories
	if !slices.Contains(terms, "Evidence: Described") || !slices.Contains(terms, "Mathematics") { // gofeed reads the labels
		t.Errorf("entry categories %v", terms)
	}
	if f.Link != n.url+"/search?q=fraction&subject=math" {
		t.Errorf("feed alternate link %q", f.Link)
	}
	// Bad parameters are refused the way the search API refuses them.
	wantProblem(t, n.do("", "GET", "/search.atom?sort=sideways", nil, "Accept", "application/atom+xml"), 400, "sort")

	// The search page links its feed, with the same query.
	page := string(n.do("", "GET", "/search?q=fraction&subject=math&page=1", nil).body)
	if !strings.Contains(page, `<link rel="alternate" type="application/atom+xml" title="New practices matching this search (Atom)" href="/search.atom?q=fraction&amp;subject=math">`) {
		t.Errorf("search page does not link its feed:\n%s", page[:min(len(page), 1500)])
	}

	// A collection's feed lists the practices an anonymous reader may see, in the curator's order.
	col := map[string]any{"title": "Fractions across the network", "description": "Fraction sense.", "aim": "Raise grade 4 fraction proficiency",
		"visibility": "public", "items": []map[string]string{{"practice_uri": n.url + "/practices/" + a}, {"practice_uri": n.url + "/practices/" + hidden}, {"practice_uri": n.url + "/practices/" + b}}}
	r := n.doJSON("coordinator", "POST", "/api/v1/collections", col)
	if r.status != 201 {
		t.Fatalf("create collection: %d %s", r.status, r.body)
	}
	cid := r.json(t)["id"].(string)
	if r := n.doJSON("coordinator", "POST", "/api/v1/collections/"+cid+"/publish", nil); r.status != 200 {
		t.Fatalf("publish collection: %d %s", r.status, r.body)
	}
	f = n.parseFeed(t, "/collections/"+cid+"/feed.atom")
	if got := feedTitles(f); !slices.Equal(got, []string{"Fraction strips for everyone", "Number talks with fractions"}) || f.Title != "Fractions across the network · My District" {
		t.Fatalf("collection feed %q entries %v", f.Title, got)
	}
	page = string(n.do("", "GET", "/collections/"+cid, nil).body)
	if !strings.Contains(page, `href="/collections/`+cid+`/feed.atom"`) {
		t.Error("collection page does not link its feed")
	}
	if r := n.do("", "GET", "/collections/0190a0a0-0000-7000-8000-000000000000/feed.atom", nil, "Accept", "application/atom+xml"); r.status != 404 {
		t.Errorf("feed of a missing collection: %d", r.status)
	}

	// A team's feed: its public published work, never the district-only practice.
	f = n.parseFeed(t, "/teams/math-4/feed.atom")
	if got := feedTitles(f); !slices.Equal(got, []string{"Number talks with fractions", "Fraction strips for everyone"}) {
		t.Fatalf("team feed entries %v", got)
	}
	page = string(n.do("", "GET", "/practices/"+a, nil).body)
	if !strings.Contains(page, `href="/teams/math-4/feed.atom"`) {
		t.Error("practice page does not link its team's feed")
	}
	if f := n.parseFeed(t, "/teams/nobody/feed.atom"); len(f.Items) != 0 {
		t.Errorf("unknown team's feed has %d entries", len(f.Items))
	}
}

func TestSitemapAndRobotsRoutes(t *testing.T) {
	n := newTestNode(t)
	pub := n.publishPractice("Public one", "public")
	hidden := n.publishPractice("Network one", "network")
	r := n.do("", "GET", "/sitemap.xml", nil)
	body := string(r.body)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/xml") ||
		!strings.Contains(body, "<loc>"+n.url+"/practices/"+pub+"</loc>") || strings.Contains(body, hidden) {
		t.Fatalf("sitemap: %d %s", r.status, body)
	}
	if r := n.do("", "GET", "/sitemap-1.xml", nil, "Accept", "application/xml"); r.status != 404 {
		t.Errorf("sitemap part of an unsplit sitemap: %d", r.status)
	}
	r = n.do("", "GET", "/robots.txt", nil)
	if r.status != 200 || !strings.Contains(string(r.body), "Sitemap: "+n.url+"/sitemap.xml") {
		t.Errorf("robots.txt: %d %s", r.status, r.body)
	}
	if r := n.do("", "GET", "/oai/lrmi.xsd", nil); r.status != 200 || !strings.Contains(string(r.body), `targetNamespace="http://purl.org/dcx/lrmi-terms/"`) {
		t.Errorf("lrmi.xsd: %d", r.status)
	}
}

// TestTeamFeedListsTests: a team's feed carries its public published tests (cycles) beside its
// practices, linked to their public pages, and never a test that is for the network only.
func TestTeamFeedListsTests(t *testing.T) {
	n := newTestNode(t)
	_, practiceURI := tpTestedPractice(n, "Fraction number line talks", func(p map[string]any) { p["visibility"] = "public" })
	tid := n.plannedTest(practiceURI)
	r := n.do("math", "POST", "/api/v1/tests/"+tid+"/results", strings.NewReader(`{"groups":[{"n":25,"mean_pre":48.2,"sd_pre":10.5,"mean_post":53.9,"sd_post":10.5,"r":0.78}]}`), "Content-Type", "application/json")
	if r.status != 200 {
		t.Fatalf("results: %d %s", r.status, r.body)
	}
	rec := r.json(t)["test"].(map[string]any)
	rec["visibility"], rec["title"], rec["learnings"], rec["decision"] = "public", "Open cycle", "Placing fractions aloud helped.", "adopt"
	if r := n.doJSON("math", "PUT", "/api/v1/tests/"+tid, rec, "If-Match", r.header.Get("ETag")); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	if r := n.doJSON("math", "POST", "/api/v1/tests/"+tid+"/publish", nil); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	f := n.parseFeed(t, "/teams/math-4/feed.atom")
	if got := feedTitles(f); !slices.Equal(got, []string{"Open cycle", "Fraction number line talks"}) {
		t.Fatalf("team feed entries %v (want the public test, newest first, then the practice; not the network-only tests)", got)
	}
	item := f.Items[0]
	if item.Link != n.url+"/tests/"+tid || !strings.Contains(item.Description, "Decision: Adopt.") || !strings.Contains(item.Description, "Placing fractions aloud helped.") {
		t.Errorf("test entry: link %q, summary %q", item.Link, item.Description)
	}
}
