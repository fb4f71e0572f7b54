package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/search/bleve"
	"github.com/brightspots-nic/brightspots/storage/fs"
	"github.com/brightspots-nic/brightspots/web"
	"github.com/brightspots-nic/brightspots/web/tokens"
)

// TestSearchAPINeedsOnlyAnIndex builds the server from the two parts GET /api/v1/search uses — a
// search index and the API tokens that say who is asking — and nothing else of a node: no
// repository, federation or sign-in. Anonymous callers see public documents only; a teacher's token
// sees the district's too; a bad parameter is a problem naming it.
func TestSearchAPINeedsOnlyAnIndex(t *testing.T) {
	ctx := context.Background()
	idx, err := bleve.Open(bleve.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	doc := func(id, title string, vis practices.Visibility) search.Document {
		return search.FromPractice(&practices.Practice{
			Meta: practices.Meta{ID: id, Kind: practices.KindPractice, Origin: "https://riverside.example", OriginID: "riverside",
				Status: practices.StatusPublished, UpdatedAt: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Visibility: vis},
			Title: title, Subjects: []string{"math"}, GradeLevels: []string{"04"},
		}, search.Evidence{})
	}
	if err := idx.Upsert(ctx, []search.Document{
		doc("open", "Number talks for fractions", practices.VisibilityPublic),
		doc("members", "Fraction strips with number talks", practices.VisibilityDistrict),
	}); err != nil {
		t.Fatal(err)
	}
	bucket, err := fs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	toks := tokens.New(bucket)
	teacher, _, err := toks.Create(ctx, "teacher", "teacher", "")
	if err != nil {
		t.Fatal(err)
	}

	srv, err := web.New(web.Config{
		Node:      web.Identity{ID: "riverside", Name: "Riverside", URL: "http://riverside.example"},
		RateLimit: web.RateLimitConfig{PerSecond: 1e6, Burst: 1e6},
	}, web.Parts{Index: idx, Tokens: toks})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	get := func(token, query string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, hs.URL+"/api/v1/search?"+query, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatalf("%s: not JSON: %v", query, err)
		}
		return res.StatusCode, body
	}
	ids := func(body map[string]any) []string {
		var out []string
		hits, _ := body["hits"].([]any)
		for _, h := range hits {
			out = append(out, h.(map[string]any)["record_id"].(string))
		}
		slices.Sort(out)
		return out
	}

	if code, body := get("", "q=fractions"); code != http.StatusOK || !slices.Equal(ids(body), []string{"open"}) {
		t.Fatalf("anonymous search: %d %v, want only the public practice", code, ids(body))
	}
	if code, body := get(teacher, "q=fractions"); code != http.StatusOK || !slices.Equal(ids(body), []string{"members", "open"}) {
		t.Fatalf("teacher search: %d %v, want both practices", code, ids(body))
	}
	code, body := get("", "q=fractions&per_page=many")
	if code != http.StatusBadRequest || body["type"] == nil {
		t.Fatalf("bad per_page: %d %v, want a 400 problem", code, body)
	}
	if errs, _ := body["errors"].([]any); len(errs) == 0 || errs[0].(map[string]any)["field"] != "per_page" {
		t.Fatalf("the problem does not name per_page: %v", body)
	}
}
