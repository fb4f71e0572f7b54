package practices

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/brightspots-nic/brightspots/storage"
)

const (
	logPrefix     = "log/"
	checkpointKey = "node/state/log-checkpoint.json"
	// checkpointEvery is how many appends pass between checkpoint writes. Finding the end at start-up
	// lists at most about this many keys.
	checkpointEvery = 256
)

func logKey(seq uint64) string { return fmt.Sprintf("%s%020d.json", logPrefix, seq) }

func parseLogKey(key string) (uint64, bool) {
	s, ok := strings.CutPrefix(key, logPrefix)
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".json")
	if !ok || len(s) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// changeLog appends to and reads the gap-free change log (see the package doc).
type changeLog struct {
	bucket storage.Bucket

	mu              sync.Mutex // serializes appends in this process
	last            uint64     // the highest sequence number known to exist
	sinceCheckpoint int
}

func openChangeLog(ctx context.Context, b storage.Bucket) (*changeLog, error) {
	l := &changeLog{bucket: b}
	if err := l.findEnd(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// findEnd sets l.last from the checkpoint, then lists forward from it.
func (l *changeLog) findEnd(ctx context.Context) error {
	var cp struct {
		Seq uint64 `json:"seq"`
	}
	if err := getJSON(ctx, l.bucket, checkpointKey, &cp); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("read log checkpoint: %w", err)
	}
	last := cp.Seq
	for {
		start := ""
		if last > 0 {
			start = logKey(last)
		}
		page, err := l.bucket.List(ctx, storage.ListOptions{Prefix: logPrefix, StartAfter: start, Limit: 1000})
		if err != nil {
			return fmt.Errorf("find change-log end: %w", err)
		}
		for _, o := range page {
			if n, ok := parseLogKey(o.Key); ok && n > last {
				last = n
			}
		}
		if len(page) < 1000 {
			break
		}
	}
	l.last = last
	return nil
}

// Append writes e at the next free sequence number and returns it.
func (l *changeLog) Append(ctx context.Context, e LogEntry) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	seq := l.last + 1
	var wait, waited time.Duration
	for {
		e.Seq = seq
		body, err := json.Marshal(e)
		if err != nil {
			return 0, err
		}
		_, err = l.bucket.Put(ctx, logKey(seq), bytes.NewReader(body), int64(len(body)),
			storage.PutOptions{IfNoneMatch: true, ContentType: "application/json"})
		if errors.Is(err, storage.ErrInFlight) {
			// Another writer is putting seq right now and may yet fail: seq is not known to exist, so
			// moving on could leave a gap, or let readers pass seq before it lands. Ask again.
			if err := inFlightPause(ctx, &wait, &waited); err != nil {
				return 0, fmt.Errorf("append change log %d: another write of it stays in flight: %w", seq, err)
			}
			continue
		}
		if errors.Is(err, storage.ErrConflict) {
			// Another process holds seq, so seq exists: move on.
			l.last = seq
			seq++
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("append change log %d: %w", seq, err)
		}
		l.last = seq
		l.sinceCheckpoint++
		if l.sinceCheckpoint >= checkpointEvery {
			l.sinceCheckpoint = 0
			// Best effort: a lost checkpoint only makes the next start list a little more.
			_ = putJSON(ctx, l.bucket, checkpointKey, map[string]uint64{"seq": seq}, storage.PutOptions{})
		}
		return seq, nil
	}
}

// inFlightPause waits before asking again about a log entry another writer is putting: from 5 ms,
// doubling to 200 ms, for about 20 s in all, or until ctx ends. A write still in flight after that
// is stuck, and the append fails rather than guess.
func inFlightPause(ctx context.Context, wait *time.Duration, waited *time.Duration) error {
	if *waited > 20*time.Second {
		return errors.New("no answer after 20 s")
	}
	*wait = min(max(2**wait, 5*time.Millisecond), 200*time.Millisecond)
	*waited += *wait
	t := time.NewTimer(*wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Last returns the highest sequence number this process knows to exist.
func (l *changeLog) Last() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Read returns up to limit entries with Seq > after, in order.
func (l *changeLog) Read(ctx context.Context, after uint64, limit int) ([]LogEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	start := ""
	if after > 0 {
		start = logKey(after)
	}
	page, err := l.bucket.List(ctx, storage.ListOptions{Prefix: logPrefix, StartAfter: start, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("read change log after %d: %w", after, err)
	}
	out := make([]LogEntry, 0, len(page))
	for _, o := range page {
		if _, ok := parseLogKey(o.Key); !ok {
			continue
		}
		var e LogEntry
		if err := getJSON(ctx, l.bucket, o.Key, &e); err != nil {
			return nil, fmt.Errorf("read change log entry %s: %w", o.Key, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// getJSON reads key and decodes it into v. Objects this package writes are small.
func getJSON(ctx context.Context, b storage.Bucket, key string, v any) error {
	rc, _, err := b.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 16<<20))
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

func putJSON(ctx context.Context, b storage.Bucket, key string, v any, opts storage.PutOptions) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	opts.ContentType = "application/json"
	if _, err := b.Put(ctx, key, bytes.NewReader(body), int64(len(body)), opts); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}
