package practices_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

// TestRecordTeams: the teams of every local record, drafts and deleted ones included, and no
// others.
func TestRecordTeams(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, newBucket(t))
	for _, team := range []string{"math-4", "Math 5th grade PLC", "ela-3"} {
		p := fullPractice("Number line talks")
		p.Team = team
		rec, err := r.Create(ctx, admin, p)
		if err != nil {
			t.Fatal(err)
		}
		if team == "ela-3" {
			if err := r.Delete(ctx, admin, practices.KindPractice, rec.RecordMeta().ID, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := practices.RecordTeams(ctx, r.Bucket())
	if err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, []string{"Math 5th grade PLC", "ela-3", "math-4"}) {
		t.Fatalf("teams = %q", keys)
	}
}

// BenchmarkRecordTeams: what the API-token page and `token create` pay to know the node's teams,
// by number of records (a folder store; every head is read).
func BenchmarkRecordTeams(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			r := openRepo(b, newBucket(b))
			for i := range n {
				p := fullPractice(fmt.Sprintf("Practice %d", i))
				p.Team = fmt.Sprintf("team-%d", i%40)
				if _, err := r.Create(ctx, admin, p); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				teams, err := practices.RecordTeams(ctx, r.Bucket())
				if err != nil || len(teams) != 40 {
					b.Fatalf("%d teams, %v", len(teams), err)
				}
			}
		})
	}
}
