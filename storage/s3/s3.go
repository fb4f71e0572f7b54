// Package s3 is the storage.Bucket backend for S3-compatible object stores (MinIO, AWS S3 …), through
// minio-go.
//
// Conditional puts use the store's own conditional writes, so several server processes can share a
// bucket safely: create-only is If-None-Match: *, compare-and-swap is If-Match: "etag", and the store
// answers 412 Precondition Failed, which Bucket reports as storage.ErrConflict, or 409
// ConditionalRequestConflict while a racing write of the key is in flight, which it reports as
// storage.ErrConflict and storage.ErrInFlight together (the racing write may still fail).
//
// A conditional put is always one PUT request, never a multipart upload. MinIO checks a condition on
// CompleteMultipartUpload only against what exists before the upload commits, not atomically with the
// commit: racing create-only multipart uploads of one key can all succeed (TestConditionalLargeRace
// shows single PUTs do not). A conditional body of unknown size is therefore read ahead up to PartSize
// in memory and, if longer, spooled to a temporary file to learn its size. MinIO also ignores
// conditions on CopyObject, so a conditional Copy streams the source through a conditional PUT; an
// unconditional one stays inside the store.
//
// Unconditional puts stream: a body larger than a part is sent in parts of Config.PartSize bytes
// (16 MiB unless set), one part buffered at a time, never minio-go's 0.5 GiB default buffering. A put
// that fails (a size limit, a canceled context) aborts its multipart upload so nothing is left behind.
//
// Config.Prefix puts every key under a prefix so several nodes can share one bucket.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/brightspots-nic/brightspots/storage"
)

var _ storage.Bucket = (*Bucket)(nil)

const (
	// DefaultPartSize is the part size when Config.PartSize is 0: the memory one streaming put buffers.
	DefaultPartSize = 16 << 20
	// minPartSize is S3's smallest part (all but the last).
	minPartSize = 5 << 20
	// maxSingleCopy is the largest object CopyObject copies in one request; larger ones are copied
	// in parts.
	maxSingleCopy = 5 << 30
	// peekSize is how much of a body of unknown size is read ahead: a body that ends within it is
	// sent as one PUT instead of a multipart upload of one part.
	peekSize = 1 << 20
	// defaultContentType is what S3 stores when a put names none.
	defaultContentType = "application/octet-stream"
)

// Config says how to reach a bucket.
type Config struct {
	Endpoint  string // host[:port], without a scheme
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string // "" means us-east-1
	TLS       bool   // https
	// Prefix is put before every key, so nodes can share a bucket ("node-a/"). It is used verbatim:
	// end it with "/" to make it a folder.
	Prefix string
	// PartSize is the multipart part size in bytes (0 means DefaultPartSize; at least 5 MiB). A
	// streaming put buffers one part.
	PartSize uint64
	// Transport, when not nil, carries the requests (tests, proxies, custom TLS).
	Transport http.RoundTripper
}

// Bucket is a storage.Bucket in an S3 bucket. It is safe for concurrent use.
type Bucket struct {
	core     minio.Core // its Client does the streaming work; Core adds conditional copies
	bucket   string
	prefix   string
	partSize uint64
	maxCopy  int64 // largest object copied in one request
}

