package search

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// Source is what the indexer reads: the change log and the current state of the records it names.
// *practices.Repo satisfies it.
type Source interface {
	// ReadLog returns up to limit change-log entries with Seq > after, in order.
	ReadLog(ctx context.Context, after uint64, limit int) ([]practices.LogEntry, error)
	// Load returns the current state of a record; gone is true when it was deleted or purged.
	Load(ctx context.Context, origin string, kind practices.Kind, id string) (rec practices.Record, gone bool, err error)
}

// CursorKey is where the indexer keeps its cursor in the store, for an index every replica shares.
const CursorKey = "node/state/indexer-cursor.json"

// CursorPrefix is where indexers keep their cursors with IndexerConfig.CursorPerIndex: one object
// per index instance, {CursorPrefix}{instance id}.json.
const CursorPrefix = "node/state/indexer-cursors/"

// IndexerConfig is what an Indexer needs. Source, Index and Bucket are required.
type IndexerConfig struct {
	Source Source
	Index  Index
	Bucket storage.Bucket // holds the cursor under CursorKey
	// CursorPerIndex keeps the cursor under CursorPrefix, keyed by the index's instance id, instead of
	// the one shared CursorKey: for an embedded index, of which each replica sharing the bucket has its
	// own, fed from the shared change log. A shared index (Meilisearch) keeps the shared cursor.
	CursorPerIndex bool
	// Evidence gives a practice's evidence for its document; nil uses SummaryEvidence.
	Evidence func(ctx context.Context, p *practices.Practice) (Evidence, error)
	// Registry receives the indexer's metrics; nil registers none.
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// PollInterval is how often the log is read when idle (default 200ms); Notify wakes it at once.
	PollInterval time.Duration
	// BatchSize is how many log entries are applied per index write (default 500).
	BatchSize int
	// MaxBackoff caps the wait between retries after a failure (default 10s).
	MaxBackoff time.Duration
}

// Indexer keeps an Index in step with the change log. State-based: an entry says "this record
// changed", and the indexer projects the record's current state, so duplicate or superseded entries
// are harmless. The cursor is saved after each applied batch, so a crash replays at most one batch.
type Indexer struct {
	cfg    IndexerConfig
	log    *slog.Logger
	wake   chan struct{}
	mu     sync.Mutex // serializes Step and Reindex
	cursor uint64

	lagMu     sync.Mutex
	pendingAt time.Time // At of the oldest entry read but not yet applied; zero when caught up

	mApplied prometheus.Counter
	mErrors  prometheus.Counter
	mCursor  prometheus.Gauge
}

// NewIndexer builds an indexer and registers its metrics on cfg.Registry:
// brightspots_search_indexer_lag_seconds (age of the oldest change not yet in the index; 0 when caught
// up), brightspots_search_indexer_cursor, brightspots_search_indexer_applied_total and
// brightspots_search_indexer_errors_total.
func NewIndexer(cfg IndexerConfig) (*Indexer, error) {
	if cfg.Source == nil || cfg.Index == nil || cfg.Bucket == nil {
		return nil, errors.New("search indexer: Source, Index and Bucket are required")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 200 * time.Millisecond
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.Evidence == nil {
		cfg.Evidence = func(_ context.Context, p *practices.Practice) (Evidence, error) { return SummaryEvidence(p), nil }
	}
	x := &Indexer{cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1)}
	if x.log == nil {
		x.log = slog.New(slog.DiscardHandler)
	}
	x.mApplied = prometheus.NewCounter(prometheus.CounterOpts{Name: "brightspots_search_indexer_applied_total",
		Help: "Change-log entries applied to the search index."})
	x.mErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "brightspots_search_indexer_errors_total",
		Help: "Failed attempts to apply change-log entries to the search index (each is retried)."})
	x.mCursor = prometheus.NewGauge(prometheus.GaugeOpts{Name: "brightspots_search_indexer_cursor",
		Help: "Sequence number of the last change-log entry applied to the search index."})
	lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "brightspots_search_indexer_lag_seconds",
		Help: "Age of the oldest change-log entry not yet in the search index; 0 when caught up."},
		func() float64 { return x.Lag().Seconds() })
	if cfg.Registry != nil {
		cs := []prometheus.Collector{x.mApplied, x.mErrors, x.mCursor, lag}
		// An index with metrics of its own (search/bleve's bounded caches) reports them here too.
		if c, ok := cfg.Index.(prometheus.Collector); ok {
			cs = append(cs, c)
		}
		for _, c := range cs {
			if err := cfg.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("search indexer: register metrics: %w", err)
			}
		}
	}
	return x, nil
}

