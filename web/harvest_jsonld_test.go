package web_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// schemaVocabulary is the checked-in subset of schema.org (testdata/schemaorg-subset.json).
type schemaVocabulary struct {
	Types map[string]struct {
		Parents    []string `json:"parents"`
		Properties []string `json:"properties"`
	} `json:"types"`
}

func loadVocabulary(t *testing.T) schemaVocabulary {
	t.Helper()
	data, err := os.ReadFile("testdata/schemaorg-subset.json")
	if err != nil {
		t.Fatal(err)
	}
	var v schemaVocabulary
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// properties is every property of typ, inherited ones included.
func (v schemaVocabulary) properties(typ string) (map[string]bool, bool) {
	if _, ok := v.Types[typ]; !ok {
		return nil, false
	}
	out := map[string]bool{}
	var walk func(string)
	walk = func(t string) {
		def := v.Types[t]
		for _, p := range def.Properties {
			out[p] = true
		}
		for _, parent := range def.Parents {
			walk(parent)
		}
	}
	walk(typ)
	return out, true
}

// check returns every term of node (a JSON-LD node object) that the vocabulary does not know.
func (v schemaVocabulary) check(path string, node map[string]any) []string {
	var bad []string
	var types []string
	switch ty := node["@type"].(type) {
	case string:
		types = []string{ty}
	case []any:
		for _, x := range ty {
			s, _ := x.(string)
			types = append(types, s)
		}
	default:
		return []string{path + ": node without @type"}
	}
	allowed := map[string]bool{}
	for _, ty := range types {
		props, ok := v.properties(ty)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: unknown type %q", path, ty))
		}
		for p := range props {
			allowed[p] = true
		}
	}
	for k, val := range node {
		if strings.HasPrefix(k, "@") {
			continue
		}
		if !allowed[k] {
			bad = append(bad, fmt.Sprintf("%s: %v has no property %q", path, types, k))
		}
		vals := []any{val}
		if list, ok := val.([]any); ok {
			vals = list
		}
		for i, x := range vals {
			if m, ok := x.(map[string]any); ok {
				bad = append(bad, v.check(fmt.Sprintf("%s.%s[%d]", path, k, i), m)...)
			}
		}
	}
	return bad
}

func TestSchemaOrgJSONLD(t *testing.T) {
	vocab := loadVocabulary(t)
	// The checker itself: an invented property and an unknown type are caught.
	if bad := vocab.check("x", map[string]any{"@type": "LearningResource", "teachs": "x", "publisher": map[string]any{"@type": "Organisation"}}); len(bad) != 2 {
		t.Fatalf("checker missed a wrong term: %v", bad)
	}

	n := newTestNode(t)
	p := practiceJSON("Fraction strips with CASE")
	p["visibility"] = "public"
	p["standards"] = []map[string]string{{"code": "CCSS.MATH.CONTENT.4.NF.A.2", "uri": "https://case.example.org/uri/4-nf-a-2"}, {"code": "CCSS.MATH.PRACTICE.MP3", "alignment": "assesses"}}
	r := n.doJSON("math", "POST", "/api/v1/practices", p)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	src := r.json(t)["id"].(string)
	if r := n.doJSON("math", "POST", "/api/v1/practices/"+src+"/publish", nil); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	adapted := practiceJSON("Fraction strips, adapted")
	adapted["visibility"] = "public"
	adapted["origin_kind"] = "adapted"
	adapted["based_on"] = []map[string]string{{"uri": n.url + "/practices/" + src, "relation": "adaptation_of", "changes": "Adds mixed numbers."}}
	r = n.doJSON("math", "POST", "/api/v1/practices", adapted)
	if r.status != 201 {
		t.Fatalf("create adapted: %d %s", r.status, r.body)
	}
	adaptedID := r.json(t)["id"].(string)
	if r := n.doJSON("math", "POST", "/api/v1/practices/"+adaptedID+"/publish", nil); r.status != 200 {
		t.Fatalf("publish adapted: %d %s", r.status, r.body)
	}

	ld := tpJSONLD(t, string(n.do("", "GET", "/practices/"+src, nil).body))
	if bad := vocab.check("practice", ld); len(bad) > 0 {
		t.Errorf("practice JSON-LD outside schema.org: %v", bad)
	}
	aligns, _ := ld["educationalAlignment"].([]any)
	if len(aligns) != 2 {
		t.Fatalf("educationalAlignment %v", ld["educationalAlignment"])
	}
	first, second := aligns[0].(map[string]any), aligns[1].(map[string]any)
	if first["alignmentType"] != "teaches" || first["targetName"] != "CCSS.MATH.CONTENT.4.NF.A.2" || first["targetUrl"] != "https://case.example.org/uri/4-nf-a-2" ||
		first["educationalFramework"] != "CCSS.MATH" || second["alignmentType"] != "assesses" {
		t.Errorf("alignments %v", aligns)
	}
	ld = tpJSONLD(t, string(n.do("", "GET", "/practices/"+adaptedID, nil).body))
	if bad := vocab.check("adapted practice", ld); len(bad) > 0 {
		t.Errorf("adapted practice JSON-LD outside schema.org: %v", bad)
	}
	if based, _ := ld["isBasedOn"].([]any); !slices.Equal(based, []any{n.url + "/practices/" + src}) {
		t.Errorf("isBasedOn %v", ld["isBasedOn"])
	}

	col := map[string]any{"title": "Fractions", "description": "Fraction sense.", "visibility": "public",
		"items": []map[string]string{{"practice_uri": n.url + "/practices/" + src}, {"practice_uri": n.url + "/practices/" + adaptedID}}}
	r = n.doJSON("coordinator", "POST", "/api/v1/collections", col)
	if r.status != 201 {
		t.Fatalf("collection: %d %s", r.status, r.body)
	}
	cid := r.json(t)["id"].(string)
	if r := n.doJSON("coordinator", "POST", "/api/v1/collections/"+cid+"/publish", nil); r.status != 200 {
		t.Fatalf("publish collection: %d %s", r.status, r.body)
	}
	ld = tpJSONLD(t, string(n.do("", "GET", "/collections/"+cid, nil).body))
	if bad := vocab.check("collection", ld); len(bad) > 0 {
		t.Errorf("collection JSON-LD outside schema.org: %v", bad)
	}
	parts, _ := ld["hasPart"].([]any)
	if ld["@type"] != "LearningResource" || ld["@id"] != n.url+"/collections/"+cid || len(parts) != 2 || parts[1].(map[string]any)["@id"] != n.url+"/practices/"+adaptedID {
		t.Errorf("collection JSON-LD %v", ld)
	}
}