// Open connects to the bucket cfg names, creating it if it does not exist.
func Open(ctx context.Context, cfg Config) (*Bucket, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("open s3 bucket: endpoint and bucket are required")
	}
	if cfg.Prefix != "" {
		if err := storage.CheckKey(cfg.Prefix + "x"); err != nil {
			return nil, fmt.Errorf("open s3 bucket: prefix %q: %w", cfg.Prefix, err)
		}
	}
	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	if partSize < minPartSize {
		return nil, fmt.Errorf("open s3 bucket: part size %d is below S3's minimum of %d", partSize, minPartSize)
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    cfg.TLS,
		Region:    region,
		Transport: cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("open s3 bucket %s at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	b := &Bucket{
		core:     minio.Core{Client: client},
		bucket:   cfg.Bucket,
		prefix:   cfg.Prefix,
		partSize: partSize,
		maxCopy:  maxSingleCopy,
	}
	if err := b.ensureBucket(ctx, region); err != nil {
		return nil, fmt.Errorf("open s3 bucket %s at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	return b, nil
}

func (b *Bucket) ensureBucket(ctx context.Context, region string) error {
	ok, err := b.core.BucketExists(ctx, b.bucket)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	err = b.core.MakeBucket(ctx, b.bucket, minio.MakeBucketOptions{Region: region})
	if code := minio.ToErrorResponse(err).Code; code == minio.BucketAlreadyOwnedByYou || code == minio.BucketAlreadyExists {
		return nil // created meanwhile by another node
	}
	return err
}

// Client is the minio-go client underneath, for tools and benchmarks.
func (b *Bucket) Client() *minio.Client { return b.core.Client }

// Name is the bucket's name.
func (b *Bucket) Name() string { return b.bucket }

// object is the S3 object name of key.
func (b *Bucket) object(key string) (string, error) {
	if err := storage.CheckKey(key); err != nil {
		return "", err
	}
	return b.prefix + key, nil
}

// classify turns a minio-go error into one wrapping the storage sentinel callers branch on, keeping
// the original. With ifMatch, a missing key is a lost compare-and-swap, not a missing object.
func classify(err error, ifMatch bool) error {
	var be bodyError
	if errors.As(err, &be) {
		return err // the caller's body failed, not the store
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == minio.NoSuchKey && ifMatch:
		return fmt.Errorf("%w: %w", storage.ErrConflict, err)
	case resp.Code == minio.NoSuchKey:
		return fmt.Errorf("%w: %w", storage.ErrNotFound, err)
	case resp.Code == "ConditionalRequestConflict", resp.StatusCode == http.StatusConflict && ifConditional(err):
		// Another write of the key is in flight: unknown yet whether it lands.
		return fmt.Errorf("%w: %w: %w", storage.ErrConflict, storage.ErrInFlight, err)
	case resp.StatusCode == http.StatusPreconditionFailed, resp.Code == minio.PreconditionFailed:
		return fmt.Errorf("%w: %w", storage.ErrConflict, err)
	case resp.Code == "EntityTooLarge", errors.Is(err, storage.ErrTooLarge):
		return fmt.Errorf("%w: %w", storage.ErrTooLarge, err)
	case unreachable(err), resp.StatusCode >= 500:
		// Refused connections, resets, timeouts, 503 SlowDown, 500 InternalError: the store, not
		// the request, is at fault, and asking again later may work.
		return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
	}
	return err
}

// callerBody marks errors reading a put's body as the caller's (a client that went away is not a
// store outage).
type callerBody struct{ r io.Reader }

func (c callerBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = bodyError{err}
	}
	return n, err
}

type bodyError struct{ err error }

func (e bodyError) Error() string { return "read body: " + e.err.Error() }
func (e bodyError) Unwrap() error { return e.err }

// unreachable reports whether err is a failure to reach the store at all.
func unreachable(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	return errors.As(err, &opErr) || errors.As(err, &netErr) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)
}

// ifConditional reports whether a 409 is about a conditional write (rather than, say, a bucket
// that is not empty): S3 names it ConditionalRequestConflict, some stores only say 409 with a message.
func ifConditional(err error) bool {
	return strings.Contains(strings.ToLower(minio.ToErrorResponse(err).Message), "conditional")
}

func (b *Bucket) putOptions(opts storage.PutOptions) minio.PutObjectOptions {
	po := minio.PutObjectOptions{
		ContentType: opts.ContentType,
		PartSize:    b.partSize,
		// ConcurrentStreamParts stays off: it would buffer NumThreads parts at once.
	}
	switch {
	case opts.IfNoneMatch:
		po.SetMatchETagExcept("*")
	case opts.IfMatch != "":
		po.SetMatchETag(opts.IfMatch)
	}
	return po
}

