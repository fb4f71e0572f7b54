package storage

import (
	"context"
	"errors"
	"io"
)

// ErrNoSuchUpload: a multipart upload id is unknown: never started, completed or aborted.
var ErrNoSuchUpload = errors.New("storage: no such multipart upload")

// Part is one stored part of a multipart upload.
type Part struct {
	Number int    `json:"n"`    // 1 … 10000, in the order the parts make the object
	Offset int64  `json:"off"`  // where the part starts in the object
	Size   int64  `json:"size"` // bytes
	ETag   string `json:"etag"`
}

// Multipart is implemented by backends that can build one object from parts sent over many requests,
// and over restarts of the process, before anyone can see it: S3's multipart upload, or a file being
// written outside the key space on a local disk. Resumable uploads are built on it.
//
// The guarantees, checked by storagetest.RunMultipart:
//   - nothing is visible at the key until CompleteMultipart, which publishes atomically;
//   - a part put again under the same number replaces the earlier one, so an interrupted part is
//     simply sent again;
//   - AbortMultipart discards every part; completing or putting a part of an aborted or completed
//     upload fails with ErrNoSuchUpload;
//   - the bytes are written once: completing does not copy them.
type Multipart interface {
	// MultipartPartSize is the part size callers should use: every part but the last must be at
	// least this large (S3 refuses parts under 5 MiB), and a caller buffers one part at a time.
	MultipartPartSize() int64
	// CreateMultipart starts an upload that will complete at key.
	CreateMultipart(ctx context.Context, key, contentType string) (uploadID string, err error)
	// PutPart streams exactly size bytes of r as part n, which begins at offset in the object.
	PutPart(ctx context.Context, key, uploadID string, n int, offset int64, r io.Reader, size int64) (Part, error)
	// CompleteMultipart publishes the parts, in order, as the object at key.
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part) (ObjectInfo, error)
	// AbortMultipart discards the upload. Aborting an unknown upload is not an error.
	AbortMultipart(ctx context.Context, key, uploadID string) error
}

// Linker is implemented by backends that can give an object a second key without copying its bytes
// (a hard link on a local disk). S3 cannot; callers that must not write bytes twice record where
// they are instead.
type Linker interface {
	// Link makes dst show src's bytes. It is unconditional, like an unconditional Put.
	Link(ctx context.Context, src, dst string) (ObjectInfo, error)
}
