package web_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/web"
)

// TestAimHarvesting: a public aim is an OAI set of the practices its change ideas link, has a page
// in the sitemap, an Atom feed of its progress and practices, and JSON-LD listing those practices.
func TestAimHarvesting(t *testing.T) {
	n := newTestNode(t)
	linked := n.publishPractice("Number line talks for unit fractions", "public")
	linkedURI := n.do("math", "GET", "/api/v1/practices/"+linked, nil).json(t)["uri"].(string)
	body := aimJSON("Fractions proficiency by June 2027", linkedURI)
	body["visibility"] = "public"
	r := n.createAim("coordinator", body)
	if r.status != 201 {
		t.Fatalf("create aim: %d %s", r.status, r.body)
	}
	aimID, aimURI := r.json(t)["id"].(string), r.json(t)["uri"].(string)
	if r := n.doJSON("coordinator", "POST", "/api/v1/aims/"+aimID+"/publish", nil); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	pr := n.doJSON("coordinator", "POST", "/api/v1/progress", map[string]any{"visibility": "public", "aim": map[string]any{"uri": aimURI},
		"points": []map[string]any{{"date": "2026-10-01", "n": 40, "value": 44}, {"date": "2026-11-01", "n": 41, "value": 47}}})
	if pr.status != 201 {
		t.Fatalf("progress: %d %s", pr.status, pr.body)
	}
	if r := n.doJSON("coordinator", "POST", "/api/v1/progress/"+pr.json(t)["id"].(string)+"/publish", nil); r.status != 200 {
		t.Fatalf("publish progress: %d %s", r.status, r.body)
	}

	sets := string(n.do("", "GET", "/oai?verb=ListSets", nil).body)
	if !strings.Contains(sets, "<setSpec>aim:"+aimID+"</setSpec>") || !strings.Contains(sets, "Fractions proficiency by June 2027") {
		t.Errorf("ListSets has no set for the aim:\n%s", sets)
	}
	ids := string(n.do("", "GET", "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc&set=aim:"+aimID, nil).body)
	if !strings.Contains(ids, "practice/"+linked) || strings.Count(ids, "<header") != 1 {
		t.Errorf("the aim's set does not list exactly its practice:\n%s", ids)
	}
	aims := string(n.do("", "GET", "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc&set=kind:aim", nil).body)
	_, rest, _ := strings.Cut(aims, "<identifier>")
	identifier, _, _ := strings.Cut(rest, "</identifier>")
	if !strings.HasSuffix(identifier, ":aim/"+aimID) {
		t.Fatalf("kind:aim set:\n%s", aims)
	}
	rec := string(n.do("", "GET", "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier="+url.QueryEscape(identifier), nil).body)
	if !strings.Contains(rec, "<dc:title>Fractions proficiency by June 2027</dc:title>") || !strings.Contains(rec, "<dc:relation>"+linkedURI+"</dc:relation>") {
		t.Errorf("the aim's OAI record:\n%s", rec)
	}
	if sm := string(n.do("", "GET", "/sitemap.xml", nil).body); !strings.Contains(sm, "/aims/"+aimID+"</loc>") {
		t.Errorf("the sitemap has no aim page:\n%s", sm)
	}

	f := n.parseFeed(t, "/aims/"+aimID+"/feed.atom")
	if got := feedTitles(f); len(got) != 2 || !strings.HasPrefix(got[0], "Progress from ") || got[1] != "Number line talks for unit fractions" {
		t.Errorf("aim feed entries: %v", got)
	}
	if !strings.Contains(f.Items[0].Description, "47%") {
		t.Errorf("the progress entry does not give the latest value: %q", f.Items[0].Description)
	}

	var d practices.Dashboard
	if err := json.Unmarshal(n.do("", "GET", "/api/v1/aims/"+aimID+"/dashboard", nil).body, &d); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(web.AimJSONLD(&d))
	var ld struct {
		Type    string `json:"@type"`
		ID      string `json:"@id"`
		HasPart []struct {
			ID   string `json:"@id"`
			Name string `json:"name"`
		} `json:"hasPart"`
	}
	_ = json.Unmarshal(raw, &ld)
	if ld.Type != "LearningResource" || ld.ID != aimURI || len(ld.HasPart) != 1 || ld.HasPart[0].ID != linkedURI {
		t.Errorf("JSON-LD: %s", raw)
	}

	// Withdrawn, the aim leaves the sets, the sitemap and its feed.
	if r := n.doJSON("coordinator", "POST", "/api/v1/aims/"+aimID+"/withdraw", nil); r.status != 200 {
		t.Fatalf("withdraw: %d", r.status)
	}
	if sets := string(n.do("", "GET", "/oai?verb=ListSets", nil).body); strings.Contains(sets, "aim:"+aimID) {
		t.Errorf("a withdrawn aim is still a set")
	}
	if sm := string(n.do("", "GET", "/sitemap.xml", nil).body); strings.Contains(sm, "/aims/"+aimID) {
		t.Errorf("a withdrawn aim is still in the sitemap")
	}
	if r := n.do("", "GET", "/aims/"+aimID+"/feed.atom", nil); r.status != 404 {
		t.Errorf("the feed of a withdrawn aim: %d", r.status)
	}
}
