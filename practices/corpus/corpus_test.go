package corpus

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/brightspots-nic/brightspots/practices"
)

func TestDeterministic(t *testing.T) {
	a := New(Config{Seed: 7}).Generate(50)
	b := New(Config{Seed: 7}).Generate(50)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different corpora")
	}
	c := New(Config{Seed: 8}).Generate(50)
	if a[0].Practice.ID == c[0].Practice.ID || a[0].Practice.Title == c[0].Practice.Title && a[1].Practice.Title == c[1].Practice.Title && a[2].Practice.Title == c[2].Practice.Title {
		t.Fatal("different seeds gave the same corpus")
	}
	// Item i does not depend on the items before it.
	if g := New(Config{Seed: 7}); !reflect.DeepEqual(g.Item(42), a[42]) {
		t.Fatal("Item(42) differs from Generate(50)[42]")
	}
}

func TestItemsAreValid(t *testing.T) {
	ds := Districts(5)
	items := New(Config{Seed: 1, Districts: ds}).Generate(2000)
	ids := map[string]bool{}
	levels := map[string]int{}
	vis := map[practices.Visibility]int{}
	for _, it := range items {
		p := it.Practice
		if _, err := uuid.Parse(p.ID); err != nil {
			t.Fatalf("practice id %q: %v", p.ID, err)
		}
		if ids[p.ID] {
			t.Fatalf("duplicate id %s", p.ID)
		}
		ids[p.ID] = true
		if p.Status != practices.StatusPublished || p.Kind != practices.KindPractice || p.Title == "" || p.Summary == "" {
			t.Fatalf("bad practice meta: %+v", p.Meta)
		}
		b, _ := json.Marshal(it)
		if s := string(b); strings.Contains(s, "%!") {
			t.Fatalf("format error in generated text: %s", s)
		}
		for _, s := range p.Subjects {
			if !practices.ValidSubject(s) {
				t.Fatalf("bad subject %q", s)
			}
		}
		for _, g := range p.GradeLevels {
			if !practices.ValidGrade(g) {
				t.Fatalf("bad grade %q", g)
			}
		}
		if len(p.Standards) == 0 {
			t.Fatalf("practice %q has no standards", p.Title)
		}
		found := false
		for _, d := range ds {
			found = found || (d.URL == p.Origin && d.ID == p.OriginID)
		}
		if !found {
			t.Fatalf("origin %s not among the districts", p.Origin)
		}
		if len(it.Tests) != it.TestCount || (it.TestCount == 0) != (it.PooledEffect == nil) {
			t.Fatalf("test count %d, tests %d, pooled %v", it.TestCount, len(it.Tests), it.PooledEffect)
		}
		if practices.EvidenceRank(it.Level) < 0 || (it.TestCount == 0) != (it.Level == practices.LevelDescribed) {
			t.Fatalf("level %q with %d tests", it.Level, it.TestCount)
		}
		for _, tt := range it.Tests {
			if tt.Practice.URI != p.URI || tt.Status != practices.StatusPublished {
				t.Fatalf("test does not point at its practice: %+v", tt.Practice)
			}
		}
		levels[it.Level]++
		vis[p.Visibility]++
	}
	for _, l := range practices.EvidenceLevels {
		if levels[l] == 0 {
			t.Errorf("no practice at level %s: %v", l, levels)
		}
	}
	if vis[practices.VisibilityNetwork] < len(items)/2 || vis[practices.VisibilityPublic] == 0 || vis[practices.VisibilityDistrict] == 0 {
		t.Errorf("visibility mix %v", vis)
	}
}

// The pooled estimate follows docs/records.md's test vector (four districts, DerSimonian–Laird).
func TestPooledMatchesDomainVector(t *testing.T) {
	rs := []TestResult{
		{District: "A", Design: practices.Designs[0], G: 0.7214, V: 0.0369},
		{District: "B", Design: practices.Designs[0], G: 0.5257, V: 0.0231},
		{District: "C", Design: practices.Designs[0], G: 0.1910, V: 0.0343},
		{District: "D", Design: practices.Designs[0], G: 0.6358, V: 0.0187},
	}
	lvl, mu := level(rs, 4)
	if mu == nil || *mu < 0.5273 || *mu > 0.5283 {
		t.Fatalf("pooled %v, want 0.5278", mu)
	}
	if lvl != practices.LevelNetworkConfirmed {
		t.Fatalf("level %s, want network_confirmed (4 districts, CI above 0, I² 39%%)", lvl)
	}
}

func TestVocabulary(t *testing.T) {
	v := Vocabulary()
	if len(v) < 200 {
		t.Fatalf("vocabulary has %d words", len(v))
	}
	for _, w := range []string{"fractions", "number", "line", "phonics", "ecosystems"} {
		found := false
		for _, x := range v {
			found = found || x == w
		}
		if !found {
			t.Errorf("vocabulary lacks %q", w)
		}
	}
}
