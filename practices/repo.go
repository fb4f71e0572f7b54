package practices

import (
	"context"
	"errors"
	"time"

	"github.com/brightspots-nic/brightspots/storage"
)

// Errors callers branch on.
var (
	ErrNotFound = errors.New("not found")
	// ErrStale: the caller's expected version (If-Match) is not the current one, or another writer won.
	ErrStale = errors.New("record changed since it was read")
)

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

// Repo keeps records in the object store: immutable versions, head pointers, the change log.
type Repo struct {
	bucket storage.Bucket
	nodeURL string
	nodeID  string
}

// ReadLog returns up to limit change-log entries with Seq > after, in order.
func (r *Repo) ReadLog(ctx context.Context, after uint64, limit int) ([]LogEntry, error) {
	panic("TODO")
}

// Load returns the current state of the record a log entry names: a local record's head version, or a
// mirrored record's latest received copy. gone is true when the record is deleted or its mirror copy was
// purged (a tombstone); rec is then nil.
func (r *Repo) Load(ctx context.Context, origin string, kind Kind, id string) (rec Record, gone bool, err error) {
	panic("TODO")
}
