package fs

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/brightspots-nic/brightspots/storage"
)

var _ storage.Bucket = (*Bucket)(nil)

// tmpDir is the folder, inside the bucket's directory, that puts stream into before they are published.
const tmpDir = ".tmp"

// defaultContentType is what Stat reports for an object put without a content type, as S3 does.
const defaultContentType = "application/octet-stream"

// Bucket is a storage.Bucket in a local directory. It is safe for concurrent use by one process.
type Bucket struct {
	dir string // absolute
	tmp string // dir/.tmp

	seed  maphash.Seed
	locks [64]sync.Mutex // per-key publish locks, striped by key hash
	// tree orders folder creation against pruning in this process: a publish holds it shared from
	// making its folder until its file is in it, a prune holds it exclusively, so a prune never
	// removes a folder a put is filling. Another process pruning (a command run beside the node) is
	// met by mkdirAll starting over.
	tree sync.RWMutex

	lastMod atomic.Int64 // last mtime handed out, in Unix nanoseconds
}

// staleTempAge is how old a temporary file must be before Open removes it as a crash's leftover. A
// put in flight in another process (the node, when a command opens its store) keeps writing to its
// temporary file, so Open leaves young ones alone; no put streams for a day.
const staleTempAge = 24 * time.Hour

// Open opens (creating it if needed) the bucket stored in dir and removes temporary files a crash left
// (those older than a day: younger ones may belong to another process's put in flight).
func Open(dir string) (*Bucket, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open fs bucket %s: %w", dir, err)
	}
	b := &Bucket{dir: abs, tmp: filepath.Join(abs, tmpDir), seed: maphash.MakeSeed()}
	if err := os.MkdirAll(b.tmp, 0o755); err != nil {
		return nil, fmt.Errorf("open fs bucket: %w", err)
	}
	if err := b.removeStaleTemps(time.Now().Add(-staleTempAge)); err != nil {
		return nil, fmt.Errorf("open fs bucket: clear temporary files: %w", err)
	}
	if err := b.checkNanoMtime(); err != nil {
		return nil, fmt.Errorf("open fs bucket %s: %w", abs, err)
	}
	return b, nil
}

