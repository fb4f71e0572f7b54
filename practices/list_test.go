package practices_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
)

// countingBucket counts the record heads read.
type countingBucket struct {
	storage.Bucket
	heads atomic.Int64
}

func (b *countingBucket) Get(ctx context.Context, key string) (io.ReadCloser, storage.ObjectInfo, error) {
	if strings.HasSuffix(key, "/head.json") {
		b.heads.Add(1)
	}
	return b.Bucket.Get(ctx, key)
}

// TestListCostIsBounded: listing drafts as a caller who can see none reads no record at all (it
// used to read every head to return nothing), and any list call reads at most ListScanBudget heads,
// handing back a cursor to continue from; following the cursor finds every record.
func TestListCostIsBounded(t *testing.T) {
	ctx := context.Background()
	fsb, err := fs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := &countingBucket{Bucket: fsb}
	r := openRepo(t, b)
	const drafts = practices.ListScanBudget + 100
	for i := range drafts {
		if _, err := r.Create(ctx, mathPLC, fullPractice(fmt.Sprintf("draft %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	draftsOnly := practices.ListFilter{Status: practices.StatusDraft}
	for _, who := range []struct {
		name string
		p    practices.Principal
	}{{"anonymous", practices.Principal{}}, {"a teacher", teacher}} {
		b.heads.Store(0)
		recs, next, err := r.List(ctx, who.p, practices.KindPractice, draftsOnly, "", 50)
		if err != nil || len(recs) != 0 || next != "" {
			t.Fatalf("%s listing drafts: %d records, next %q, %v", who.name, len(recs), next, err)
		}
		if n := b.heads.Load(); n != 0 {
			t.Errorf("%s listing drafts read %d record heads to return nothing", who.name, n)
		}
	}
	// A publisher of another team may see drafts in general, but none of these: each call reads at
	// most the budget and says where to go on.
	b.heads.Store(0)
	recs, next, err := r.List(ctx, elaPLC, practices.KindPractice, draftsOnly, "", 50)
	if err != nil || len(recs) != 0 || next == "" {
		t.Fatalf("other team, first call: %d records, next %q, %v; want none and a cursor", len(recs), next, err)
	}
	if n := b.heads.Load(); n > practices.ListScanBudget {
		t.Errorf("one list call read %d heads, over the budget of %d", n, practices.ListScanBudget)
	}
	// The owning team pages through all of them.
	seen, after := 0, ""
	for {
		recs, next, err := r.List(ctx, mathPLC, practices.KindPractice, draftsOnly, after, 200)
		if err != nil {
			t.Fatal(err)
		}
		seen += len(recs)
		if next == "" {
			break
		}
		after = next
	}
	if seen != drafts {
		t.Errorf("paging found %d drafts, want %d", seen, drafts)
	}
}
