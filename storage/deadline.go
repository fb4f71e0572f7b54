package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// ErrUnavailable: the store did not answer in time or could not be reached. Nothing is known about
// a write that fails with it (it may have landed); callers report the store as unavailable and a
// client retries later. Backends wrap it for refused connections and server errors; WithDeadlines
// for a store that stops answering.
var ErrUnavailable = errors.New("storage: store unavailable")

// Deadlines bound how long a Bucket call may wait on the store.
type Deadlines struct {
	// Stall is how long a call may wait on the store without progress: for a Stat, List or Delete
	// the whole call, for a Put or Get each wait between bytes (time the caller spends producing a
	// Put's body or consuming a Get's is not the store's and does not count). Default 10 s.
	Stall time.Duration
	// MinRate is the slowest a server-side Copy may move bytes (its deadline is Stall plus the
	// object's size over MinRate). Default 1 MiB/s.
	MinRate int64
}

// DefaultStall is Deadlines.Stall when it is zero.
const DefaultStall = 10 * time.Second

// WithDeadlines returns b with every call bounded by d: a store that is paused, partitioned or
// overloaded costs a caller at most about d.Stall per wait, then an error wrapping ErrUnavailable,
// never a hang.
func WithDeadlines(b Bucket, d Deadlines) Bucket {
	if d.Stall <= 0 {
		d.Stall = DefaultStall
	}
	if d.MinRate <= 0 {
		d.MinRate = 1 << 20
	}
	w := &bounded{b: b, d: d}
	// Keep the optional abilities of the store the wrapper hides (resumable uploads need Multipart,
	// landing an artifact without a second write needs Linker): a caller asks for them with a type
	// assertion, which must see through the wrapper.
	mp, isMultipart := b.(Multipart)
	l, isLinker := b.(Linker)
	switch {
	case isMultipart && isLinker:
		return &struct {
			*bounded
			boundedMultipart
			boundedLinker
		}{w, boundedMultipart{w, mp}, boundedLinker{w, l}}
	case isMultipart:
		return &struct {
			*bounded
			boundedMultipart
		}{w, boundedMultipart{w, mp}}
	case isLinker:
		return &struct {
			*bounded
			boundedLinker
		}{w, boundedLinker{w, l}}
	}
	return w
}

// Unwrap returns the store the deadlines wrap, for tools and tests that need the backend itself.
func (b *bounded) Unwrap() Bucket { return b.b }

// Unwrap returns the backend under any wrappers that offer an Unwrap method (WithDeadlines).
func Unwrap(b Bucket) Bucket {
	for {
		u, ok := b.(interface{ Unwrap() Bucket })
		if !ok {
			return b
		}
		b = u.Unwrap()
	}
}

// boundedMultipart bounds a store's multipart calls like its other calls.
type boundedMultipart struct {
	w  *bounded
	mp Multipart
}

func (m boundedMultipart) MultipartPartSize() int64 { return m.mp.MultipartPartSize() }

func (m boundedMultipart) CreateMultipart(ctx context.Context, key, contentType string) (string, error) {
	w := m.w.watch(ctx, "create multipart", key, m.w.d.Stall)
	id, err := m.mp.CreateMultipart(w.ctx, key, contentType)
	return id, w.done(err)
}

func (m boundedMultipart) PutPart(ctx context.Context, key, uploadID string, n int, offset int64, r io.Reader, size int64) (Part, error) {
	w := m.w.watch(ctx, "put part", key, m.w.d.Stall)
	p, err := m.mp.PutPart(w.ctx, key, uploadID, n, offset, &callerReader{r: r, w: w}, size)
	return p, w.done(err)
}

func (m boundedMultipart) CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part) (ObjectInfo, error) {
	// Completing assembles every part inside the store: allow for its size, as for a copy.
	var size int64
	for _, p := range parts {
		size += p.Size
	}
	w := m.w.watch(ctx, "complete multipart", key, m.w.d.Stall+time.Duration(size/m.w.d.MinRate)*time.Second)
	oi, err := m.mp.CompleteMultipart(w.ctx, key, uploadID, parts)
	return oi, w.done(err)
}

func (m boundedMultipart) AbortMultipart(ctx context.Context, key, uploadID string) error {
	w := m.w.watch(ctx, "abort multipart", key, m.w.d.Stall)
	return w.done(m.mp.AbortMultipart(w.ctx, key, uploadID))
}

// boundedLinker bounds a store's links like its other calls.
type boundedLinker struct {
	w *bounded
	l Linker
}