// removeStaleTemps removes temporary files whose inode last changed before cutoff.
func (b *Bucket) removeStaleTemps(cutoff time.Time) error {
	entries, err := os.ReadDir(b.tmp)
	if err != nil {
		return err
	}
	for _, e := range entries {
		st, err := e.Info()
		if err != nil {
			continue // removed meanwhile by its put
		}
		// Not the mtime: a finished temporary file carries its publish time and a copy's hard link
		// its source's, however new the file is.
		if changeTime(st).Before(cutoff) {
			if err := os.RemoveAll(filepath.Join(b.tmp, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// Dir is the directory the bucket is stored in.
func (b *Bucket) Dir() string { return b.dir }

// checkNanoMtime makes sure the filesystem keeps the nanosecond mtimes ETags are made of.
func (b *Bucket) checkNanoMtime() error {
	f, err := os.CreateTemp(b.tmp, "probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name)
	want := time.Unix(1700000000, 123456789)
	if err := os.Chtimes(name, want, want); err != nil {
		return err
	}
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	if !st.ModTime().Equal(want) {
		return fmt.Errorf("filesystem does not keep nanosecond modification times (set %v, got %v); ETags would not be unique", want, st.ModTime())
	}
	return nil
}

func (b *Bucket) lock(key string) func() {
	m := &b.locks[maphash.String(b.seed, key)%uint64(len(b.locks))]
	m.Lock()
	return m.Unlock
}

// nextModTime returns a time later than every one it returned before in this process.
func (b *Bucket) nextModTime() time.Time {
	now := time.Now().UnixNano()
	for {
		last := b.lastMod.Load()
		t := max(now, last+1)
		if b.lastMod.CompareAndSwap(last, t) {
			return time.Unix(0, t)
		}
	}
}

func etag(st fs.FileInfo) string {
	var ino uint64
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = uint64(sys.Ino)
	}
	return strconv.FormatUint(ino, 16) + "-" + strconv.FormatInt(st.Size(), 16) + "-" + strconv.FormatInt(st.ModTime().UnixNano(), 16)
}

func info(key, path string, st fs.FileInfo, withType bool) storage.ObjectInfo {
	oi := storage.ObjectInfo{Key: key, Size: st.Size(), ETag: etag(st), ModTime: st.ModTime()}
	if withType {
		oi.ContentType = getContentType(path)
		if oi.ContentType == "" {
			oi.ContentType = mime.TypeByExtension(filepath.Ext(path))
		}
		if oi.ContentType == "" {
			oi.ContentType = defaultContentType
		}
	}
	return oi
}

// Put streams r into key; see the package doc for how it is published.
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, size int64, opts storage.PutOptions) (storage.ObjectInfo, error) {
	path, err := b.path(key)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	if opts.MaxSize > 0 && size > opts.MaxSize {
		return storage.ObjectInfo{}, fmt.Errorf("put %q: %d bytes, limit %d: %w", key, size, opts.MaxSize, storage.ErrTooLarge)
	}
	// Fail early, before streaming a body that could not be stored; publish checks again atomically.
	if err := precheck(path, opts); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}

	tmp, err := b.writeTemp(ctx, r, size, opts)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	oi, err := b.publish(key, path, tmp, opts)
	if err != nil {
		os.Remove(tmp)
		return storage.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	return oi, nil
}

func precheck(path string, opts storage.PutOptions) error {
	switch {
	case opts.IfNoneMatch:
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("key exists: %w", storage.ErrConflict)
		}
	case opts.IfMatch != "":
		st, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("if-match %s: key missing: %w", opts.IfMatch, storage.ErrConflict)
		}
		if err == nil && etag(st) != opts.IfMatch {
			return fmt.Errorf("if-match %s: etag is %s: %w", opts.IfMatch, etag(st), storage.ErrConflict)
		}
	}
	return nil
}

// writeTemp streams r into a new fsynced file in the temporary folder and returns its path. On error
// nothing is left behind.
func (b *Bucket) writeTemp(ctx context.Context, r io.Reader, size int64, opts storage.PutOptions) (_ string, err error) {
	f, err := os.CreateTemp(b.tmp, "put-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(name)
		}
	}()

	src := io.Reader(ctxReader{ctx, r})
	limit := int64(-1)
	if opts.MaxSize > 0 {
		limit = opts.MaxSize
	}
	if size >= 0 && (limit < 0 || size < limit) {
		limit = size
	}
	if limit >= 0 {
		src = io.LimitReader(src, limit+1) // one byte more shows an overrun without reading the rest
	}
	n, err := io.Copy(f, src)
	if err != nil {
		return "", fmt.Errorf("write body: %w", err)
	}
	if opts.MaxSize > 0 && n > opts.MaxSize {
		return "", fmt.Errorf("body over %d bytes: %w", opts.MaxSize, storage.ErrTooLarge)
	}
	if size >= 0 && n != size {
		return "", fmt.Errorf("body is %s bytes, declared %d", lenString(n, size), size)
	}
	if opts.ContentType != "" {
		if err := setContentType(name, opts.ContentType); err != nil {
			return "", fmt.Errorf("set content type: %w", err)
		}
	}
	mt := b.nextModTime()
	if err := os.Chtimes(name, mt, mt); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("sync: %w", err)
	}
	err = f.Close()
	f = nil
	return name, err
}

func lenString(n, size int64) string {
	if n > size {
		return "more than " + strconv.FormatInt(size, 10)
	}
	return strconv.FormatInt(n, 10)
}