// TestTestPageJSONLD: a test's page describes it as a schema.org Dataset of its published aggregate
// results, about and based on the practice it tested; every term is in the vocabulary, and a group
// the privacy rules suppress contributes no figure.
func TestTestPageJSONLD(t *testing.T) {
	vocab := loadVocabulary(t)
	n := newTestNode(t)
	practiceID, practiceURI := tpTestedPractice(n, "Fraction number line talks", func(p map[string]any) { p["visibility"] = "public" })
	// Four students: below the minimum n, so the group is published without figures.
	tid := n.plannedTest(practiceURI)
	r := n.do("math", "POST", "/api/v1/tests/"+tid+"/results", strings.NewReader(`{"groups":[{"n":4,"mean_pre":40,"sd_pre":9,"mean_post":47.5,"sd_post":9,"r":0.7}]}`), "Content-Type", "application/json")
	if r.status != 200 {
		t.Fatalf("results: %d %s", r.status, r.body)
	}
	small := r.json(t)["test"].(map[string]any)
	small["learnings"], small["decision"], small["prediction_met"], small["title"] = "Too few to say.", "adapt", "no", "Small class"
	if r := n.doJSON("math", "PUT", "/api/v1/tests/"+tid, small, "If-Match", r.header.Get("ETag")); r.status != 200 {
		t.Fatalf("decision: %d %s", r.status, r.body)
	}
	if r := n.doJSON("math", "POST", "/api/v1/tests/"+tid+"/publish", nil); r.status != 200 {
		t.Fatalf("publish test: %d %s", r.status, r.body)
	}
	items := n.do("teacher", "GET", "/api/v1/practices/"+practiceID+"/tests", nil).json(t)["items"].([]any)
	byTitle := map[string]string{}
	for _, it := range items {
		m := it.(map[string]any)
		byTitle[m["title"].(string)] = m["id"].(string)
	}
	for _, c := range []struct {
		title         string
		wantFigures   bool
		wantMeanAfter float64
	}{{"Spring cycle 2", true, 53.9}, {"Small class", false, 0}} {
		id := byTitle[c.title]
		if id == "" {
			t.Fatalf("no test %q among %v", c.title, byTitle)
		}
		ld := tpJSONLD(t, string(tpPage(n, "teacher", "/tests/"+id).body))
		if bad := vocab.check("test "+c.title, ld); len(bad) > 0 {
			t.Errorf("test JSON-LD outside schema.org: %v", bad)
		}
		about, _ := ld["about"].(map[string]any)
		if ld["@type"] != "Dataset" || ld["@id"] != n.url+"/tests/"+id || ld["isBasedOn"] != practiceURI ||
			about["@id"] != practiceURI || about["name"] != "Fraction number line talks" {
			t.Errorf("%s: JSON-LD %v", c.title, ld)
		}
		figures := map[string]any{}
		vars, _ := ld["variableMeasured"].([]any)
		for _, v := range vars {
			pv := v.(map[string]any)
			figures[pv["name"].(string)] = pv["value"]
		}
		if !c.wantFigures {
			if len(figures) != 0 {
				t.Errorf("%s: a suppressed group shows figures %v", c.title, figures)
			}
			continue
		}
		if figures["treatment mean score after"] != c.wantMeanAfter || figures["treatment students (n)"] != 25.0 || figures["effect size"] == nil {
			t.Errorf("%s: figures %v", c.title, figures)
		}
	}
}