// Put streams r into key.
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, size int64, opts storage.PutOptions) (storage.ObjectInfo, error) {
	obj, err := b.object(key)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	if opts.MaxSize > 0 && size > opts.MaxSize {
		return storage.ObjectInfo{}, fmt.Errorf("put %q: %d bytes, limit %d: %w", key, size, opts.MaxSize, storage.ErrTooLarge)
	}
	if err := ctx.Err(); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	body := io.Reader(callerBody{r})
	if opts.MaxSize > 0 {
		body = &limitReader{r: body, left: opts.MaxSize}
	}
	conditional := opts.IfNoneMatch || opts.IfMatch != ""
	po := b.putOptions(opts)
	po.DisableMultipart = conditional // see the package doc
	if size < 0 {
		// Read ahead: most bodies of unknown size (JSON documents) are small, and sending them as one
		// PUT saves the two extra requests of a multipart upload. A conditional put needs one PUT.
		peek := int64(peekSize)
		if conditional {
			peek = int64(b.partSize)
		}
		var head bytes.Buffer
		n, err := io.CopyN(&head, body, peek)
		switch {
		case errors.Is(err, io.EOF):
			body, size = bytes.NewReader(head.Bytes()), n
		case err != nil:
			return storage.ObjectInfo{}, fmt.Errorf("put %q: read body: %w", key, err)
		case conditional:
			f, n, err := spool(io.MultiReader(&head, body))
			if err != nil {
				return storage.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
			}
			defer f.Close()
			body, size = f, n
		default:
			body = io.MultiReader(&head, body)
		}
	}
	up, err := b.core.Client.PutObject(ctx, b.bucket, obj, body, size, po)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("put %q: %w", key, classify(err, opts.IfMatch != ""))
	}
	oi := storage.ObjectInfo{Key: key, Size: up.Size, ETag: up.ETag, ModTime: up.LastModified, ContentType: opts.ContentType}
	if oi.ModTime.IsZero() {
		oi.ModTime = time.Now() // S3 does not return it from a PUT; a Stat gives the store's own
	}
	if oi.ContentType == "" {
		oi.ContentType = defaultContentType
	}
	return oi, nil
}

// spool copies r into an unlinked temporary file and returns it rewound, with its length.
func spool(r io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "brightspots-s3-spool-*")
	if err != nil {
		return nil, 0, fmt.Errorf("spool body: %w", err)
	}
	os.Remove(f.Name()) // the open file lives until Close
	n, err := io.Copy(f, r)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("spool body: %w", err)
	}
	return f, n, nil
}

// limitReader fails with storage.ErrTooLarge once more than left bytes have been read, which makes
// minio-go abort the upload.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, storage.ErrTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1] // one byte over is enough to know
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return 0, fmt.Errorf("body over the size limit: %w", storage.ErrTooLarge)
	}
	return n, err
}

func info(key string, oi minio.ObjectInfo) storage.ObjectInfo {
	return storage.ObjectInfo{Key: key, Size: oi.Size, ETag: oi.ETag, ModTime: oi.LastModified, ContentType: oi.ContentType}
}

// Get opens key for reading.
func (b *Bucket) Get(ctx context.Context, key string) (io.ReadCloser, storage.ObjectInfo, error) {
	return b.GetRange(ctx, key, 0, -1)
}

// GetRange opens length bytes of key from offset (to the end when length < 0). ObjectInfo describes
// the whole object. An offset past the end is an error; an offset at the end gives an empty body.
func (b *Bucket) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, storage.ObjectInfo, error) {
	obj, err := b.object(key)
	if err != nil {
		return nil, storage.ObjectInfo{}, fmt.Errorf("get %q: %w", key, err)
	}
	if offset < 0 {
		return nil, storage.ObjectInfo{}, fmt.Errorf("get %q: negative offset %d", key, offset)
	}
	if length == 0 {
		return b.emptyAt(ctx, key, offset)
	}
	var o minio.GetObjectOptions
	switch {
	case length > 0:
		err = o.SetRange(offset, offset+length-1)
	case offset > 0:
		err = o.SetRange(offset, 0)
	}
	if err != nil {
		return nil, storage.ObjectInfo{}, fmt.Errorf("get %q: %w", key, err)
	}
	rc, oi, h, err := b.core.GetObject(ctx, b.bucket, obj, o)
	if minio.ToErrorResponse(err).Code == minio.InvalidRange {
		return b.emptyAt(ctx, key, offset) // at the end, or past it
	}
	if err != nil {
		return nil, storage.ObjectInfo{}, fmt.Errorf("get %q: %w", key, classify(err, false))
	}
	si := info(key, oi)
	if total, ok := rangeTotal(h.Get("Content-Range")); ok {
		si.Size = total
	}
	return rc, si, nil
}

