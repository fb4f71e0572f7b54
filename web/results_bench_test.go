package web_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// BenchmarkResultsUpload5000 sends a 5,000-row score table through POST /api/v1/tests/{id}/results:
// HTTP, streaming parse, privacy checks, statistics, suppression, the new test version and the
// internal view and audit entry written to the store (local directory).
//
//	go test ./web -run '^$' -bench ResultsUpload -benchtime 20x
func BenchmarkResultsUpload5000(b *testing.B) {
	n := newTestNode(b)
	pr := n.doJSON("math", "POST", "/api/v1/practices", practiceJSON("Bench")).json(b)
	id := n.plannedTest(pr["uri"].(string))
	rng := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	sb.WriteString("pre,post,group,el\n")
	for i := 0; i < 5000; i++ {
		pre := 40 + rng.IntN(40)
		el := "N"
		if i%5 == 0 {
			el = "Y"
		}
		fmt.Fprintf(&sb, "%d,%d,treatment,%s\n", pre, min(100, pre+rng.IntN(15)), el)
	}
	body := sb.String()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		r := n.do("math", "POST", "/api/v1/tests/"+id+"/results", strings.NewReader(body), "Content-Type", "text/csv")
		if r.status != 200 {
			b.Fatalf("upload: %d %s", r.status, r.body)
		}
	}
}
