package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

// TestMeasuresReachPeers publishes a test with two measures in one district and reads the same
// published measures, analysis and chart from the other district's mirror — without the point
// that had too few students.
func TestMeasuresReachPeers(t *testing.T) {
	nodes := network(t, "riverside", "lakeview")
	a, b := nodes[0], nodes[1]
	practiceID := a.publishPractice("Number line talks with weekly exit tickets", "network")
	uri := a.do("math", "GET", "/api/v1/practices/"+practiceID, nil).json(t)["uri"].(string)
	testID := a.plannedTest(uri)

	fluency := map[string]any{
		"id": "fluency", "name": "Students meeting the fluency goal", "type": "process", "kind": "percent", "direction": "up",
		"score_min": 0, "score_max": 4, "cut": 3, "baseline": 6, "points": []map[string]any{},
	}
	pct := []float64{40, 45, 38, 42, 44, 41, 55, 58, 61, 60, 66, 63}
	n := []int{24, 25, 23, 24, 26, 25, 24, 25, 24, 23, 25, 24}
	dates := []string{"2026-09-07", "2026-09-14", "2026-09-21", "2026-09-28", "2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"}
	for i := range pct {
		fluency["points"] = append(fluency["points"].([]map[string]any), map[string]any{"date": dates[i], "n": n[i], "value": pct[i]})
	}
	cur := a.do("math", "GET", "/api/v1/tests/"+testID, nil)
	rec := cur.json(t)
	rec["measures"] = []any{weeklyExitTicket(), fluency}
	r := a.doJSON("math", "PUT", "/api/v1/tests/"+testID, rec, "If-Match", cur.header.Get("ETag"))
	if r.status != 200 {
		t.Fatalf("measures: %d %s", r.status, r.body)
	}
	r = a.do("math", "POST", "/api/v1/tests/"+testID+"/results", strings.NewReader(scoreCSV(districtAPre, districtAPost)), "Content-Type", "text/csv")
	rec = r.json(t)["test"].(map[string]any)
	rec["learnings"], rec["decision"] = "The weekly exit ticket moved after the warm-up began.", "adopt"
	delete(rec, "measures") // a PUT without measures keeps them
	if r := a.doJSON("math", "PUT", "/api/v1/tests/"+testID, rec, "If-Match", r.header.Get("ETag")); r.status != 200 {
		t.Fatalf("decision: %d %s", r.status, r.body)
	}
	if r := a.doJSON("math", "POST", "/api/v1/tests/"+testID+"/publish", nil); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	waitFor(t, "lakeview mirrors the test", func() bool { return b.mirrored(a, practices.KindTest, testID) })

	local := a.do("teacher", "GET", "/api/v1/tests/"+testID+"/measures", nil)
	remote := b.do("teacher", "GET", "/api/v1/tests/"+testID+"/measures", nil)
	if local.status != 200 || remote.status != 200 {
		t.Fatalf("measures: riverside %d, lakeview %d %s", local.status, remote.status, remote.body)
	}
	var lm, rm struct {
		Measures []map[string]any `json:"measures"`
	}
	_ = json.Unmarshal(local.body, &lm)
	_ = json.Unmarshal(remote.body, &rm)
	if len(rm.Measures) != 2 || !reflect.DeepEqual(lm.Measures, rm.Measures) {
		t.Fatalf("the mirror's measures differ:\nriverside %s\nlakeview  %s", local.body, remote.body)
	}
	an := rm.Measures[1]["analysis"].(map[string]any)
	if an["center"] != 41.5 || an["crossings"] != float64(5) || an["runs_signal"] != false ||
		an["shift"].(map[string]any)["from"] != "2026-10-19" || an["chart"] != "p" {
		t.Errorf("fluency analysis on the mirror: %v", an)
	}
	if rm.Measures[0]["withheld"] != float64(1) || bytes.Contains(remote.body, []byte("2026-09-18")) {
		t.Errorf("the point below the minimum n reached the peer: %s", remote.body)
	}
	raw, err := b.srv.Repo().GetMirror(context.Background(), a.srv.Repo().Node().URL, practices.KindTest, testID)
	if err != nil {
		t.Fatal(err)
	}
	if doc := decodeJWSPayload(t, raw); strings.Contains(doc, "2026-09-18") || !strings.Contains(doc, `"measures"`) {
		t.Errorf("the signed document: %s", doc)
	}
	for _, q := range []string{"fluency.svg", "exit-ticket.svg?chart=control"} {
		want := a.do("teacher", "GET", "/api/v1/tests/"+testID+"/measures/"+q, nil)
		got := b.do("teacher", "GET", "/api/v1/tests/"+testID+"/measures/"+q, nil)
		if got.status != 200 || got.header.Get("Content-Type") != "image/svg+xml" || !bytes.Equal(got.body, want.body) {
			t.Errorf("chart %s from the mirror: %d, same as the origin's: %v", q, got.status, bytes.Equal(got.body, want.body))
		}
	}
	// The peer's practice page shows the measure as a small multiple.
	page := b.do("teacher", "GET", "/practices/"+practiceID, nil, "Accept", "text/html")
	if page.status != 200 || !bytes.Contains(page.body, []byte(`/api/v1/tests/`+testID+`/measures/fluency.svg?size=small`)) {
		t.Errorf("lakeview's practice page: %d, small multiples missing", page.status)
	}
}

// decodeJWSPayload returns the payload of a compact JWS as text.
func decodeJWSPayload(t *testing.T, raw []byte) string {
	t.Helper()
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %.80s", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