// publish moves the finished temporary file tmp to path under the key's lock, honouring opts' conditions.
// On success tmp is gone; on error the caller removes it.
func (b *Bucket) publish(key, path, tmp string, opts storage.PutOptions) (storage.ObjectInfo, error) {
	defer b.lock(key)()
	b.tree.RLock()
	defer b.tree.RUnlock()
	dir := filepath.Dir(path)
	for attempt := 0; ; attempt++ {
		if err := b.mkdirAll(dir); err != nil {
			return storage.ObjectInfo{}, err
		}
		var err error
		switch {
		case opts.IfNoneMatch:
			err = os.Link(tmp, path)
			if errors.Is(err, fs.ErrExist) {
				return storage.ObjectInfo{}, fmt.Errorf("key exists: %w", storage.ErrConflict)
			}
			if err == nil {
				err = os.Remove(tmp)
			}
		case opts.IfMatch != "":
			st, serr := os.Lstat(path)
			switch {
			case errors.Is(serr, fs.ErrNotExist):
				return storage.ObjectInfo{}, fmt.Errorf("if-match %s: key missing: %w", opts.IfMatch, storage.ErrConflict)
			case serr != nil:
				return storage.ObjectInfo{}, serr
			case etag(st) != opts.IfMatch:
				return storage.ObjectInfo{}, fmt.Errorf("if-match %s: etag is %s: %w", opts.IfMatch, etag(st), storage.ErrConflict)
			}
			err = os.Rename(tmp, path)
		default:
			err = os.Rename(tmp, path)
		}
		// A Delete of a sibling may have pruned the (then empty) parent between mkdirAll and here.
		if errors.Is(err, fs.ErrNotExist) && attempt < 10 {
			if _, serr := os.Lstat(tmp); serr == nil {
				continue
			}
		}
		if err != nil {
			return storage.ObjectInfo{}, err
		}
		break
	}
	if err := syncDir(dir); err != nil {
		return storage.ObjectInfo{}, err
	}
	st, err := os.Lstat(path)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	return info(key, path, st, true), nil
}

// mkdirAll makes dir and its missing parents inside the bucket, fsyncing each parent that gains one.
// A folder it made can be pruned by another process before the next one is made in it; then it
// starts over from the top (a bounded number of times: pruning only removes empty folders, so the
// race needs a delete of the last key in the folder each time).
func (b *Bucket) mkdirAll(dir string) error {
	var err error
	for range 100 {
		if err = b.mkdirAllOnce(dir); !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return err
}

func (b *Bucket) mkdirAllOnce(dir string) error {
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return nil
	}
	rel, err := filepath.Rel(b.dir, dir)
	if err != nil {
		return err
	}
	cur := b.dir
	for _, seg := range strings.Split(filepath.ToSlash(rel), "/") {
		parent := cur
		cur = filepath.Join(cur, seg)
		err := os.Mkdir(cur, 0o755)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := syncDir(parent); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// Get opens key for reading.
func (b *Bucket) Get(ctx context.Context, key string) (io.ReadCloser, storage.ObjectInfo, error) {
	return b.GetRange(ctx, key, 0, -1)
}

// GetRange opens length bytes of key from offset (to the end when length < 0). ObjectInfo describes
// the whole object. An offset past the end is an error; an offset at the end gives an empty body.
func (b *Bucket) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, storage.ObjectInfo, error) {
	path, err := b.path(key)
	if err != nil {
		return nil, storage.ObjectInfo{}, fmt.Errorf("get %q: %w", key, err)
	}
	if offset < 0 {
		return nil, storage.ObjectInfo{}, fmt.Errorf("get %q: negative offset %d", key, offset)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, storage.ObjectInfo{}, fmt.Errorf("get %q: %w", key, storage.ErrNotFound)
	}
	if err != nil {
		return nil, storage.ObjectInfo{}, fmt.Errorf("get %q: %w", key, err)
	}
	st, err := f.Stat() // of the file opened, whatever has been published since
	if err != nil {
		f.Close()
		return nil, storage.ObjectInfo{}, fmt.Errorf("get %q: %w", key, err)
	}
	if offset > st.Size() {
		f.Close()
		return nil, storage.ObjectInfo{}, fmt.Errorf("get %q: range starts at %d, past the end (%d bytes)", key, offset, st.Size())
	}
	if length < 0 || offset+length > st.Size() {
		length = st.Size() - offset
	}
	oi := info(key, path, st, true)
	if offset == 0 && length == st.Size() {
		return f, oi, nil
	}
	return sectionCloser{io.NewSectionReader(f, offset, length), f}, oi, nil
}

type sectionCloser struct {
	*io.SectionReader
	io.Closer
}

// Stat describes key.
func (b *Bucket) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	path, err := b.path(key)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("stat %q: %w", key, err)
	}
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return storage.ObjectInfo{}, fmt.Errorf("stat %q: %w", key, storage.ErrNotFound)
	}
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("stat %q: %w", key, err)
	}
	return info(key, path, st, true), nil
}