// emptyAt returns an empty body for a range that starts at the end of key, or an error if offset is
// past the end.
func (b *Bucket) emptyAt(ctx context.Context, key string, offset int64) (io.ReadCloser, storage.ObjectInfo, error) {
	oi, err := b.Stat(ctx, key)
	if err != nil {
		return nil, storage.ObjectInfo{}, err
	}
	if offset > oi.Size {
		return nil, storage.ObjectInfo{}, fmt.Errorf("get %q: range starts at %d, past the end (%d bytes)", key, offset, oi.Size)
	}
	return io.NopCloser(strings.NewReader("")), oi, nil
}

// rangeTotal reads the complete length from a Content-Range header ("bytes 0-9/100").
func rangeTotal(cr string) (int64, bool) {
	_, total, ok := strings.Cut(cr, "/")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil
}

// Stat describes key.
func (b *Bucket) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	obj, err := b.object(key)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("stat %q: %w", key, err)
	}
	oi, err := b.core.Client.StatObject(ctx, b.bucket, obj, minio.StatObjectOptions{})
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("stat %q: %w", key, classify(err, false))
	}
	return info(key, oi), nil
}

// List returns the keys selected by opts in lexicographic order, asking the store for no more than
// Limit keys. Listed objects carry no content type (S3 listings do not include it).
func (b *Bucket) List(ctx context.Context, opts storage.ListOptions) ([]storage.ObjectInfo, error) {
	lo := minio.ListObjectsOptions{Prefix: b.prefix + opts.Prefix, Recursive: true}
	if opts.StartAfter != "" {
		lo.StartAfter = b.prefix + opts.StartAfter
	}
	if opts.Limit > 0 {
		lo.MaxKeys = min(opts.Limit, 1000)
	}
	var out []storage.ObjectInfo
	for oi := range b.core.Client.ListObjectsIter(ctx, b.bucket, lo) {
		if oi.Err != nil {
			return nil, fmt.Errorf("list prefix %q after %q: %w", opts.Prefix, opts.StartAfter, classify(oi.Err, false))
		}
		out = append(out, info(strings.TrimPrefix(oi.Key, b.prefix), oi))
		if opts.Limit > 0 && len(out) >= opts.Limit {
			break
		}
	}
	return out, nil
}

// Delete removes key. Deleting a missing key is not an error.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	obj, err := b.object(key)
	if err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	err = b.core.Client.RemoveObject(ctx, b.bucket, obj, minio.RemoveObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		return fmt.Errorf("delete %q: %w", key, classify(err, false))
	}
	return nil
}

