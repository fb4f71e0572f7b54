package practices

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/storage"
)

// Errors callers branch on.
var (
	// ErrNotFound: no such record, or the caller may not see it (the two are deliberately the same).
	ErrNotFound = errors.New("not found")
	// ErrStale: the caller's expected version (If-Match) is not the current one, or another writer won.
	ErrStale = errors.New("record changed since it was read")
	// ErrForbidden: the caller may see the record but not make this change.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated: the change needs a signed-in caller.
	ErrUnauthenticated = errors.New("authentication required")
)

// StateError reports a change the record's lifecycle does not allow (publishing a withdrawn record's
// draft, deciding before results exist …). The HTTP layer answers 409.
type StateError struct{ Msg string }

func (e *StateError) Error() string { return e.Msg }

// LogEntry is one change-log entry: "this record changed". Readers take the record's current state.
type LogEntry struct {
	Seq     uint64    `json:"seq"`
	Kind    Kind      `json:"kind"`
	ID      string    `json:"id"`
	Origin  string    `json:"origin"` // node URL; this node's own URL for local records
	Version int       `json:"version"`
	Op      string    `json:"op"` // "put" | "delete"
	At      time.Time `json:"at"`
}

// Node identifies the district node that owns local records.
type Node struct {
	URL string `json:"url"` // public base URL, no trailing slash; also the federation issuer
	ID  string `json:"id"`  // short slug, e.g. "riverside"
}

// Repo keeps records in the object store: immutable versions, head pointers, the change log.
// It is safe for concurrent use, and several processes may share one bucket.
type Repo struct {
	bucket storage.Bucket
	node   Node
	log    *changeLog
	logger *slog.Logger
	now    func() time.Time

	// mirrors maps a peer's node URL to its node id, for the mirror/{origin-id}/… keys. Set by
	// federation when peers are configured.
	mu      sync.RWMutex
	mirrors map[string]string

	onChange func() // called after each log append (wakes the indexer); may be nil

	minimumN int // points of measures below it stay inside the district

	dashboards dashboardCache // aims' dashboards, rebuilt when the change log moves (dashboard.go)
}

// Options tune a Repo. The zero value is fine.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time // for tests
	// MinimumN is the privacy minimum n (docs/records.md, default 10) applied to measures' points.
	MinimumN int
	// BesideRunningNode is for a command run while the node may be serving from the same store: Open
	// then finishes only writes abandoned for longer than CommandReconcileAge, never a running node's
	// write in flight (finishing it would swap its head under it and fail its publish).
	BesideRunningNode bool
}

// CommandReconcileAge is how old a write intent must be before a command run beside a running node
// finishes it: the running node's own reconciler uses the same age, so a write younger than this
// belongs to someone still at work on it.
const CommandReconcileAge = time.Minute

