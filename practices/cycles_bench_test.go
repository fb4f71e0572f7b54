package practices_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

// BenchmarkCycles measures the reads cycles add to pages and the indexer, on the fs store: a team
// with 20 published practices, each with 4 published cycles in one ramp (80 tests). TestsOf is what
// a practice page and its search document read; Ramp what a test page reads; Activity what the
// workspace reads for the team.
//
//	go test -run XXX -bench Cycles -benchtime 50x ./practices/
func BenchmarkCycles(b *testing.B) {
	ctx := context.Background()
	r := openRepo(b, newBucket(b))
	var practiceURI string
	var last *practices.Test
	for i := 0; i < 20; i++ {
		rec, err := r.Create(ctx, mathPLC, fullPractice(fmt.Sprintf("Practice %d", i)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Publish(ctx, mathPLC, practices.KindPractice, rec.RecordMeta().ID, 0); err != nil {
			b.Fatal(err)
		}
		practiceURI = rec.RecordMeta().URI
		var prev *practices.TestRef
		for c := 0; c < 4; c++ {
			t := draftTest(practiceURI, prev)
			t.Team = "ela-3" // another team's cycles: activity for math-4
			tr, err := r.Create(ctx, elaPLC, t)
			if err != nil {
				b.Fatal(err)
			}
			// Publishing a test needs results; for reads, a draft's visibility to its own team is
			// enough, so publish only the practice and read as the testing team.
			last = tr.(*practices.Test)
			prev = &practices.TestRef{URI: last.URI}
		}
	}
	b.Run("TestsOf", func(b *testing.B) {
		for b.Loop() {
			if ts, err := r.TestsOf(ctx, elaPLC, practiceURI); err != nil || len(ts) != 4 {
				b.Fatal(len(ts), err)
			}
		}
	})
	b.Run("Ramp", func(b *testing.B) {
		for b.Loop() {
			if ramp, err := r.Ramp(ctx, elaPLC, last); err != nil || len(ramp) != 4 {
				b.Fatal(len(ramp), err)
			}
		}
	})
	b.Run("Activity", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.Activity(ctx, mathPLC, 50); err != nil {
				b.Fatal(err)
			}
		}
	})
}
