package fs

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/brightspots-nic/brightspots/storage"
)

// TestConcurrentPutsAndDeletesUnderOnePrefix is many writers putting and deleting keys in deep
// folders under one prefix at once: every delete that empties a folder prunes it (and its empty
// parents), and every put must still create the whole path and succeed. Before folder creation and
// pruning were made safe against each other, a put whose folder was pruned between two of its
// Mkdir calls failed with "no such file or directory".
func TestConcurrentPutsAndDeletesUnderOnePrefix(t *testing.T) {
	t.Parallel()
	b := newBucket(t)
	ctx := context.Background()
	const writers, rounds = 16, 150
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				// Keys spread over a few deep folders so folders are emptied and re-made constantly.
				key := fmt.Sprintf("node/intents/mirror/d%d/e%d/w%d-%d", i%3, w%2, w, i)
				if _, err := b.Put(ctx, key, strings.NewReader("x"), 1, storage.PutOptions{IfNoneMatch: true}); err != nil {
					errs <- fmt.Errorf("put %s: %w", key, err)
					return
				}
				if err := b.Delete(ctx, key); err != nil {
					errs <- fmt.Errorf("delete %s: %w", key, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Nothing is left: every key was deleted, and no put left a stray object behind.
	left, err := b.List(ctx, storage.ListOptions{Prefix: "node/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("%d keys left after every key was deleted, first %s", len(left), left[0].Key)
	}
	assertNoTemps(t, b)
}
