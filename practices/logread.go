package practices

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/brightspots-nic/brightspots/storage"
)

// ReadLogConcurrent is ReadLog for bulk readers (a full OAI-PMH harvest, the sitemap): up to `workers`
// entries fetched at once, returned in order. It lists nothing: the log is gap-free, so the entries
// after `after` are after+1, after+2 … up to the first that does not exist, and their keys are known.
// (A listing of the log folder costs a read of the whole folder on the local-directory store, which
// made a harvest of a long log quadratic.)
func (r *Repo) ReadLogConcurrent(ctx context.Context, after uint64, limit, workers int) ([]LogEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	// Entries past the end this process knows of may exist (another replica wrote them): probe one.
	n := limit
	if end := r.log.Last(); end < after+uint64(limit) {
		n = int(max(end, after) - after + 1)
	}
	out := make([]LogEntry, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(1, min(workers, n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				key := logKey(after + uint64(i) + 1)
				if err := getJSON(ctx, r.bucket, key, &out[i]); err != nil {
					errs[i] = err
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if errors.Is(err, storage.ErrNotFound) {
			return out[:i], nil // the end of the log
		}
		if err != nil {
			return nil, fmt.Errorf("read change log entry %d: %w", after+uint64(i)+1, err)
		}
	}
	return out, nil
}
