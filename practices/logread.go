package practices

import (
	"context"
	"fmt"
	"sync"

	"github.com/brightspots-nic/brightspots/storage"
)

// ReadLogConcurrent is ReadLog with up to `workers` entries fetched at once: one listing, then the
// entries' gets in parallel, returned in order. Bulk readers (a full OAI-PMH harvest, the sitemap)
// spend most of their time waiting on these small gets.
func (r *Repo) ReadLogConcurrent(ctx context.Context, after uint64, limit, workers int) ([]LogEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	start := ""
	if after > 0 {
		start = logKey(after)
	}
	page, err := r.bucket.List(ctx, storage.ListOptions{Prefix: logPrefix, StartAfter: start, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("read change log after %d: %w", after, err)
	}
	keys := make([]string, 0, len(page))
	for _, o := range page {
		if _, ok := parseLogKey(o.Key); ok {
			keys = append(keys, o.Key)
		}
	}
	out := make([]LogEntry, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(1, min(workers, len(keys))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := getJSON(ctx, r.bucket, keys[i], &out[i]); err != nil {
					errs[i] = fmt.Errorf("read change log entry %s: %w", keys[i], err)
				}
			}
		}()
	}
	for i := range keys {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
