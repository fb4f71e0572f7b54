package practices

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/brightspots-nic/brightspots/storage"
)

// Mirrored records are peers' signed documents, stored byte for byte at
// mirror/{origin-node-id}/{kind}/{id}.jws. A tombstone is stored the same way (it is signed too), so
// an older version replayed later cannot bring a purged record back. Federation verifies every
// document before calling these; this file only stores and logs.

// SignedHeader is the part of a signed document's payload this package reads.
type SignedHeader struct {
	Origin  string `json:"origin"`
	Kind    Kind   `json:"kind"`
	ID      string `json:"id"`
	Version int    `json:"version"`
	Deleted bool   `json:"deleted"`
}

// DecodeUnverifiedPayload decodes the JSON payload of a compact JWS into v without checking its
// signature: only for documents federation verified before they were stored, or for figures that
// trust nothing they read.
func DecodeUnverifiedPayload(jws []byte, v any) error {
	parts := strings.Split(string(jws), ".")
	if len(parts) != 3 {
		return errors.New("not a compact JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	return nil
}

func readSignedHeader(jws []byte) (SignedHeader, error) {
	var h SignedHeader
	if err := DecodeUnverifiedPayload(jws, &h); err != nil {
		return SignedHeader{}, err
	}
	return h, nil
}

// ApplyMirror stores a verified signed document (a record or a tombstone) from origin, unless this
// node already holds a later version. A tombstone applies whatever version is held. It appends a
// change-log entry when something changed, so the indexer follows. rec is the verified record (nil
// for a tombstone). It reports whether the document was applied.
func (r *Repo) ApplyMirror(ctx context.Context, jws []byte, h SignedHeader, rec Record) (bool, error) {
	key, err := r.mirrorKey(h.Origin, h.Kind, h.ID)
	if err != nil {
		return false, err
	}
	held, err := r.GetMirror(ctx, h.Origin, h.Kind, h.ID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return false, err
	default:
		cur, err := readSignedHeader(held)
		if err == nil {
			if bytes.Equal(held, jws) {
				return false, nil // the same document again: applying a page twice changes nothing
			}
			if !h.Deleted && cur.Version >= h.Version {
				return false, nil
			}
			if h.Deleted && cur.Deleted && cur.Version >= h.Version {
				return false, nil
			}
		}
	}
	if rec != nil {
		r.mu.RLock()
		originID := r.mirrors[h.Origin]
		r.mu.RUnlock()
		if err := r.NoteReferences(ctx, originID, rec); err != nil {
			return false, err
		}
	}
	op := "put"
	if h.Deleted {
		op = "delete"
	}
	entry := LogEntry{Kind: h.Kind, ID: h.ID, Origin: h.Origin, Version: h.Version, Op: op}
	// The same crash rule as local writes: an intent first, so a crash between the mirror write and
	// its log entry is finished by the reconciler. Without it the stored copy would be skipped as
	// "already held" on the next pull and never reach the search index.
	intent := mirrorIntentKey(key)
	if err := putJSON(ctx, r.bucket, intent, entry, storage.PutOptions{}); err != nil {
		return false, err
	}
	if _, err := r.bucket.Put(ctx, key, bytes.NewReader(jws), int64(len(jws)), storage.PutOptions{ContentType: "application/jose"}); err != nil {
		return false, fmt.Errorf("store mirror %s: %w", key, err)
	}
	if _, err := r.AppendLog(ctx, entry); err != nil {
		return false, err
	}
	if err := r.bucket.Delete(ctx, intent); err != nil {
		r.logger.Warn("delete mirror intent", "key", intent, "err", err)
	}
	return true, nil
}

// mirrorIntentKey is the write intent of a mirror copy: node/intents/mirror/{origin-id}/{kind}/{id}.json.
func mirrorIntentKey(mirrorKey string) string {
	return "node/intents/" + strings.TrimSuffix(mirrorKey, ".jws") + ".json"
}

// finishMirrorIntent logs the change a mirror intent names (a duplicate entry is harmless: readers
// take current state) and removes the intent.
func (r *Repo) finishMirrorIntent(ctx context.Context, key string) error {
	var e LogEntry
	if err := getJSON(ctx, r.bucket, key, &e); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		return err
	}
	if _, err := r.AppendLog(ctx, LogEntry{Kind: e.Kind, ID: e.ID, Origin: e.Origin, Version: e.Version, Op: e.Op}); err != nil {
		return err
	}
	return r.bucket.Delete(ctx, key)
}

// MirrorHeld returns the header of the document held for a mirrored record, or ErrNotFound.
func (r *Repo) MirrorHeld(ctx context.Context, origin string, kind Kind, id string) (SignedHeader, error) {
	held, err := r.GetMirror(ctx, origin, kind, id)
	if err != nil {
		return SignedHeader{}, err
	}
	return readSignedHeader(held)
}

// ListMirrors returns the keys of every document held from the peer with node id originID.
func (r *Repo) ListMirrors(ctx context.Context, originID, startAfter string, limit int) ([]string, error) {
	objs, err := r.bucket.List(ctx, storage.ListOptions{Prefix: "mirror/" + originID + "/", StartAfter: startAfter, Limit: limit})
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys, nil
}
