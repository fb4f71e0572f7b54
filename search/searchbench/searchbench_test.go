package searchbench

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

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
	st := Load(context.Background(), func(_ context.Context, q search.Query) (int, error) {
		calls++
		if q.Text == "b" {
			time.Sleep(2 * time.Millisecond) // the slow one
			return 7, nil
		}
		return 3, nil
	}, mix, 1, 10)
	if calls != 10 || st.Queries != 10 || st.MeanHits != 5 || st.Errors != 0 {
		t.Fatalf("calls %d stats %+v", calls, st)
	}
	if len(st.Slowest) != SlowestKept {
		t.Fatalf("%d slowest queries kept, want %d", len(st.Slowest), SlowestKept)
	}
	for i, s := range st.Slowest[:5] {
		if s.Query.Text != "b" || s.Hits != 7 {
			t.Errorf("slowest[%d] = %+v, want the query \"b\" with 7 hits", i, s)
		}
	}
	if !strings.Contains(st.SlowestReport(), "q=b") {
		t.Errorf("report does not name the slow query:%s", st.SlowestReport())
	}
}