// Open opens the repository in bucket for node, finds the end of the change log and runs the
// reconciler once so that anything a crash left half-done is finished before the first request.
func Open(ctx context.Context, bucket storage.Bucket, node Node, opts Options) (*Repo, error) {
	if node.URL == "" || node.ID == "" {
		return nil, errors.New("practices: node URL and id are required")
	}
	if err := checkIdentity(ctx, bucket, node); err != nil {
		return nil, err
	}
	l, err := openChangeLog(ctx, bucket)
	if err != nil {
		return nil, err
	}
	r := &Repo{bucket: bucket, node: node, log: l, logger: opts.Logger, now: opts.Now, mirrors: map[string]string{}}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.minimumN = opts.MinimumN
	if r.minimumN <= 0 {
		r.minimumN = 10
	}
	minAge := time.Duration(0)
	if opts.BesideRunningNode {
		minAge = CommandReconcileAge
	}
	if _, err := r.Reconcile(ctx, minAge); err != nil {
		return nil, err
	}
	if err := r.ensureListIndex(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

const identityKey = "node/state/identity.json"

// ErrIdentity: the store belongs to a node with another URL or id.
var ErrIdentity = errors.New("node identity changed")

// HeldIdentity returns the node identity the store in b was first opened with, or an error that
// wraps storage.ErrNotFound when no node has opened it yet. Commands given no configuration take it,
// so that pointing them at a data folder is enough.
func HeldIdentity(ctx context.Context, b storage.Bucket) (Node, error) {
	var held Node
	if err := getJSON(ctx, b, identityKey, &held); err != nil {
		return Node{}, fmt.Errorf("read node identity: %w", err)
	}
	return held, nil
}

// checkIdentity binds the store to the node URL and id it was first opened with. Every local record
// carries that URL as its origin and peers know the node by it, so opening the store under another
// identity would make the node's own records look foreign. Refuse, and say how to proceed.
func checkIdentity(ctx context.Context, b storage.Bucket, node Node) error {
	var held Node
	err := getJSON(ctx, b, identityKey, &held)
	if errors.Is(err, storage.ErrNotFound) {
		err = putJSON(ctx, b, identityKey, node, storage.PutOptions{IfNoneMatch: true})
		if errors.Is(err, storage.ErrConflict) { // another replica got there first
			return checkIdentity(ctx, b, node)
		}
		return err
	}
	if err != nil {
		return fmt.Errorf("read node identity: %w", err)
	}
	if held.URL != node.URL || held.ID != node.ID {
		return fmt.Errorf("%w: this store belongs to node %q at %s, but node.id is %q and node.url is %s; "+
			"set node.id and node.url back (with no configuration, node.url comes from --addr), or start with an empty data folder",
			ErrIdentity, held.ID, held.URL, node.ID, node.URL)
	}
	return nil
}

// Node returns the node this repository belongs to.
func (r *Repo) Node() Node { return r.node }

// Bucket returns the object store underneath (for the parts of the node that keep their own state).
func (r *Repo) Bucket() storage.Bucket { return r.bucket }

// OnChange registers f to be called after every change-log append. Not safe to call concurrently with writes.
func (r *Repo) OnChange(f func()) { r.onChange = f }

// SetMirrorID binds a peer's node URL to its node id for mirror keys.
func (r *Repo) SetMirrorID(originURL, nodeID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mirrors[originURL] = nodeID
}

// URI is the stable URI of a local record.
func (r *Repo) URI(kind Kind, id string) string { return r.node.URL + "/" + kind.Plural() + "/" + id }

func versionKey(kind Kind, id string, v int) string {
	return fmt.Sprintf("records/%s/%s/v%08d.json", kind, id, v)
}
func headKey(kind Kind, id string) string { return fmt.Sprintf("records/%s/%s/head.json", kind, id) }
func intentKey(kind Kind, id string, v int) string {
	return fmt.Sprintf("node/intents/%s.%s.v%08d.json", kind, id, v)
}

// ReadLog returns up to limit change-log entries with Seq > after, in order.
func (r *Repo) ReadLog(ctx context.Context, after uint64, limit int) ([]LogEntry, error) {
	return r.log.Read(ctx, after, limit)
}

// LogEnd is the highest change-log sequence number this process knows to exist.
func (r *Repo) LogEnd() uint64 { return r.log.Last() }

// AppendLog appends an entry for a change made outside Repo's write path (a mirrored document).
func (r *Repo) AppendLog(ctx context.Context, e LogEntry) (uint64, error) {
	e.At = r.now().UTC()
	seq, err := r.log.Append(ctx, e)
	if err == nil && r.onChange != nil {
		r.onChange()
	}
	return seq, err
}

// validID reports whether id is a canonical UUID (ids appear in storage keys).
func validID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

// head reads the head of a local record with its ETag.
func (r *Repo) head(ctx context.Context, kind Kind, id string) (Record, string, error) {
	if !kind.Valid() || !validID(id) {
		return nil, "", ErrNotFound
	}
	rc, info, err := r.bucket.Get(ctx, headKey(kind, id))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("read %s %s: %w", kind, id, err)
	}
	defer rc.Close()
	rec := NewRecord(kind)
	if err := json.NewDecoder(rc).Decode(rec); err != nil {
		return nil, "", fmt.Errorf("decode %s %s: %w", kind, id, err)
	}
	return rec, info.ETag, nil
}

// readVersion reads one immutable version.
func (r *Repo) readVersion(ctx context.Context, kind Kind, id string, v int) (Record, error) {
	rec := NewRecord(kind)
	if err := getJSON(ctx, r.bucket, versionKey(kind, id, v), rec); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	return rec, nil
}

// Get returns the current state of a local record if p may see it; ErrNotFound otherwise.
func (r *Repo) Get(ctx context.Context, p Principal, kind Kind, id string) (Record, error) {
	rec, _, err := r.head(ctx, kind, id)
	if err != nil {
		return nil, err
	}
	if !CanRead(p, rec.RecordMeta(), r.node) {
		return nil, ErrNotFound
	}
	return rec, nil
}

// GetVersion returns one version of a local record if p may see the record now and that version.
func (r *Repo) GetVersion(ctx context.Context, p Principal, kind Kind, id string, v int) (Record, error) {
	if _, err := r.Get(ctx, p, kind, id); err != nil {
		return nil, err
	}
	rec, err := r.readVersion(ctx, kind, id, v)
	if err != nil {
		return nil, err
	}
	if !CanRead(p, rec.RecordMeta(), r.node) {
		return nil, ErrNotFound
	}
	return rec, nil
}

// Load returns the current state of the record a log entry names: a local record's head, or a
// mirrored record's latest received copy. gone is true when the record no longer exists here (a
// tombstone purged the mirror copy); rec is then nil. No access check: callers (the indexer, the
// federation feed) apply their own visibility rules to what they get.
func (r *Repo) Load(ctx context.Context, origin string, kind Kind, id string) (rec Record, gone bool, err error) {
	if origin == "" || origin == r.node.URL {
		rec, _, err := r.head(ctx, kind, id)
		if errors.Is(err, ErrNotFound) || (err == nil && rec.RecordMeta().Status == StatusDeleted) {
			return nil, true, nil
		}
		return rec, false, err
	}
	data, err := r.GetMirror(ctx, origin, kind, id)
	if errors.Is(err, ErrNotFound) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	rec, deleted, err := decodeSignedPayload(kind, data)
	if err != nil {
		return nil, false, fmt.Errorf("mirror %s %s/%s: %w", origin, kind, id, err)
	}
	if deleted {
		return nil, true, nil
	}
	// The district a mirrored record belongs to is the configured peer it came from, never a label
	// inside the payload (docs/protocol.md, "Who a record comes from"). Federation refuses documents whose
	// labels disagree; this also corrects copies stored before it did.
	m := rec.RecordMeta()
	m.Origin, m.OriginID, m.URI = origin, r.DistrictID(origin), origin+"/"+kind.Plural()+"/"+id
	return rec, false, nil
}

// DistrictID is the district id of the node at origin: this node's id for its own URL, the
// configured id of a peer for the peer's URL, "" for any other.
func (r *Repo) DistrictID(origin string) string {
	if origin == r.node.URL {
		return r.node.ID
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.mirrors[origin]
}

// mirrorKey is where federation stores a peer's signed document.
func (r *Repo) mirrorKey(origin string, kind Kind, id string) (string, error) {
	r.mu.RLock()
	nodeID, ok := r.mirrors[origin]
	r.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("%w: unknown origin %q", ErrNotFound, origin)
	}
	if !kind.Valid() || !validID(id) {
		return "", ErrNotFound
	}
	return fmt.Sprintf("mirror/%s/%s/%s.jws", nodeID, kind, id), nil
}

// GetMirror returns the stored signed document of a mirrored record, byte for byte.
func (r *Repo) GetMirror(ctx context.Context, origin string, kind Kind, id string) ([]byte, error) {
	key, err := r.mirrorKey(origin, kind, id)
	if err != nil {
		return nil, err
	}
	rc, _, err := r.bucket.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeSignedPayload reads the payload of a compact JWS that federation verified before storing it.
func decodeSignedPayload(kind Kind, jws []byte) (Record, bool, error) {
	var doc struct {
		Deleted bool            `json:"deleted"`
		Record  json.RawMessage `json:"record"`
	}
	if err := DecodeUnverifiedPayload(jws, &doc); err != nil {
		return nil, false, err
	}
	if doc.Deleted {
		return nil, true, nil
	}
	rec := NewRecord(kind)
	if err := json.Unmarshal(doc.Record, rec); err != nil {
		return nil, false, fmt.Errorf("record: %w", err)
	}
	return rec, false, nil
}

// Create stores a new draft record owned by the team it names. rec's server-owned fields are
// ignored and set here.
func (r *Repo) Create(ctx context.Context, p Principal, rec Record) (Record, error) {
	m := rec.RecordMeta()
	kind := kindOf(rec)
	if err := CanCreate(p, kind, m.Team); err != nil {
		return nil, err
	}
	now := r.now().UTC().Truncate(time.Millisecond)
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	fresh := Meta{
		ID: id.String(), Kind: kind, URI: r.URI(kind, id.String()), Version: 1,
		Origin: r.node.URL, OriginID: r.node.ID, Status: StatusDraft,
		CreatedAt: now, UpdatedAt: now, Team: m.Team, Visibility: m.Visibility, SharedWith: m.SharedWith,
		CreatedBy: p.Subject, UpdatedBy: p.Subject,
	}
	if fresh.Visibility == "" {
		fresh.Visibility = VisibilityDistrict
	}
	*m = fresh
	clearComputed(rec)
	applyDefaults(rec)
	var team []evidence.Measure
	if t, ok := rec.(*Test); ok {
		var err error
		if team, err = r.prepareMeasures(t, nil); err != nil {
			return nil, err
		}
	}
	if err := Validate(rec, LevelCreate); err != nil {
		return nil, err
	}
	var progressTeam []evidence.MeasurePoint
	switch x := rec.(type) {
	case *Test:
		if err := r.prepareTest(ctx, p, x, nil); err != nil {
			return nil, err
		}
	case *Aim:
		if err := r.prepareAim(x, true); err != nil {
			return nil, err
		}
	case *Progress:
		var err error
		if progressTeam, err = r.prepareProgress(ctx, p, x, nil); err != nil {
			return nil, err
		}
	}
	if err := r.commit(ctx, rec, "", listEntry{}); err != nil {
		return nil, err
	}
	if team != nil {
		if err := r.putTeamMeasures(ctx, m.ID, m.Version, team); err != nil {
			return nil, err
		}
	}
	if progressTeam != nil {
		if err := r.putTeamProgress(ctx, m.ID, m.Version, progressTeam); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// Update replaces the client-editable content of a record. expected is the version the client last
// read (If-Match); ErrStale when it is not the current one.
func (r *Repo) Update(ctx context.Context, p Principal, kind Kind, id string, expected int, rec Record) (Record, error) {
	var team []evidence.Measure
	var progressTeam []evidence.MeasurePoint
	out, err := r.change(ctx, p, kind, id, expected, func(cur Record) error {
		if kindOf(rec) != kind {
			return errors.New("record kind mismatch")
		}
		if cur.RecordMeta().Status == StatusWithdrawn {
			return &StateError{Msg: "a withdrawn record cannot be edited; publish it again first"}
		}
		if err := checkEditable(cur, rec); err != nil {
			return err
		}
		if t, ok := rec.(*Test); ok {
			if err := r.prepareTest(ctx, p, t, cur.(*Test)); err != nil {
				return err
			}
		}
		m := *cur.RecordMeta()
		in := rec.RecordMeta()
		m.Visibility, m.SharedWith = in.Visibility, in.SharedWith
		if m.Visibility == "" {
			m.Visibility = VisibilityDistrict
		}
		keepComputed(rec, cur)
		if t, ok := rec.(*Test); ok && t.Measures != nil {
			prev, err := r.TeamMeasures(ctx, cur.(*Test))
			if err != nil {
				return err
			}
			if team, err = r.prepareMeasures(t, prev); err != nil {
				return err
			}
		}
		if t, ok := rec.(*Test); ok {
			if t.Measures == nil {
				t.Measures = cur.(*Test).Measures
			}
		}
		if pr, ok := rec.(*Progress); ok {
			if err := Validate(rec, LevelCreate); err != nil {
				return err
			}
			prev, err := r.TeamProgress(ctx, cur.(*Progress))
			if err != nil {
				return err
			}
			if progressTeam, err = r.prepareProgress(ctx, p, pr, prev); err != nil {
				return err
			}
		}
		*rec.RecordMeta() = m
		copyRecord(cur, rec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if team != nil {
		if err := r.putTeamMeasures(ctx, id, out.RecordMeta().Version, team); err != nil {
			return nil, err
		}
	}
	if progressTeam != nil {
		if err := r.putTeamProgress(ctx, id, out.RecordMeta().Version, progressTeam); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Publish makes the current version visible according to its visibility, after checking that every
// field publishing needs is present.
func (r *Repo) Publish(ctx context.Context, p Principal, kind Kind, id string, expected int) (Record, error) {
	return r.change(ctx, p, kind, id, expected, func(cur Record) error {
		m := cur.RecordMeta()
		if m.Status == StatusPublished {
			return &StateError{Msg: "already published"}
		}
		if t, ok := cur.(*Test); ok {
			if err := r.practicePublished(ctx, t); err != nil {
				return err
			}
		}
		m.Status = StatusPublished
		now := r.now().UTC().Truncate(time.Millisecond)
		m.PublishedAt, m.WithdrawnAt = &now, nil
		return nil
	})
}

// practicePublished refuses to publish a test whose local practice is not published: readers of the
// test would follow its link to a draft they may not see (or to nothing). A practice of another
// district is published by the time this node holds its mirror, so only local ones are checked.
func (r *Repo) practicePublished(ctx context.Context, t *Test) error {
	origin, kind, id, ok := ParseURI(t.Practice.URI)
	if !ok || kind != KindPractice || origin != r.node.URL {
		return nil
	}
	pr, _, err := r.head(ctx, KindPractice, id)
	if errors.Is(err, ErrNotFound) {
		return nil // validation reports a practice reference that names nothing
	}
	if err != nil {
		return err
	}
	if pr.RecordMeta().Status != StatusPublished {
		return &ValidationError{Problems: []FieldError{{Field: "practice", Rule: "published",
			Message: "must be published before its tests: publish the practice first"}}}
	}
	return nil
}

// Withdraw takes a published record out of view (peers receive a tombstone).
func (r *Repo) Withdraw(ctx context.Context, p Principal, kind Kind, id string, expected int) (Record, error) {
	return r.change(ctx, p, kind, id, expected, func(cur Record) error {
		m := cur.RecordMeta()
		if m.Status != StatusPublished {
			return &StateError{Msg: "only a published record can be withdrawn"}
		}
		now := r.now().UTC().Truncate(time.Millisecond)
		m.Status, m.WithdrawnAt = StatusWithdrawn, &now
		return nil
	})
}

// Delete removes a record for good: it reads as gone everywhere and peers receive a "deleted"
// tombstone. Its earlier versions stay in the store (they are the audit trail) but are never served.
func (r *Repo) Delete(ctx context.Context, p Principal, kind Kind, id string, expected int) error {
	_, err := r.change(ctx, p, kind, id, expected, func(cur Record) error {
		m := cur.RecordMeta()
		now := r.now().UTC().Truncate(time.Millisecond)
		m.Status, m.WithdrawnAt = StatusDeleted, &now
		return nil
	})
	return err
}

// Mutate applies a server-side change (results, attached artifacts, computed evidence) as a new
// version, retrying when another writer gets there first. The caller must be allowed to write.
func (r *Repo) Mutate(ctx context.Context, p Principal, kind Kind, id string, f func(cur Record) error) (Record, error) {
	for attempt := 0; ; attempt++ {
		rec, err := r.change(ctx, p, kind, id, 0, f)
		if errors.Is(err, ErrStale) && attempt < 8 {
			continue
		}
		return rec, err
	}
}

// change is the one read-modify-write path: authorize, apply f to the current head, validate, commit
// the next version. expected 0 means "whatever is current".
func (r *Repo) change(ctx context.Context, p Principal, kind Kind, id string, expected int, f func(cur Record) error) (Record, error) {
	cur, etag, err := r.head(ctx, kind, id)
	if err != nil {
		return nil, err
	}
	m := cur.RecordMeta()
	if !CanRead(p, m, r.node) {
		return nil, ErrNotFound
	}
	if err := CanWrite(p, m); err != nil {
		return nil, err
	}
	if expected != 0 && expected != m.Version {
		return nil, ErrStale
	}
	before := entryOf(m) // f changes cur in place
	if err := f(cur); err != nil {
		return nil, err
	}
	m = cur.RecordMeta()
	m.Version++
	m.UpdatedAt = r.now().UTC().Truncate(time.Millisecond)
	m.UpdatedBy = p.Subject
	level := LevelCreate
	if m.Status == StatusPublished {
		level = LevelPublish
	}
	if err := Validate(cur, level); err != nil {
		return nil, err
	}
	if err := r.commit(ctx, cur, etag, before); err != nil {
		return nil, err
	}
	return cur, nil
}

// commit runs the write order of the package doc for the version in rec. headETag is the ETag of the
// head the change was based on ("" for a new record), and before what the listing index said of it
// (zero for a new record).
func (r *Repo) commit(ctx context.Context, rec Record, headETag string, before listEntry) error {
	m := rec.RecordMeta()
	body, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", m.Kind, m.ID, err)
	}
	// Reverse references first: a stale one is harmless (readers re-check the link), a missing one
	// would hide a test from its practice's evidence.
	if err := r.NoteReferences(ctx, r.node.ID, rec); err != nil {
		return err
	}
	intent := intentKey(m.Kind, m.ID, m.Version)
	if err := putJSON(ctx, r.bucket, intent, map[string]any{"at": r.now().UTC()}, storage.PutOptions{}); err != nil {
		return err
	}
	_, err = r.bucket.Put(ctx, versionKey(m.Kind, m.ID, m.Version), bytes.NewReader(body), int64(len(body)),
		storage.PutOptions{IfNoneMatch: true, ContentType: "application/json"})
	if errors.Is(err, storage.ErrConflict) {
		// Someone else committed this version first. Make sure their change is fully visible, then
		// tell the caller to re-read.
		_ = r.bucket.Delete(ctx, intent)
		if rerr := r.repair(ctx, m.Kind, m.ID, false); rerr != nil {
			r.logger.Warn("repair after conflict", "kind", m.Kind, "id", m.ID, "err", rerr)
		}
		return ErrStale
	}
	if err != nil {
		return fmt.Errorf("commit %s %s v%d: %w", m.Kind, m.ID, m.Version, err)
	}
	// The listing entry of the new state goes in before the head shows it, so no list ever misses a
	// record its head shows (listindex.go); the entry of the old state goes after the log append.
	if before.ID == "" || entryOf(m) != before {
		if err := r.putListEntry(ctx, m); err != nil {
			return err
		}
	}
	// The head moves before the log entry is written, so a reader woken by the entry (the indexer,
	// the federation feed: both read current state) never finds an older head than the entry names.
	if err := r.advanceHead(ctx, rec, body, headETag); err != nil {
		return err
	}
	op := "put"
	if m.Status == StatusDeleted {
		op = "delete"
	}
	if _, err := r.AppendLog(ctx, LogEntry{Kind: m.Kind, ID: m.ID, Origin: r.node.URL, Version: m.Version, Op: op}); err != nil {
		return err
	}
	if before.ID != "" {
		r.dropListEntry(ctx, m.Kind, before, m)
	}
	if err := r.bucket.Delete(ctx, intent); err != nil {
		r.logger.Warn("delete write intent", "key", intent, "err", err)
	}
	return nil
}

// advanceHead swaps the head to rec unless it already shows rec's version or a later one.
func (r *Repo) advanceHead(ctx context.Context, rec Record, body []byte, etag string) error {
	m := rec.RecordMeta()
	key := headKey(m.Kind, m.ID)
	for attempt := 0; attempt < 16; attempt++ {
		opts := storage.PutOptions{ContentType: "application/json"}
		if etag == "" {
			opts.IfNoneMatch = true
		} else {
			opts.IfMatch = etag
		}
		_, err := r.bucket.Put(ctx, key, bytes.NewReader(body), int64(len(body)), opts)
		if err == nil {
			return nil
		}
		if !errors.Is(err, storage.ErrConflict) {
			return fmt.Errorf("swap head of %s %s: %w", m.Kind, m.ID, err)
		}
		cur, curTag, herr := r.head(ctx, m.Kind, m.ID)
		switch {
		case errors.Is(herr, ErrNotFound):
			etag = ""
		case herr != nil:
			return herr
		case cur.RecordMeta().Version >= m.Version:
			return nil // a later (or the same) version is already the head
		default:
			etag = curTag
		}
	}
	return fmt.Errorf("swap head of %s %s: too much contention", m.Kind, m.ID)
}

// repair rolls a record's head forward to its latest committed version and logs that version. With
// logAnyway it logs even when the head is already there: a write interrupted after its head swap but
// before its log append leaves exactly that state, and only its intent tells. A duplicate entry is
// harmless.
func (r *Repo) repair(ctx context.Context, kind Kind, id string, logAnyway bool) error {
	prefix := fmt.Sprintf("records/%s/%s/v", kind, id)
	objs, err := r.bucket.List(ctx, storage.ListOptions{Prefix: prefix})
	if err != nil {
		return err
	}
	latest := 0
	for _, o := range objs {
		if v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(o.Key, prefix), ".json")); err == nil && v > latest {
			latest = v
		}
	}
	if latest == 0 {
		return nil
	}
	cur, etag, err := r.head(ctx, kind, id)
	have := 0
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	default:
		have = cur.RecordMeta().Version
	}
	if have < latest {
		rec, err := r.readVersion(ctx, kind, id, latest)
		if err != nil {
			return err
		}
		body, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := r.putListEntry(ctx, rec.RecordMeta()); err != nil {
			return err
		}
		if err := r.advanceHead(ctx, rec, body, etag); err != nil {
			return err
		}
		if cur != nil {
			r.dropListEntry(ctx, kind, entryOf(cur.RecordMeta()), rec.RecordMeta())
		}
	} else if !logAnyway {
		return nil
	} else if err := r.putListEntry(ctx, cur.RecordMeta()); err != nil {
		// The write was cut short after its head swap: its entry may be missing too.
		return err
	}
	op := "put"
	if latestRec, err := r.readVersion(ctx, kind, id, latest); err == nil && latestRec.RecordMeta().Status == StatusDeleted {
		op = "delete"
	}
	_, err = r.AppendLog(ctx, LogEntry{Kind: kind, ID: id, Origin: r.node.URL, Version: latest, Op: op})
	return err
}

// Reconcile finishes every write a crash interrupted (see the package doc): for each write intent
// older than minAge, it repairs the record and deletes the intent. It returns how many intents it
// handled. Intents younger than minAge may belong to a write still in flight in another replica.
func (r *Repo) Reconcile(ctx context.Context, minAge time.Duration) (int, error) {
	n := 0
	start := ""
	for {
		objs, err := r.bucket.List(ctx, storage.ListOptions{Prefix: "node/intents/", StartAfter: start, Limit: 1000})
		if err != nil {
			return n, fmt.Errorf("reconcile: list intents: %w", err)
		}
		for _, o := range objs {
			start = o.Key
			if minAge > 0 && r.now().Sub(o.ModTime) < minAge {
				continue
			}
			name := strings.TrimSuffix(strings.TrimPrefix(o.Key, "node/intents/"), ".json")
			if strings.HasPrefix(name, "mirror/") {
				if err := r.finishMirrorIntent(ctx, o.Key); err != nil {
					return n, fmt.Errorf("reconcile %s: %w", o.Key, err)
				}
				n++
				continue
			}
			parts := strings.Split(name, ".")
			if len(parts) != 3 {
				continue
			}
			kind, id := Kind(parts[0]), parts[1]
			if !kind.Valid() || !validID(id) {
				continue
			}
			if err := r.repair(ctx, kind, id, true); err != nil {
				return n, fmt.Errorf("reconcile %s %s: %w", kind, id, err)
			}
			if err := r.bucket.Delete(ctx, o.Key); err != nil {
				return n, err
			}
			n++
		}
		if len(objs) < 1000 {
			return n, nil
		}
	}
}

// ListScanBudget is how many record heads one List call reads at most. A page that the budget ends
// before it is full comes back short, with a next cursor to continue from, so no request costs a read
// of every record. Index entries (listindex.go) are cheaper, a name in a listing, but also bounded:
// ListEntryBudget of them per call.
const (
	ListScanBudget  = 500
	ListEntryBudget = 20 * ListScanBudget
)

// canEditAny reports whether p could edit some record of kind, and so see unpublished ones.
func canEditAny(p Principal, kind Kind) bool {
	switch {
	case !p.Authenticated():
		return false
	case p.Has(RoleAdmin):
		return true
	case coordinatorKind(kind):
		return p.Has(RoleCoordinator)
	}
	return p.Has(RolePublisher)
}

// List returns local records of kind that p may see, ordered by id (ids are time-ordered UUIDv7s,
// so this is creation order), starting after the id `after`. Filter narrows by team and status.
//
// It reads the listing index, not the records: a filter by team reads that team's entries, a filter
// by status that status's, and the head of a record is read only when its entry says p may see it
// (listindex.go). The head decides what is returned.
func (r *Repo) List(ctx context.Context, p Principal, kind Kind, f ListFilter, after string, limit int) ([]Record, string, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if !kind.Valid() || f.Status == StatusDeleted {
		return nil, "", nil
	}
	if (f.Status == StatusDraft || f.Status == StatusWithdrawn) && !canEditAny(p, kind) {
		// Only those who may edit such records see them unpublished: for anyone else the answer is
		// empty, and listing entries to find that out is what an anonymous caller must not cost.
		return nil, "", nil
	}
	if f.Status == "" && f.Team == "" && !canEditAny(p, kind) {
		f.Status = StatusPublished // all such a caller can see; the smallest family that has it
	}
	prefix := listSource(kind, f)
	start := ""
	if after != "" {
		start = prefix + after + "/" // '/' sorts after every "{id}.…" entry of that id
	}
	var out []Record
	heads, entries := 0, 0
	curID, prevID, curRead := "", "", false
	for {
		objs, err := r.bucket.List(ctx, storage.ListOptions{Prefix: prefix, StartAfter: start, Limit: 1000})
		if err != nil {
			return nil, "", err
		}
		for _, o := range objs {
			start = o.Key
			e, ok := parseEntry(o.Key[len(prefix):])
			if !ok {
				continue
			}
			if e.ID != curID {
				// Cut only between records, when every entry of the last one has been looked at.
				if curID != "" {
					prevID = curID
				}
				if entries >= ListEntryBudget || heads >= ListScanBudget {
					return out, prevID, nil
				}
				curID, curRead = e.ID, false
			}
			entries++
			if curRead || !r.mayShow(p, kind, e, f) {
				continue // the head decides once per record, whatever its other entries say
			}
			heads, curRead = heads+1, true
			rec, _, err := r.head(ctx, kind, e.ID)
			if err != nil {
				continue
			}
			m := rec.RecordMeta()
			if !CanRead(p, m, r.node) || !f.match(m) {
				continue
			}
			out = append(out, rec)
			if len(out) == limit {
				return out, e.ID, nil
			}
		}
		if len(objs) < 1000 {
			return out, "", nil
		}
	}
}

// ListFilter narrows List.
type ListFilter struct {
	Team   string
	Status Status
}

func (f ListFilter) match(m *Meta) bool {
	return (f.Team == "" || m.Team == f.Team) && (f.Status == "" || m.Status == f.Status)
}

func kindOf(rec Record) Kind {
	switch rec.(type) {
	case *Practice:
		return KindPractice
	case *Test:
		return KindTest
	case *Collection:
		return KindCollection
	case *Aim:
		return KindAim
	case *Progress:
		return KindProgress
	}
	return ""
}
