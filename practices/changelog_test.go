package practices_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
)

// inFlightBucket answers the first create-only put of one key as S3 does while another write of that
// key is in flight (409 ConditionalRequestConflict, reported as ErrConflict and ErrInFlight), and
// then lets that other write land or not.
type inFlightBucket struct {
	storage.Bucket
	key      string
	lands    bool // whether the other write lands (it may fail: then the key stays free)
	mu       sync.Mutex
	answered bool
}

func (b *inFlightBucket) Put(ctx context.Context, key string, r io.Reader, size int64, opts storage.PutOptions) (storage.ObjectInfo, error) {
	b.mu.Lock()
	first := key == b.key && opts.IfNoneMatch && !b.answered
	if first {
		b.answered = true
	}
	b.mu.Unlock()
	if first {
		if b.lands {
			other := []byte(`{"seq":2,"kind":"practice","id":"other","origin":"http://riverside.test","version":1,"op":"put"}`)
			if _, err := b.Bucket.Put(ctx, key, bytes.NewReader(other), int64(len(other)), storage.PutOptions{IfNoneMatch: true}); err != nil {
				return storage.ObjectInfo{}, err
			}
		}
		return storage.ObjectInfo{}, fmt.Errorf("put %q: 409 ConditionalRequestConflict: %w: %w", key, storage.ErrConflict, storage.ErrInFlight)
	}
	return b.Bucket.Put(ctx, key, r, size, opts)
}

// TestChangeLogWriteInFlight: a create-only put of log entry n answered "another write of it is in
// flight" means nothing yet about whether n exists. The writer must ask again about n, not move on to
// n+1: if the other write fails, moving on leaves a gap for ever; if it lands late, readers may pass
// over it. Either way, when Append returns n+1, entry n exists.
func TestChangeLogWriteInFlight(t *testing.T) {
	for _, lands := range []bool{false, true} {
		t.Run(fmt.Sprintf("other write lands=%v", lands), func(t *testing.T) {
			ctx := context.Background()
			fsb, err := fs.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			b := &inFlightBucket{Bucket: fsb, key: "log/00000000000000000002.json", lands: lands}
			r, err := practices.Open(ctx, b, node, practices.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				seq, err := r.AppendLog(ctx, practices.LogEntry{Kind: practices.KindPractice, ID: fmt.Sprintf("mine-%d", i), Origin: node.URL, Version: 1, Op: "put"})
				if err != nil {
					t.Fatal(err)
				}
				// Every entry below the one just appended exists.
				for k := uint64(1); k < seq; k++ {
					if _, err := fsb.Stat(ctx, fmt.Sprintf("log/%020d.json", k)); err != nil {
						t.Fatalf("Append returned %d while entry %d does not exist: %v", seq, k, err)
					}
				}
			}
			entries, err := r.ReadLog(ctx, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for i, e := range entries {
				if e.Seq != uint64(i+1) {
					t.Fatalf("change log gap: entry %d at position %d", e.Seq, i+1)
				}
				ids = append(ids, e.ID)
			}
			want := "mine-0 mine-1"
			if lands {
				want = "mine-0 other mine-1"
			}
			if got := strings.Join(ids, " "); got != want {
				t.Fatalf("log holds %q, want %q", got, want)
			}
		})
	}
}
