package searchbench

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/brightspots-nic/brightspots/practices/corpus"
	"github.com/brightspots-nic/brightspots/search"
)

func TestMix(t *testing.T) {
	ds := corpus.Districts(6)
	g := corpus.New(corpus.Config{Seed: 1, Districts: ds})
	cfg := MixConfig{Seed: 2, N: 1000, Corpus: g, CorpusLen: 5000, Districts: ds}
	mix := Mix(cfg)
	if len(mix) != 1000 {
		t.Fatalf("%d queries", len(mix))
	}
	if !reflect.DeepEqual(mix, Mix(cfg)) {
		t.Fatal("mix is not deterministic")
	}
	seen := map[string]bool{}
	filters := map[int]int{}
	for _, q := range mix {
		if err := q.Validate(); err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		k := fmt.Sprint(q.Values())
		if seen[k] {
			t.Fatalf("duplicate query %s", k)
		}
		seen[k] = true
		if n := len(search.Words(q.Text)); n < 2 || n > 4 {
			t.Fatalf("%q has %d words", q.Text, n)
		}
		n := len(q.Subjects) + len(q.GradeBands) + len(q.Districts)
		if q.MinEvidence != "" {
			n++
		}
		filters[n]++
	}
	if filters[0] == 0 || filters[1] == 0 || filters[2] == 0 || len(filters) != 3 {
		t.Errorf("filters per query: %v, want 0, 1 and 2", filters)
	}
}

func TestLoad(t *testing.T) {
	mix := []search.Query{{Text: "a"}, {Text: "b"}}
	calls := 0
	st := Load(context.Background(), func(context.Context, search.Query) (int, error) { calls++; return 3, nil }, mix, 1, 10)
	if calls != 10 || st.Queries != 10 || st.MeanHits != 3 || st.Errors != 0 {
		t.Fatalf("calls %d stats %+v", calls, st)
	}
}
