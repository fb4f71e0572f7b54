package fs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/brightspots-nic/brightspots/storage"
)

var (
	_ storage.Multipart = (*Bucket)(nil)
	_ storage.Linker    = (*Bucket)(nil)
)

// multipartDir is the folder, inside the bucket's directory and outside the key space, that holds
// the files of multipart uploads in progress. Unlike .tmp it survives Open: an upload outlives the
// process that started it, and its owner aborts it when it expires.
const multipartDir = ".multipart"

// multipartPartSize is the part size callers buffer; a local file takes parts of any size, so this
// only bounds the caller's memory.
const multipartPartSize = 16 << 20

// MultipartPartSize is the part size callers should use.
func (b *Bucket) MultipartPartSize() int64 { return multipartPartSize }

func (b *Bucket) uploadPath(uploadID string) (string, error) {
	if _, err := hex.DecodeString(uploadID); err != nil || len(uploadID) != 32 {
		return "", fmt.Errorf("upload id %q: %w", uploadID, storage.ErrNoSuchUpload)
	}
	return filepath.Join(b.dir, multipartDir, uploadID), nil
}

// CreateMultipart starts an upload: one file, written in place part by part.
func (b *Bucket) CreateMultipart(ctx context.Context, key, contentType string) (string, error) {
	if _, err := b.path(key); err != nil {
		return "", fmt.Errorf("create multipart %q: %w", key, err)
	}
	var raw [16]byte
	rand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	dir := filepath.Join(b.dir, multipartDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create multipart %q: %w", key, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, id), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return "", fmt.Errorf("create multipart %q: %w", key, err)
	}
	defer f.Close()
	if contentType != "" {
		if err := setContentType(f.Name(), contentType); err != nil {
			return "", fmt.Errorf("create multipart %q: set content type: %w", key, err)
		}
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return id, syncDir(dir)
}

// PutPart writes exactly size bytes of r at offset in the upload's file and fsyncs them.
func (b *Bucket) PutPart(ctx context.Context, key, uploadID string, n int, offset int64, r io.Reader, size int64) (storage.Part, error) {
	fail := func(err error) (storage.Part, error) {
		return storage.Part{}, fmt.Errorf("put part %d of %q: %w", n, key, err)
	}
	path, err := b.uploadPath(uploadID)
	if err != nil {
		return fail(err)
	}
	if n < 1 || offset < 0 || size < 0 {
		return fail(fmt.Errorf("part %d at %d of %d bytes is out of range", n, offset, size))
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return fail(storage.ErrNoSuchUpload)
	}
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fail(err)
	}
	got, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, size))
	if err != nil {
		return fail(err)
	}
	if got != size {
		return fail(fmt.Errorf("body is %d bytes, declared %d", got, size))
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	return storage.Part{Number: n, Offset: offset, Size: size, ETag: strconv.FormatInt(offset, 16) + "-" + strconv.FormatInt(size, 16)}, nil
}

// CompleteMultipart checks that the parts are contiguous, cuts the file to their end (a part
// interrupted by a crash may have written past it) and publishes it at key with a rename.
func (b *Bucket) CompleteMultipart(ctx context.Context, key, uploadID string, parts []storage.Part) (storage.ObjectInfo, error) {
	fail := func(err error) (storage.ObjectInfo, error) {
		return storage.ObjectInfo{}, fmt.Errorf("complete multipart %q: %w", key, err)
	}
	dst, err := b.path(key)
	if err != nil {
		return fail(err)
	}
	path, err := b.uploadPath(uploadID)
	if err != nil {
		return fail(err)
	}
	var end int64
	for i, p := range parts {
		if p.Number != i+1 || p.Offset != end {
			return fail(fmt.Errorf("part %d (number %d at %d) does not follow the previous part ending at %d", i, p.Number, p.Offset, end))
		}
		end += p.Size
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return fail(storage.ErrNoSuchUpload)
	}
	if err != nil {
		return fail(err)
	}
	err = f.Truncate(end)
	if err == nil {
		mt := b.nextModTime()
		err = os.Chtimes(path, mt, mt)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	oi, err := b.publish(key, dst, path, storage.PutOptions{})
	if err != nil {
		return fail(err)
	}
	return oi, syncDir(filepath.Dir(path))
}

// AbortMultipart removes the upload's file.
func (b *Bucket) AbortMultipart(ctx context.Context, key, uploadID string) error {
	path, err := b.uploadPath(uploadID)
	if err != nil {
		return nil // never a valid upload, so nothing to discard
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("abort multipart %q: %w", key, err)
	}
	return nil
}

// MultipartUploads lists the ids of uploads in progress (for tests and operators).
func (b *Bucket) MultipartUploads() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(b.dir, multipartDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(ents))
	for _, e := range ents {
		ids = append(ids, e.Name())
	}
	return ids, nil
}

// Link makes dst a hard link of src: no bytes are copied.
func (b *Bucket) Link(ctx context.Context, src, dst string) (storage.ObjectInfo, error) {
	return b.Copy(ctx, src, dst, storage.PutOptions{})
}
