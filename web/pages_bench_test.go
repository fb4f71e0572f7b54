package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices/corpus"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/search/searchbench"
)

// BenchmarkTeacherPages measures the two pages teachers load most: the search page (the query mix
// of BenchmarkSearchAPI against 10,000 indexed practices) and a practice page with four pooled
// tests (docs/records.md's districts A–D) and a material. It reports the bytes a first visit transfers
// (HTML, the stylesheet, and search.js on the search page; nothing else is loaded, the forest plot
// is inside the HTML) and the latency of rendering each page over loopback HTTP with 16 concurrent
// clients (p50, p99), signed in as a teacher.
//
//	go test ./web -run '^$' -bench TeacherPages -benchtime 1x
func BenchmarkTeacherPages(b *testing.B) {
	srv, base, token := benchNode(b, 10000)
	ctx := context.Background()
	pub, _, err := srv.Tokens().Create(ctx, "bench-math", "publisher", "math-4")
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	call := func(method, path, ctype string, body []byte, etag string) (int, []byte, http.Header) {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+pub)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if etag != "" {
			req.Header.Set("If-Match", etag)
		}
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res.StatusCode, out, res.Header
	}
	must := func(want int, what string) func(int, []byte, http.Header) ([]byte, http.Header) {
		return func(status int, body []byte, h http.Header) ([]byte, http.Header) {
			if status != want {
				b.Fatalf("%s: %d %s", what, status, body)
			}
			return body, h
		}
	}
	js := func(v any) []byte { out, _ := json.Marshal(v); return out }
	field := func(body []byte, k string) any {
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		return m[k]
	}

	// The practice: a realistic description, four tests with results, one material.
	p := practiceJSON("Fraction number line talks")
	p["description"] = strings.Repeat("Draw the line, hand out the cards, and ask each pair to place and justify a fraction. ", 12)
	p["context_notes"] = "Works best after unit fractions; pairs of mixed attainment."
	p["license"] = "https://creativecommons.org/licenses/by/4.0/"
	body, _ := must(201, "create practice")(call("POST", "/api/v1/practices", "application/json", js(p), ""))
	id, uri := field(body, "id").(string), field(body, "uri").(string)
	must(201, "upload")(call("POST", "/api/v1/practices/"+id+"/artifacts?name=lesson-plan.pdf", "application/pdf", pdfBytes, ""))
	must(200, "publish practice")(call("POST", "/api/v1/practices/"+id+"/publish", "", nil, ""))
	uploads := []struct{ ctype, body string }{
		{"text/csv", scoreCSV(districtAPre, districtAPost)},
		{"application/json", `{"groups":[{"n":25,"mean_pre":48.2,"sd_pre":10.5,"mean_post":53.9,"sd_post":10.5,"r":0.78}]}`},
		{"application/json", `{"groups":[{"n":18,"mean_pre":61.0,"sd_pre":9.0,"mean_post":62.8,"sd_post":9.0,"r":0.70}]}`},
		{"application/json", `{"groups":[{"n":30,"mean_pre":52.4,"sd_pre":12.1,"mean_post":60.3,"sd_post":12.1,"r":0.82}]}`},
	}
	for i, u := range uploads {
		t := map[string]any{
			"team": "math-4", "visibility": "network", "title": fmt.Sprintf("Cycle %d", i+1),
			"practice": map[string]any{"uri": uri, "version": 1}, "cycle": "pdsa", "design": "single_group_pre_post",
			"question":   "Do number line talks raise fraction comparison scores?",
			"prediction": map[string]any{"text": "Effect of at least 0.3", "metric": "effect_size", "operator": ">=", "value": 0.3},
			"assessment": map[string]any{"name": "Unit 5 fractions", "score_min": 0, "score_max": 100, "proficiency_cut": 65, "form": "parallel"},
			"cohort":     map[string]any{"grade_levels": []string{"04"}, "subjects": []string{"math"}, "classrooms": 2, "students_planned": 24},
			"start_date": "2026-02-01", "end_date": "2026-03-15",
			"dosage": map[string]any{"sessions_planned": 12, "sessions_delivered": 11, "minutes_per_session": 15},
		}
		body, _ := must(201, "create test")(call("POST", "/api/v1/tests", "application/json", js(t), ""))
		tid := field(body, "id").(string)
		body, h := must(200, "results")(call("POST", "/api/v1/tests/"+tid+"/results", u.ctype, []byte(u.body), ""))
		rec := field(body, "test").(map[string]any)
		rec["learnings"], rec["decision"] = "Placing aloud helped.", "adopt"
		must(200, "decision")(call("PUT", "/api/v1/tests/"+tid, "application/json", js(rec), h.Get("ETag")))
		must(200, "publish test")(call("POST", "/api/v1/tests/"+tid+"/publish", "", nil, ""))
	}

	get := func(ctx context.Context, path string) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "text/html")
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		n, err := io.Copy(io.Discard, res.Body)
		if res.StatusCode != 200 {
			return 0, fmt.Errorf("%s: %d", path, res.StatusCode)
		}
		return int(n), err
	}
	size := func(path string) int {
		n, err := get(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	districts := corpus.Districts(12)
	mix := searchbench.Mix(searchbench.MixConfig{Seed: 7, N: 1000, Corpus: corpus.New(corpus.Config{Seed: 2026, Districts: districts}), CorpusLen: 10000, Districts: districts})
	pages := []struct {
		name    string
		first   string   // the page a first visit loads
		assets  []string // what it loads with it
		run     searchbench.RunFunc
		queries []search.Query
	}{
		{"search", "/search?q=fraction+number+line", []string{"/static/style.css", "/static/search.js"},
			func(ctx context.Context, q search.Query) (int, error) {
				return get(ctx, "/search?"+q.Values().Encode())
			}, mix},
		{"practice", "/practices/" + url.PathEscape(id), []string{"/static/style.css"},
			func(ctx context.Context, _ search.Query) (int, error) { return get(ctx, "/practices/"+id) }, mix[:1]},
	}
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			html := size(pg.first)
			total := html
			for _, a := range pg.assets {
				total += size(a)
			}
			searchbench.Load(ctx, pg.run, pg.queries, 16, 500) // warm up
			b.ResetTimer()
			var st searchbench.Stats
			for range b.N {
				st = searchbench.Load(ctx, pg.run, pg.queries, 16, 3000)
			}
			b.StopTimer()
			if st.Errors > 0 {
				b.Fatalf("%d errors", st.Errors)
			}
			b.ReportMetric(float64(html), "html-bytes")
			b.ReportMetric(float64(total), "first-visit-bytes")
			b.ReportMetric(float64(st.P50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(st.P99.Microseconds())/1000, "p99-ms")
			b.Logf("%s page: %d bytes of HTML, %d bytes with its assets; 16 clients: %s", pg.name, html, total, st)
		})
	}
}