// Copy copies src to dst. Without a condition the store copies (in one request up to 5 GiB, in parts
// beyond); with one, the source streams through a conditional PUT, because MinIO ignores conditions on
// CopyObject.
func (b *Bucket) Copy(ctx context.Context, src, dst string, opts storage.PutOptions) (storage.ObjectInfo, error) {
	fail := func(err error) (storage.ObjectInfo, error) {
		return storage.ObjectInfo{}, fmt.Errorf("copy %q to %q: %w", src, dst, err)
	}
	srcObj, err := b.object(src)
	if err != nil {
		return fail(err)
	}
	dstObj, err := b.object(dst)
	if err != nil {
		return fail(err)
	}
	if opts.IfNoneMatch || opts.IfMatch != "" {
		return b.copyThrough(ctx, src, dst, opts)
	}
	st, err := b.core.Client.StatObject(ctx, b.bucket, srcObj, minio.StatObjectOptions{})
	if err != nil {
		return fail(classify(err, false))
	}
	if opts.MaxSize > 0 && st.Size > opts.MaxSize {
		return fail(fmt.Errorf("%d bytes, limit %d: %w", st.Size, opts.MaxSize, storage.ErrTooLarge))
	}
	if st.Size > b.maxCopy {
		return b.copyParts(ctx, src, dst, st, opts)
	}
	headers := map[string]string{}
	if opts.ContentType != "" {
		headers["Content-Type"] = opts.ContentType
		headers["X-Amz-Metadata-Directive"] = "REPLACE"
	}
	srcOpts := minio.CopySrcOptions{Bucket: b.bucket, Object: srcObj}
	oi, err := b.core.CopyObject(ctx, b.bucket, srcObj, b.bucket, dstObj, headers, srcOpts, minio.PutObjectOptions{})
	if err != nil {
		return fail(classify(err, false))
	}
	out := storage.ObjectInfo{Key: dst, Size: st.Size, ETag: oi.ETag, ModTime: oi.LastModified, ContentType: opts.ContentType}
	if out.ContentType == "" {
		out.ContentType = st.ContentType
	}
	return out, nil
}

// copyThrough copies src to dst by reading it and putting it with opts' condition.
func (b *Bucket) copyThrough(ctx context.Context, src, dst string, opts storage.PutOptions) (storage.ObjectInfo, error) {
	rc, oi, _, err := b.core.GetObject(ctx, b.bucket, b.prefix+src, minio.GetObjectOptions{})
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("copy %q to %q: %w", src, dst, classify(err, false))
	}
	defer rc.Close()
	if opts.ContentType == "" {
		opts.ContentType = oi.ContentType
	}
	out, err := b.Put(ctx, dst, rc, oi.Size, opts)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("copy %q: %w", src, err)
	}
	return out, nil
}

// copyParts copies an object too large for one CopyObject as a multipart upload of UploadPartCopy
// requests. Every part is copied from the version stat'ed in st; a failure aborts the upload.
func (b *Bucket) copyParts(ctx context.Context, src, dst string, st minio.ObjectInfo, opts storage.PutOptions) (_ storage.ObjectInfo, err error) {
	srcObj, dstObj := b.prefix+src, b.prefix+dst
	ct := opts.ContentType
	if ct == "" {
		ct = st.ContentType
	}
	po := b.putOptions(storage.PutOptions{ContentType: ct})
	id, err := b.core.NewMultipartUpload(ctx, b.bucket, dstObj, po)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("copy %q to %q: %w", src, dst, err)
	}
	defer func() {
		if err != nil {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			b.core.AbortMultipartUpload(actx, b.bucket, dstObj, id)
		}
	}()
	var parts []minio.CompletePart
	for off, n := int64(0), 1; off < st.Size; off, n = off+b.maxCopy, n+1 {
		length := min(b.maxCopy, st.Size-off)
		p, err := b.core.CopyObjectPart(ctx, b.bucket, srcObj, b.bucket, dstObj, id, n, off, length,
			map[string]string{"x-amz-copy-source-if-match": `"` + st.ETag + `"`})
		if minio.ToErrorResponse(err).StatusCode == http.StatusPreconditionFailed {
			return storage.ObjectInfo{}, fmt.Errorf("copy %q to %q: source replaced during the copy: %v", src, dst, err)
		}
		if err != nil {
			return storage.ObjectInfo{}, fmt.Errorf("copy %q to %q: part %d: %w", src, dst, n, classify(err, false))
		}
		parts = append(parts, p)
	}
	up, err := b.core.CompleteMultipartUpload(ctx, b.bucket, dstObj, id, parts, po)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("copy %q to %q: %w", src, dst, err)
	}
	return storage.ObjectInfo{Key: dst, Size: st.Size, ETag: up.ETag, ModTime: time.Now(), ContentType: ct}, nil
}