// Notify wakes the indexer to read the log now (a publish or a mirrored change just happened).
// It never blocks.
func (x *Indexer) Notify() {
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// Lag is the age of the oldest change-log entry read but not yet applied; 0 when caught up.
func (x *Indexer) Lag() time.Duration {
	x.lagMu.Lock()
	defer x.lagMu.Unlock()
	if x.pendingAt.IsZero() {
		return 0
	}
	return max(0, time.Since(x.pendingAt))
}

// Cursor returns the sequence number of the last applied entry.
func (x *Indexer) Cursor() uint64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.cursor
}

// Run applies the change log until ctx ends, starting from the saved cursor. Failures (store or index
// unavailable) are logged, counted and retried with backoff; Run returns only ctx's error.
func (x *Indexer) Run(ctx context.Context) error {
	backoff := x.cfg.PollInterval
	loaded := false
	for {
		var more bool
		err := func() error {
			if !loaded {
				if err := x.loadCursor(ctx); err != nil {
					return err
				}
				loaded = true
			}
			var err error
			more, err = x.Step(ctx)
			return err
		}()
		wait := x.cfg.PollInterval
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			x.mErrors.Inc()
			x.log.Warn("search indexer: will retry", "err", err, "in", backoff)
			wait = backoff
			backoff = min(backoff*2, x.cfg.MaxBackoff)
		default:
			backoff = x.cfg.PollInterval
			if more {
				continue
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-x.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// Instancer is implemented by indexes that know when their contents were created anew (a deleted
// index folder, a recreated Meilisearch index). The cursor records the instance it belongs to; when
// the index's instance differs, the indexer replays the log from the start.
type Instancer interface {
	InstanceID(ctx context.Context) (string, error)
}

type cursorState struct {
	Seq       uint64    `json:"seq"`
	Index     string    `json:"index,omitempty"` // the index instance the cursor belongs to
	UpdatedAt time.Time `json:"updated_at"`
}

func (x *Indexer) instance(ctx context.Context) (string, error) {
	in, ok := x.cfg.Index.(Instancer)
	if !ok {
		return "", nil
	}
	id, err := in.InstanceID(ctx)
	if err != nil {
		return "", fmt.Errorf("search indexer: index instance: %w", err)
	}
	return id, nil
}

// cursorKey is where this indexer's cursor lives (see IndexerConfig.CursorPerIndex).
func (x *Indexer) cursorKey(ctx context.Context) (string, error) {
	if !x.cfg.CursorPerIndex {
		return CursorKey, nil
	}
	inst, err := x.instance(ctx)
	if err != nil || inst == "" {
		return CursorKey, err // an index without instances is one the replicas share
	}
	return CursorPrefix + inst + ".json", nil
}

func (x *Indexer) loadCursor(ctx context.Context) error {
	key, err := x.cursorKey(ctx)
	if err != nil {
		return err
	}
	rc, _, err := x.cfg.Bucket.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) && key != CursorKey {
		// Written before cursors were kept per index: the shared cursor still serves if it belongs to
		// this index (checked below), so an upgrade does not replay the whole log.
		key = CursorKey
		rc, _, err = x.cfg.Bucket.Get(ctx, key)
	}
	if errors.Is(err, storage.ErrNotFound) {
		x.mu.Lock()
		x.cursor = 0
		x.mu.Unlock()
		return nil
	}
	if err != nil {
		return fmt.Errorf("search indexer: read cursor: %w", err)
	}
	defer rc.Close()
	var st cursorState
	if err := json.NewDecoder(io.LimitReader(rc, 1<<16)).Decode(&st); err != nil {
		return fmt.Errorf("search indexer: decode cursor %s: %w", key, err)
	}
	inst, err := x.instance(ctx)
	if err != nil {
		return err
	}
	if inst != st.Index {
		x.log.Info("search indexer: the index was created anew; replaying the change log", "cursor", st.Seq)
		st.Seq = 0
	}
	x.mu.Lock()
	x.cursor = st.Seq
	x.mu.Unlock()
	x.mCursor.Set(float64(st.Seq))
	return nil
}

func (x *Indexer) saveCursor(ctx context.Context, seq uint64) error {
	inst, err := x.instance(ctx)
	if err != nil {
		return err
	}
	b, err := json.Marshal(cursorState{Seq: seq, Index: inst, UpdatedAt: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("search indexer: encode cursor: %w", err)
	}
	key, err := x.cursorKey(ctx)
	if err != nil {
		return err
	}
	if _, err := x.cfg.Bucket.Put(ctx, key, bytes.NewReader(b), int64(len(b)),
		storage.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("search indexer: save cursor %d: %w", seq, err)
	}
	return nil
}

// Step reads one batch of the log after the cursor, applies it and saves the cursor. more reports
// whether the batch was full (there may be more to read). Run calls Step; tests may call it directly
// after loading the cursor with Run or on a fresh indexer (cursor 0).
func (x *Indexer) Step(ctx context.Context) (more bool, err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	entries, err := x.cfg.Source.ReadLog(ctx, x.cursor, x.cfg.BatchSize)
	if err != nil {
		return false, fmt.Errorf("search indexer: read log after %d: %w", x.cursor, err)
	}
	if len(entries) == 0 {
		x.setPending(time.Time{})
		return false, nil
	}
	x.setPending(entries[0].At)
	if err := x.apply(ctx, entries); err != nil {
		return false, err
	}
	last := entries[len(entries)-1].Seq
	if err := x.saveCursor(ctx, last); err != nil {
		return false, err
	}
	x.cursor = last
	x.mCursor.Set(float64(last))
	x.mApplied.Add(float64(len(entries)))
	more = len(entries) >= x.cfg.BatchSize
	if !more {
		x.setPending(time.Time{})
	}
	return more, nil
}

func (x *Indexer) setPending(at time.Time) {
	x.lagMu.Lock()
	x.pendingAt = at
	x.lagMu.Unlock()
}

type recordKey struct {
	origin string
	kind   practices.Kind
	id     string
}

// apply projects the current state of every record the entries name, once each.
func (x *Indexer) apply(ctx context.Context, entries []practices.LogEntry) error {
	seen := make(map[recordKey]bool, len(entries))
	var keys []recordKey
	for _, e := range entries {
		k := recordKey{e.Origin, e.Kind, e.ID}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return x.project(ctx, keys)
}

func (x *Indexer) project(ctx context.Context, keys []recordKey) error {
	keys, err := x.withPracticesOfTests(ctx, keys)
	if err != nil {
		return err
	}
	var upserts []Document
	var deletes []string
	for _, k := range keys {
		if k.kind != practices.KindPractice && k.kind != practices.KindCollection && k.kind != practices.KindAim {
			continue
		}
		rec, gone, err := x.cfg.Source.Load(ctx, k.origin, k.kind, k.id)
		if errors.Is(err, practices.ErrNotFound) {
			gone, err = true, nil
		}
		if err != nil {
			return fmt.Errorf("search indexer: load %s %s from %s: %w", k.kind, k.id, k.origin, err)
		}
		if gone || rec == nil {
			deletes = append(deletes, DocID(k.origin, k.kind, k.id))
			continue
		}
		doc, ok, err := x.Project(ctx, rec)
		if err != nil {
			return err
		}
		if !ok {
			deletes = append(deletes, DocID(k.origin, k.kind, k.id))
			continue
		}
		upserts = append(upserts, doc)
	}
	if len(deletes) > 0 {
		if err := x.cfg.Index.Delete(ctx, deletes); err != nil {
			return fmt.Errorf("search indexer: delete %d documents: %w", len(deletes), err)
		}
	}
	if len(upserts) > 0 {
		if err := x.cfg.Index.Upsert(ctx, upserts); err != nil {
			return fmt.Errorf("search indexer: upsert %d documents: %w", len(upserts), err)
		}
	}
	return nil
}

// withPracticesOfTests replaces each test in keys by the practice it tests (and the practices that
// one adapts): tests are not search documents, but publishing, withdrawing or mirroring one changes
// its practice's evidence level and pooled effect, which are. The practice may live on any node.
func (x *Indexer) withPracticesOfTests(ctx context.Context, keys []recordKey) ([]recordKey, error) {
	seen := make(map[recordKey]bool, len(keys))
	out := make([]recordKey, 0, len(keys))
	add := func(k recordKey) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, k := range keys {
		if k.kind != practices.KindTest {
			add(k)
			continue
		}
		rec, gone, err := x.cfg.Source.Load(ctx, k.origin, k.kind, k.id)
		if errors.Is(err, practices.ErrNotFound) || gone || rec == nil {
			continue // a purged test's practice is refreshed by its own entries or the next test
		}
		if err != nil {
			return nil, fmt.Errorf("search indexer: load test %s from %s: %w", k.id, k.origin, err)
		}
		t, ok := rec.(*practices.Test)
		if !ok {
			continue
		}
		origin, kind, id, ok := practices.ParseURI(t.Practice.URI)
		if !ok || kind != practices.KindPractice {
			continue
		}
		add(recordKey{origin, kind, id})
		// The practice tested may be an adaptation: its originals pool this test too.
		if prac, gone, err := x.cfg.Source.Load(ctx, origin, kind, id); err == nil && !gone {
			for _, b := range prac.(*practices.Practice).BasedOn {
				if b.Relation != "adaptation_of" {
					continue
				}
				if o, k2, id2, ok := practices.ParseURI(b.URI); ok && k2 == practices.KindPractice {
					add(recordKey{o, k2, id2})
				}
			}
		}
	}
	return out, nil
}

// Project returns the search document of a record, or ok false when the record must not be in the
// index (not published, or not a practice, collection or aim).
func (x *Indexer) Project(ctx context.Context, rec practices.Record) (Document, bool, error) {
	if rec.RecordMeta().Status != practices.StatusPublished {
		return Document{}, false, nil
	}
	switch r := rec.(type) {
	case *practices.Practice:
		ev, err := x.cfg.Evidence(ctx, r)
		if err != nil {
			return Document{}, false, fmt.Errorf("search indexer: evidence of practice %s: %w", r.ID, err)
		}
		return FromPractice(r, ev), true, nil
	case *practices.Collection:
		return FromCollection(r), true, nil
	case *practices.Aim:
		return FromAim(r), true, nil
	}
	return Document{}, false, nil
}

// Reindex rebuilds the index from the store: it clears the index, reads the whole change log, projects
// the current state of every record it names and saves the cursor at the log's end, so a Run started
// afterwards continues from there. Searches see a partial index while it runs.
func (x *Indexer) Reindex(ctx context.Context) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	var keys []recordKey
	seen := map[recordKey]bool{}
	var last uint64
	for {
		entries, err := x.cfg.Source.ReadLog(ctx, last, x.cfg.BatchSize)
		if err != nil {
			return fmt.Errorf("search reindex: read log after %d: %w", last, err)
		}
		for _, e := range entries {
			k := recordKey{e.Origin, e.Kind, e.ID}
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
			last = e.Seq
		}
		if len(entries) < x.cfg.BatchSize {
			break
		}
	}
	if err := x.cfg.Index.Clear(ctx); err != nil {
		return fmt.Errorf("search reindex: clear: %w", err)
	}
	for i := 0; i < len(keys); i += x.cfg.BatchSize {
		if err := x.project(ctx, keys[i:min(i+x.cfg.BatchSize, len(keys))]); err != nil {
			return fmt.Errorf("search reindex: %w", err)
		}
	}
	if err := x.saveCursor(ctx, last); err != nil {
		return fmt.Errorf("search reindex: %w", err)
	}
	x.cursor = last
	x.mCursor.Set(float64(last))
	x.setPending(time.Time{})
	x.log.Info("search reindex done", "records", len(keys), "cursor", last)
	return nil
}
