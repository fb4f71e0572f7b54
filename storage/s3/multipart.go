package s3

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/brightspots-nic/brightspots/storage"
)

var (
	_ storage.Multipart = (*Bucket)(nil)
)

// MultipartPartSize is Config.PartSize: every part but the last is at least this large.
func (b *Bucket) MultipartPartSize() int64 { return int64(b.partSize) }

// CreateMultipart starts an S3 multipart upload that will complete at key.
func (b *Bucket) CreateMultipart(ctx context.Context, key, contentType string) (string, error) {
	obj, err := b.object(key)
	if err != nil {
		return "", fmt.Errorf("create multipart %q: %w", key, err)
	}
	id, err := b.core.NewMultipartUpload(ctx, b.bucket, obj, b.putOptions(storage.PutOptions{ContentType: contentType}))
	if err != nil {
		return "", fmt.Errorf("create multipart %q: %w", key, classify(err, false))
	}
	return id, nil
}

// PutPart uploads part n. The payload is not signed with its SHA-256 (the caller hashes the bytes
// itself, and hashing them twice would halve the node's throughput on small machines); S3 still
// checks the part's length.
func (b *Bucket) PutPart(ctx context.Context, key, uploadID string, n int, offset int64, r io.Reader, size int64) (storage.Part, error) {
	obj, err := b.object(key)
	if err != nil {
		return storage.Part{}, fmt.Errorf("put part %d of %q: %w", n, key, err)
	}
	p, err := b.core.PutObjectPart(ctx, b.bucket, obj, uploadID, n, r, size, minio.PutObjectPartOptions{DisableContentSha256: true})
	if err != nil {
		return storage.Part{}, fmt.Errorf("put part %d of %q: %w", n, key, multipartError(err))
	}
	return storage.Part{Number: n, Offset: offset, Size: size, ETag: p.ETag}, nil
}

// CompleteMultipart publishes the parts as key.
func (b *Bucket) CompleteMultipart(ctx context.Context, key, uploadID string, parts []storage.Part) (storage.ObjectInfo, error) {
	obj, err := b.object(key)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("complete multipart %q: %w", key, err)
	}
	cp := make([]minio.CompletePart, len(parts))
	var size int64
	for i, p := range parts {
		cp[i] = minio.CompletePart{PartNumber: p.Number, ETag: p.ETag}
		size += p.Size
	}
	up, err := b.core.CompleteMultipartUpload(ctx, b.bucket, obj, uploadID, cp, minio.PutObjectOptions{})
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("complete multipart %q: %w", key, multipartError(err))
	}
	return storage.ObjectInfo{Key: key, Size: size, ETag: up.ETag, ModTime: time.Now()}, nil
}

// AbortMultipart discards the upload and its parts.
func (b *Bucket) AbortMultipart(ctx context.Context, key, uploadID string) error {
	obj, err := b.object(key)
	if err != nil {
		return fmt.Errorf("abort multipart %q: %w", key, err)
	}
	err = b.core.AbortMultipartUpload(ctx, b.bucket, obj, uploadID)
	if err != nil && minio.ToErrorResponse(err).Code != "NoSuchUpload" {
		return fmt.Errorf("abort multipart %q: %w", key, err)
	}
	return nil
}

// MultipartUploads lists the ids of multipart uploads in progress under prefix (for tests and for
// operators checking that nothing is left behind).
func (b *Bucket) MultipartUploads(ctx context.Context, prefix string) ([]string, error) {
	var ids []string
	for u := range b.core.Client.ListIncompleteUploads(ctx, b.bucket, b.prefix+prefix, true) {
		if u.Err != nil {
			return nil, u.Err
		}
		ids = append(ids, u.UploadID)
	}
	return ids, nil
}

func multipartError(err error) error {
	if minio.ToErrorResponse(err).Code == "NoSuchUpload" {
		return fmt.Errorf("%w: %w", storage.ErrNoSuchUpload, err)
	}
	return classify(err, false)
}
