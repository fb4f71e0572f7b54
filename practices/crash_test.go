package practices_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// dyingBucket lets the first `allow` mutating calls through and then fails every later one, as a
// process killed between two writes would: nothing after the crash point reaches the store.
type dyingBucket struct {
	storage.Bucket
	mu    sync.Mutex
	allow int
}

var errCrashed = errors.New("process crashed")

func (d *dyingBucket) step() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.allow <= 0 {
		return errCrashed
	}
	d.allow--
	return nil
}

func (d *dyingBucket) Put(ctx context.Context, key string, r io.Reader, size int64, o storage.PutOptions) (storage.ObjectInfo, error) {
	if err := d.step(); err != nil {
		return storage.ObjectInfo{}, err
	}
	return d.Bucket.Put(ctx, key, r, size, o)
}

func (d *dyingBucket) Delete(ctx context.Context, key string) error {
	if err := d.step(); err != nil {
		return err
	}
	return d.Bucket.Delete(ctx, key)
}

func (d *dyingBucket) Copy(ctx context.Context, src, dst string, o storage.PutOptions) (storage.ObjectInfo, error) {
	if err := d.step(); err != nil {
		return storage.ObjectInfo{}, err
	}
	return d.Bucket.Copy(ctx, src, dst, o)
}

// TestCrashBetweenEveryPairOfWrites kills an update after each of its writes in turn, restarts, and
// checks the invariant of the package doc: the log names only versions that exist, every committed
// version is in the log, the head shows the latest committed version, and no intent is left over.
func TestCrashBetweenEveryPairOfWrites(t *testing.T) {
	ctx := context.Background()
	// An update makes 5 writes (intent, version, head, log, intent delete); crash after 0..5 of them.
	for allowed := 0; allowed <= 5; allowed++ {
		t.Run(strings.Repeat("w", allowed)+"|crash", func(t *testing.T) {
			base := newBucket(t)
			r := openRepo(t, base)
			rec, err := r.Create(ctx, mathPLC, fullPractice("Before the crash"))
			if err != nil {
				t.Fatal(err)
			}
			id := rec.RecordMeta().ID

			dying := &dyingBucket{Bucket: base, allow: allowed}
			victim, err := practices.Open(ctx, dying, node, practices.Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, uerr := victim.Update(ctx, mathPLC, practices.KindPractice, id, 1, fullPractice("During the crash"))
			acknowledged := uerr == nil

			// Restart on the surviving store.
			r2 := openRepo(t, base)
			got, err := r2.Get(ctx, mathPLC, practices.KindPractice, id)
			if err != nil {
				t.Fatal(err)
			}
			v2exists := true
			if _, err := base.Stat(ctx, "records/practice/"+id+"/v00000002.json"); errors.Is(err, storage.ErrNotFound) {
				v2exists = false
			}
			if acknowledged && !v2exists {
				t.Fatal("an acknowledged update is missing from the store")
			}
			wantVersion := 1
			if v2exists {
				wantVersion = 2
			}
			if got.RecordMeta().Version != wantVersion {
				t.Errorf("head shows v%d, latest committed is v%d", got.RecordMeta().Version, wantVersion)
			}
			log, err := r2.ReadLog(ctx, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			logged := map[int]bool{}
			for i, e := range log {
				if e.Seq != uint64(i+1) {
					t.Errorf("log gap at %d: seq %d", i, e.Seq)
				}
				if _, err := r2.GetVersion(ctx, admin, e.Kind, e.ID, e.Version); err != nil {
					t.Errorf("log names %s v%d, which is missing: %v", e.ID, e.Version, err)
				}
				logged[e.Version] = true
			}
			for v := 1; v <= wantVersion; v++ {
				if !logged[v] {
					t.Errorf("committed version %d is not in the log", v)
				}
			}
			intents, _ := base.List(ctx, storage.ListOptions{Prefix: "node/intents/"})
			if len(intents) != 0 {
				t.Errorf("intents left after restart: %v", intents)
			}
			// And the record is writable again at the version it shows.
			if _, err := r2.Update(ctx, mathPLC, practices.KindPractice, id, wantVersion, fullPractice("After")); err != nil {
				t.Errorf("update after restart: %v", err)
			}
		})
	}
}

// TestStaleHeadRepairedByNextWriter: a crash left a committed version behind an old head; the next
// writer that trips over it repairs the head (and logs the version) before reporting the conflict.
func TestStaleHeadRepairedByNextWriter(t *testing.T) {
	ctx := context.Background()
	base := newBucket(t)
	r := openRepo(t, base)
	rec, _ := r.Create(ctx, mathPLC, fullPractice("x"))
	id := rec.RecordMeta().ID
	dying := &dyingBucket{Bucket: base, allow: 2} // intent + version, then dead
	victim, _ := practices.Open(ctx, dying, node, practices.Options{})
	_, _ = victim.Update(ctx, mathPLC, practices.KindPractice, id, 1, fullPractice("y"))

	// The live replica has not reconciled yet: its view is stale, its write collides and repairs.
	if _, err := r.Update(ctx, mathPLC, practices.KindPractice, id, 1, fullPractice("z")); !errors.Is(err, practices.ErrStale) {
		t.Fatalf("got %v, want ErrStale", err)
	}
	got, _ := r.Get(ctx, mathPLC, practices.KindPractice, id)
	if got.RecordMeta().Version != 2 || got.(*practices.Practice).Title != "y" {
		t.Fatalf("head after repair: v%d %q", got.RecordMeta().Version, got.(*practices.Practice).Title)
	}
}

// TestCrashBetweenMirrorCopyAndLogEntry: a peer's document stored just before a crash, its log entry
// not yet written, is logged by the reconciler at restart, so the indexer still sees it. (Applying the
// same bytes again would be skipped as already held.)
func TestCrashBetweenMirrorCopyAndLogEntry(t *testing.T) {
	ctx := context.Background()
	base := newBucket(t)
	peerURL := "http://lakeview.test"
	id := "0190a0a0-0000-7000-8000-000000000001"
	payload := `{"origin":"` + peerURL + `","kind":"practice","id":"` + id + `","version":3,"deleted":false,"record":{"id":"` + id + `","kind":"practice","origin":"` + peerURL + `","status":"published","version":3,"title":"Mirrored"}}`
	jws := []byte("eyJhbGciOiJFZERTQSJ9." + base64URL(payload) + ".c2ln")
	h := practices.SignedHeader{Origin: peerURL, Kind: practices.KindPractice, ID: id, Version: 3}

	openRepo(t, base)                             // the store exists (identity written) before the victim starts
	dying := &dyingBucket{Bucket: base, allow: 2} // intent, mirror copy; then dead before the log entry
	victim, err := practices.Open(ctx, dying, node, practices.Options{})
	if err != nil {
		t.Fatal(err)
	}
	victim.SetMirrorID(peerURL, "lakeview")
	if _, err := victim.ApplyMirror(ctx, jws, h, nil); err == nil {
		t.Fatal("the crash did not happen")
	}
	if _, err := base.Stat(ctx, "mirror/lakeview/practice/"+id+".jws"); err != nil {
		t.Fatalf("the mirror copy was not stored before the crash (the test would prove nothing): %v", err)
	}
	r := openRepo(t, base) // restart: the reconciler runs in Open
	log, _ := r.ReadLog(ctx, 0, 100)
	found := false
	for _, e := range log {
		if e.ID == id && e.Origin == peerURL && e.Version == 3 {
			found = true
		}
	}
	if !found {
		t.Fatalf("mirror copy stored before the crash has no log entry after restart: %+v", log)
	}
	if left, _ := base.List(ctx, storage.ListOptions{Prefix: "node/intents/"}); len(left) != 0 {
		t.Fatalf("intents left: %v", left)
	}
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestCrashDuringPublishKeepsListsTrue: a publish moves a record between listing-index entries
// (put the new state's before the head swap, drop the old state's after the log append); killed
// after each of its writes in turn and restarted, the lists show the record exactly once, in the
// state its head shows.
func TestCrashDuringPublishKeepsListsTrue(t *testing.T) {
	ctx := context.Background()
	// intent, version, 3 entries, head, log, 3 old entries, intent delete
	for allowed := 0; allowed <= 11; allowed++ {
		t.Run(strings.Repeat("w", allowed)+"|crash", func(t *testing.T) {
			base := newBucket(t)
			r := openRepo(t, base)
			rec, err := r.Create(ctx, mathPLC, fullPractice("Before the crash"))
			if err != nil {
				t.Fatal(err)
			}
			id := rec.RecordMeta().ID
			victim, err := practices.Open(ctx, &dyingBucket{Bucket: base, allow: allowed}, node, practices.Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, perr := victim.Publish(ctx, mathPLC, practices.KindPractice, id, 1)

			r2 := openRepo(t, base)
			head, err := r2.Get(ctx, mathPLC, practices.KindPractice, id)
			if err != nil {
				t.Fatal(err)
			}
			status := head.RecordMeta().Status
			if perr == nil && status != practices.StatusPublished {
				t.Fatalf("an acknowledged publish shows %s", status)
			}
			for _, s := range []practices.Status{practices.StatusDraft, practices.StatusPublished} {
				for _, f := range []practices.ListFilter{{Status: s}, {Status: s, Team: "math-4"}} {
					recs, _, err := r2.List(ctx, mathPLC, practices.KindPractice, f, "", 50)
					if err != nil {
						t.Fatal(err)
					}
					want := 0
					if s == status {
						want = 1
					}
					if len(recs) != want {
						t.Errorf("head is %s; list %+v has %d records, want %d", status, f, len(recs), want)
					}
				}
			}
			if recs, _, _ := r2.List(ctx, mathPLC, practices.KindPractice, practices.ListFilter{}, "", 50); len(recs) != 1 {
				t.Errorf("head is %s; the unfiltered list has %d records, want 1", status, len(recs))
			}
		})
	}
}