// Delete removes key and then any directories left empty above it. Deleting a missing key is not an
// error.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	path, err := b.path(key)
	if err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	unlock := b.lock(key)
	err = os.Remove(path)
	unlock()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	dir := filepath.Dir(path)
	// A concurrent delete may already have pruned the folder (it was empty once this file went);
	// then the removal is recorded by that folder's own removal, and there is nothing left to sync.
	if err := syncDir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	// Prune empty directories. os.Remove fails on a directory that is not empty, so this never removes
	// an object, and it stops at the bucket's own directory. Holding tree keeps this process's puts
	// out of the folders while they go; a put from another process makes them again (see mkdirAll).
	b.tree.Lock()
	defer b.tree.Unlock()
	for d := dir; d != b.dir && len(d) > len(b.dir); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break
		}
	}
	return nil
}

// Copy copies src to dst. The new object shares src's file (a hard link) unless opts asks for a
// different content type, so it costs no space and keeps src's ETag.
func (b *Bucket) Copy(ctx context.Context, src, dst string, opts storage.PutOptions) (storage.ObjectInfo, error) {
	srcPath, err := b.path(src)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("copy %q to %q: %w", src, dst, err)
	}
	dstPath, err := b.path(dst)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("copy %q to %q: %w", src, dst, err)
	}
	fail := func(err error) (storage.ObjectInfo, error) {
		return storage.ObjectInfo{}, fmt.Errorf("copy %q to %q: %w", src, dst, err)
	}
	if err := precheck(dstPath, opts); err != nil {
		return fail(err)
	}
	st, err := os.Lstat(srcPath)
	if errors.Is(err, fs.ErrNotExist) {
		return fail(storage.ErrNotFound)
	}
	if err != nil {
		return fail(err)
	}
	if opts.MaxSize > 0 && st.Size() > opts.MaxSize {
		return fail(fmt.Errorf("%d bytes, limit %d: %w", st.Size(), opts.MaxSize, storage.ErrTooLarge))
	}

	var tmp string
	if opts.ContentType == "" || opts.ContentType == getContentType(srcPath) {
		// The process id keeps two processes sharing the folder (a command beside the node) apart.
		tmp = filepath.Join(b.tmp, "copy-"+strconv.Itoa(os.Getpid())+"-"+strconv.FormatInt(b.nextModTime().UnixNano(), 36))
		err = os.Link(srcPath, tmp)
		if errors.Is(err, fs.ErrNotExist) {
			return fail(storage.ErrNotFound)
		}
	} else {
		var f *os.File
		f, err = os.Open(srcPath)
		if errors.Is(err, fs.ErrNotExist) {
			return fail(storage.ErrNotFound)
		}
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		fst, serr := f.Stat()
		if serr != nil {
			return fail(serr)
		}
		tmp, err = b.writeTemp(ctx, f, fst.Size(), storage.PutOptions{ContentType: opts.ContentType})
	}
	if err != nil {
		return fail(err)
	}
	oi, err := b.publish(dst, dstPath, tmp, opts)
	// Renaming a link onto another link of the same file (copying a key onto itself, or onto an
	// earlier copy) succeeds without removing tmp, so remove it whatever happened.
	os.Remove(tmp)
	if err != nil {
		return fail(err)
	}
	return oi, nil
}

// ctxReader stops a stream once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