func (k boundedLinker) Link(ctx context.Context, src, dst string) (ObjectInfo, error) {
	w := k.w.watch(ctx, "link", dst, k.w.d.Stall)
	oi, err := k.l.Link(w.ctx, src, dst)
	return oi, w.done(err)
}

type bounded struct {
	b Bucket
	d Deadlines
}

// watchdog cancels a call's context once the store has kept it waiting for too long. It is armed
// while the call waits on the store and disarmed while the caller's side of a stream has the turn.
type watchdog struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	stall  time.Duration
	cause  error

	mu    sync.Mutex
	timer *time.Timer
}

func (b *bounded) watch(parent context.Context, op, key string, stall time.Duration) *watchdog {
	w := &watchdog{stall: stall, cause: fmt.Errorf("%w: %s %q: no answer from the store within %s", ErrUnavailable, op, key, stall)}
	w.ctx, w.cancel = context.WithCancelCause(parent)
	w.timer = time.AfterFunc(stall, func() { w.cancel(w.cause) })
	return w
}

func (w *watchdog) arm() {
	w.mu.Lock()
	w.timer.Reset(w.stall)
	w.mu.Unlock()
}

func (w *watchdog) disarm() {
	w.mu.Lock()
	w.timer.Stop()
	w.mu.Unlock()
}

// done stops the watchdog and returns err, or the watchdog's own error if it fired.
func (w *watchdog) done(err error) error {
	w.disarm()
	if err != nil && errors.Is(context.Cause(w.ctx), ErrUnavailable) {
		err = context.Cause(w.ctx)
	}
	w.cancel(nil)
	return err
}

// fired reports the watchdog's error if it has fired, else err.
func (w *watchdog) fired(err error) error {
	if err != nil && errors.Is(context.Cause(w.ctx), ErrUnavailable) {
		return context.Cause(w.ctx)
	}
	return err
}

func (b *bounded) Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error) {
	w := b.watch(ctx, "put", key, b.d.Stall)
	oi, err := b.b.Put(w.ctx, key, &callerReader{r: r, w: w}, size, opts)
	return oi, w.done(err)
}

// callerReader disarms the watchdog while the caller produces a Put's body.
type callerReader struct {
	r io.Reader
	w *watchdog
}

func (c *callerReader) Read(p []byte) (int, error) {
	c.w.disarm()
	defer c.w.arm()
	return c.r.Read(p)
}

func (b *bounded) Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error) {
	return b.GetRange(ctx, key, 0, -1)
}

func (b *bounded) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error) {
	w := b.watch(ctx, "get", key, b.d.Stall)
	rc, oi, err := b.b.GetRange(w.ctx, key, offset, length)
	if err != nil {
		return nil, oi, w.done(err)
	}
	w.disarm() // until the caller reads
	return &storeReader{rc: rc, w: w}, oi, nil
}

// storeReader arms the watchdog only while a Get's body is being read from the store.
type storeReader struct {
	rc io.ReadCloser
	w  *watchdog
}

func (s *storeReader) Read(p []byte) (int, error) {
	s.w.arm()
	n, err := s.rc.Read(p)
	s.w.disarm()
	if err != nil && err != io.EOF {
		err = s.w.fired(err)
	}
	return n, err
}

func (s *storeReader) Close() error {
	err := s.rc.Close()
	s.w.done(nil)
	return err
}

func (b *bounded) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	w := b.watch(ctx, "stat", key, b.d.Stall)
	oi, err := b.b.Stat(w.ctx, key)
	return oi, w.done(err)
}

func (b *bounded) List(ctx context.Context, opts ListOptions) ([]ObjectInfo, error) {
	w := b.watch(ctx, "list", opts.Prefix, b.d.Stall)
	out, err := b.b.List(w.ctx, opts)
	return out, w.done(err)
}

func (b *bounded) Delete(ctx context.Context, key string) error {
	w := b.watch(ctx, "delete", key, b.d.Stall)
	return w.done(b.b.Delete(w.ctx, key))
}

func (b *bounded) Copy(ctx context.Context, src, dst string, opts PutOptions) (ObjectInfo, error) {
	st, err := b.Stat(ctx, src)
	if err != nil {
		return ObjectInfo{}, err
	}
	w := b.watch(ctx, "copy", dst, b.d.Stall+time.Duration(st.Size/b.d.MinRate)*time.Second)
	oi, err := b.b.Copy(w.ctx, src, dst, opts)
	return oi, w.done(err)
}
