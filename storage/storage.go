// Package storage is the object-store abstraction every durable part of a node is written through.
//
// A Bucket is a flat namespace of keys holding immutable-or-swappable byte streams. Two backends satisfy
// it: storage/fs (a local directory) and storage/s3 (any S3-compatible store through minio-go). Both give
// the same guarantees, which the shared contract suite (storage/storagetest) checks:
//
//   - Put streams: no backend holds a whole object in memory.
//   - A Put is atomic: a reader sees the old object, the new one, or none, never a partial one.
//   - Put with IfNoneMatch is create-only: if the key exists it fails with ErrConflict. This is the
//     commit point for immutable record versions and change-log entries.
//   - Put with IfMatch is compare-and-swap on the object's ETag: if the current ETag differs (or the
//     key is missing) it fails with ErrConflict.
//   - List returns keys in lexicographic order, strictly after StartAfter.
//
// The package knows nothing of practices or any other record: it moves bytes.
package storage

import (
	"context"
	"errors"
	"io"
	"time"
)

// Sentinel errors callers branch on. Backends wrap them with context; test with errors.Is.
var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrConflict: a conditional put lost (the key exists for IfNoneMatch, or its ETag differs for IfMatch).
	ErrConflict = errors.New("storage: conflict")
	// ErrInFlight: a conditional put met another write of the same key still in flight (S3 answers
	// 409 ConditionalRequestConflict). Whether that write lands is unknown. Backends wrap it together
	// with ErrConflict, so a compare-and-swap simply loses; a create-only writer that must know
	// whether the key exists (the change log) checks for ErrInFlight first and asks again.
	ErrInFlight = errors.New("storage: conflicting write in flight")
	// ErrTooLarge: a put's body exceeded PutOptions.MaxSize while streaming; nothing was stored.
	ErrTooLarge = errors.New("storage: object too large")
)

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key         string
	Size        int64
	ETag        string // opaque; changes whenever the object is replaced
	ModTime     time.Time
	ContentType string
}

// PutOptions controls a Put. The zero value is an unconditional overwrite.
type PutOptions struct {
	// IfNoneMatch makes the put create-only: it fails with ErrConflict if the key exists.
	IfNoneMatch bool
	// IfMatch, when not empty, makes the put a compare-and-swap: it fails with ErrConflict unless the
	// key exists with exactly this ETag.
	IfMatch     string
	ContentType string
	// MaxSize, when > 0, aborts the put with ErrTooLarge once more than MaxSize bytes have been read
	// from the body; nothing is stored.
	MaxSize int64
}

// ListOptions selects a page of keys.
type ListOptions struct {
	Prefix     string
	StartAfter string // exclusive; keys are returned in lexicographic order
	Limit      int    // 0 means no limit
}

// Bucket is an object store. Implementations are safe for concurrent use.
type Bucket interface {
	// Put streams r into key. size is the body's length, or -1 when unknown.
	Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error)
	// Get opens key for reading. The caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error)
	// GetRange opens length bytes of key starting at offset (length < 0 means to the end).
	GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error)
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	List(ctx context.Context, opts ListOptions) ([]ObjectInfo, error)
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Copy copies src to dst server-side where the backend can (used to move streamed uploads under
	// their content hash). With IfNoneMatch in opts it fails with ErrConflict if dst exists.
	Copy(ctx context.Context, src, dst string, opts PutOptions) (ObjectInfo, error)
}
