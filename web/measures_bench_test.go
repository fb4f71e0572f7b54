package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"
)

// BenchmarkPracticePageWithMeasures measures a practice page whose 12 published tests each carry
// two weekly measures (an exit ticket of 14 points, a fluency percentage of 12): the small
// multiples of both measures across the 12 tests. It reports the HTML's weight, the weight of the
// small-multiple SVGs the page loads, and the time to render the page over loopback HTTP.
//
//	go test ./web -run '^$' -bench PracticePageWithMeasures -benchtime 20x
func BenchmarkPracticePageWithMeasures(b *testing.B) {
	srv, base, token := benchNode(b, 0)
	pub, _, err := srv.Tokens().Create(context.Background(), "bench-math", "publisher", "math-4")
	if err != nil {
		b.Fatal(err)
	}
	call := func(who, method, path, ctype string, body []byte, etag string) (int, []byte, http.Header) {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+who)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if etag != "" {
			req.Header.Set("If-Match", etag)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res.StatusCode, out, res.Header
	}
	js := func(v any) []byte { out, _ := json.Marshal(v); return out }
	var rec map[string]any
	status, body, _ := call(pub, "POST", "/api/v1/practices", "application/json", js(practiceJSON("Fraction number line talks")), "")
	_ = json.Unmarshal(body, &rec)
	id, uri := rec["id"].(string), rec["uri"].(string)
	if status != 201 {
		b.Fatal(status, string(body))
	}
	call(pub, "POST", "/api/v1/practices/"+id+"/publish", "", nil, "")
	start := time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC)
	for k := 0; k < 12; k++ {
		exit := weeklyExitTicket()
		var pts []map[string]any
		for i := 0; i < 14; i++ {
			pts = append(pts, map[string]any{"date": start.AddDate(0, 0, 7*i).Format(time.DateOnly), "n": 20 + (i+k)%6, "value": 2 + float64((i*7+k)%10)/10})
		}
		exit["points"], exit["baseline"] = pts, 6
		fluency := map[string]any{"id": "fluency", "name": "Students meeting the fluency goal", "type": "process", "kind": "percent",
			"direction": "up", "baseline": 6}
		var fp []map[string]any
		for i := 0; i < 12; i++ {
			fp = append(fp, map[string]any{"date": start.AddDate(0, 0, 7*i).Format(time.DateOnly), "n": 24, "value": 40 + (i*13+k*7)%30})
		}
		fluency["points"] = fp
		t := map[string]any{
			"team": "math-4", "visibility": "network", "title": fmt.Sprintf("Cycle %d", k+1),
			"practice": map[string]any{"uri": uri, "version": 1}, "cycle": "pdsa", "design": "single_group_pre_post",
			"question": "Does it help?", "prediction": map[string]any{"text": "g ≥ 0.3", "metric": "effect_size", "operator": ">=", "value": 0.3},
			"assessment": map[string]any{"name": "Unit 5", "score_min": 0, "score_max": 100, "proficiency_cut": 65, "form": "parallel"},
			"cohort":     map[string]any{"grade_levels": []string{"04"}, "subjects": []string{"math"}, "classrooms": 2, "students_planned": 24},
			"start_date": "2026-09-07", "end_date": "2026-12-15",
			"dosage":   map[string]any{"sessions_planned": 12, "sessions_delivered": 11, "minutes_per_session": 15},
			"measures": []any{exit, fluency},
		}
		status, body, _ := call(pub, "POST", "/api/v1/tests", "application/json", js(t), "")
		if status != 201 {
			b.Fatal(status, string(body))
		}
		_ = json.Unmarshal(body, &rec)
		tid := rec["id"].(string)
		_, body, h := call(pub, "POST", "/api/v1/tests/"+tid+"/results", "application/json",
			[]byte(`{"groups":[{"n":25,"mean_pre":48.2,"sd_pre":10.5,"mean_post":53.9,"sd_post":10.5,"r":0.78}]}`), "")
		var up map[string]any
		_ = json.Unmarshal(body, &up)
		tr := up["test"].(map[string]any)
		tr["learnings"], tr["decision"] = "It helped.", "adopt"
		delete(tr, "measures")
		if status, body, _ := call(pub, "PUT", "/api/v1/tests/"+tid, "application/json", js(tr), h.Get("ETag")); status != 200 {
			b.Fatal(status, string(body))
		}
		if status, body, _ := call(pub, "POST", "/api/v1/tests/"+tid+"/publish", "", nil, ""); status != 200 {
			b.Fatal(status, string(body))
		}
	}
	var html []byte
	b.ResetTimer()
	for b.Loop() {
		status, html, _ = call(token, "GET", "/practices/"+id, "", nil, "")
		if status != 200 {
			b.Fatal(status)
		}
	}
	b.StopTimer()
	srcs := regexp.MustCompile(`src="(/api/v1/tests/[^"]+size=small[^"]*)"`).FindAllSubmatch(html, -1)
	if len(srcs) != 24 {
		b.Fatalf("%d small multiples on the page, want 24", len(srcs))
	}
	svg, svgGz := 0, 0
	gz := func(p []byte) int {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(p)
		w.Close()
		return buf.Len()
	}
	for _, m := range srcs {
		status, body, _ := call(token, "GET", string(bytes.ReplaceAll(m[1], []byte("&amp;"), []byte("&"))), "", nil, "")
		if status != 200 {
			b.Fatalf("%s: %d", m[1], status)
		}
		svg += len(body)
		svgGz += gz(body)
	}
	b.ReportMetric(float64(len(html))/1024, "KB-html")
	b.ReportMetric(float64(svg)/1024, "KB-svgs")
	b.ReportMetric(float64(gz(html))/1024, "KB-html-gzip")
	b.ReportMetric(float64(svgGz)/1024, "KB-svgs-gzip")
}
