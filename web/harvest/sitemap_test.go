package harvest

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

type urlSet struct {
	XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []struct {
		Loc     string `xml:"loc"`
		Lastmod string `xml:"lastmod"`
	} `xml:"url"`
}

type sitemapIndex struct {
	XMLName  xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 sitemapindex"`
	Sitemaps []struct {
		Loc string `xml:"loc"`
	} `xml:"sitemap"`
}

func (f *fixture) fetch(serve func(http.ResponseWriter, *http.Request), path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	serve(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

func (f *fixture) locs(body []byte) []string {
	f.t.Helper()
	var us urlSet
	if err := xml.Unmarshal(body, &us); err != nil {
		f.t.Fatalf("not a urlset: %v\n%s", err, body)
	}
	var out []string
	for _, u := range us.URLs {
		if u.Lastmod == "" {
			f.t.Errorf("%s has no lastmod", u.Loc)
		}
		out = append(out, u.Loc)
	}
	return out
}

func TestSitemapListsExactlyThePublicPages(t *testing.T) {
	f := newFixture(t, 10)
	f.h.cfg.PageKinds = []practices.Kind{practices.KindPractice, practices.KindCollection}
	ctx := context.Background()
	a := f.publish("A", "public", []string{"math"}, []string{"04"})
	b := f.publish("B", "public", []string{"math"}, []string{"04"})
	f.publish("District only", "district", []string{"math"}, []string{"04"})
	col, err := f.repo.Create(ctx, coord, &practices.Collection{
		Meta: practices.Meta{Team: "nic", Visibility: practices.VisibilityPublic}, Title: "C", Description: "d",
		Items: []practices.CollectionItem{{PracticeURI: node.URL + "/practices/" + a}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cid := col.RecordMeta().ID
	if _, err := f.repo.Publish(ctx, coord, practices.KindCollection, cid, 0); err != nil {
		t.Fatal(err)
	}
	want := []string{node.URL + "/collections/" + cid, node.URL + "/practices/" + a, node.URL + "/practices/" + b}
	slices.Sort(want)
	w := f.fetch(f.h.ServeSitemap, "/sitemap.xml")
	if got := f.locs(w.Body.Bytes()); !slices.Equal(got, want) {
		t.Fatalf("sitemap %v, want %v", got, want)
	}
	// A withdrawal takes the page out at once.
	if _, err := f.repo.Withdraw(ctx, mathPLC, practices.KindPractice, a, 0); err != nil {
		t.Fatal(err)
	}
	w = f.fetch(f.h.ServeSitemap, "/sitemap.xml")
	if got := f.locs(w.Body.Bytes()); slices.Contains(got, node.URL+"/practices/"+a) || len(got) != 2 {
		t.Fatalf("after withdrawal: %v", got)
	}

	// Past the limit the sitemap is an index of parts that together list every page once.
	f.h.sitemap.limit = 1
	w = f.fetch(f.h.ServeSitemap, "/sitemap.xml")
	var idx sitemapIndex
	if err := xml.Unmarshal(w.Body.Bytes(), &idx); err != nil || len(idx.Sitemaps) != 2 || idx.Sitemaps[1].Loc != node.URL+"/sitemap-2.xml" {
		t.Fatalf("index: %v %s", err, w.Body)
	}
	var all []string
	for _, part := range []string{"1", "2"} {
		w := httptest.NewRecorder()
		f.h.ServeSitemapPart(w, httptest.NewRequest(http.MethodGet, "/sitemap-"+part+".xml", nil), part)
		all = append(all, f.locs(w.Body.Bytes())...)
	}
	if len(all) != 2 || all[0] == all[1] {
		t.Fatalf("parts list %v", all)
	}
	for _, bad := range []string{"3", "0", "01", "x"} {
		w := httptest.NewRecorder()
		f.h.ServeSitemapPart(w, httptest.NewRequest(http.MethodGet, "/sitemap-"+bad+".xml", nil), bad)
		if w.Code != http.StatusNotFound {
			t.Errorf("part %q: %d", bad, w.Code)
		}
	}

	robots := f.fetch(f.h.ServeRobots, "/robots.txt").Body.String()
	for _, want := range []string{"Sitemap: " + node.URL + "/sitemap.xml", "Disallow: /workspace", "Disallow: /api/", "Disallow: /federation/"} {
		if !strings.Contains(robots, want) {
			t.Errorf("robots.txt lacks %q:\n%s", want, robots)
		}
	}
}
