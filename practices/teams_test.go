package practices_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

// TestRecordTeams: the teams of every local record that is not deleted, drafts included, long
// names too, from the listing index and, for a store without one, from the heads.
func TestRecordTeams(t *testing.T) {
	ctx := context.Background()
	r := openRepo(t, newBucket(t))
	long := "Équipe de mathématiques du cycle 3, école Jean-Jacques Rousseau" // longer than a key holds: hashed
	for _, team := range []string{"math-4", "Math 5th grade PLC", "ela-3", long} {
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
	want := []string{"Math 5th grade PLC", "math-4", long}
	slices.Sort(want)
	got, err := practices.RecordTeams(ctx, r.Bucket())
	if err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, want) {
		t.Fatalf("teams = %q, want %q", keys, want)
	}
	// A store without a listing index (written before it existed): the heads say the same.
	if err := r.Bucket().Delete(ctx, "node/state/list-index.json"); err != nil {
		t.Fatal(err)
	}
	got, err = practices.RecordTeams(ctx, r.Bucket())
	if keys := slices.Sorted(maps.Keys(got)); err != nil || !slices.Equal(keys, want) {
		t.Fatalf("teams from heads = %q, %v, want %q", keys, err, want)
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
