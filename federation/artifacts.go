package federation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// ErrArtifactMismatch: the bytes a peer sent are not the artifact the signed record declares (hash
// or size). Nothing was stored.
var ErrArtifactMismatch = errors.New("artifact does not match its declared SHA-256 and size")

// MaxArtifactSize bounds what FetchArtifact accepts whatever a record declares.
const MaxArtifactSize = 4 << 30

// OpenArtifact opens an artifact for p: a local one if a local record p may see references it,
// otherwise one referenced by a mirrored record p may see, served only from the copy fetched from
// that record's origin (fetched the first time, then kept as a cache). It returns
// practices.ErrNotFound when p may not see it. A mirrored record naming the hash of a file this node
// holds for another reason never makes those bytes visible: they are not the record's origin's.
func (f *Member) OpenArtifact(ctx context.Context, p practices.Principal, sum string, offset, length int64) (io.ReadCloser, practices.ArtifactRef, error) {
	rc, ref, err := f.repo.OpenArtifact(ctx, p, sum, offset, length)
	if !errors.Is(err, practices.ErrNotFound) {
		return rc, ref, err
	}
	origin, ref, err := f.repo.MirroredArtifactVisibleTo(ctx, p, sum)
	if err != nil {
		return nil, practices.ArtifactRef{}, err
	}
	if err := practices.CheckArtifactRef(ref); err != nil {
		// A name or type this node would not accept from its own users (an .html or .exe name, a
		// bidi control): not offered for download.
		f.log.Warn("mirrored artifact reference refused", "origin", origin, "sha256", sum, "err", err)
		return nil, practices.ArtifactRef{}, practices.ErrNotFound
	}
	key, err := f.repo.MirrorArtifactKey(origin, sum)
	if err != nil {
		return nil, practices.ArtifactRef{}, err
	}
	if _, err := f.repo.Bucket().Stat(ctx, key); errors.Is(err, storage.ErrNotFound) {
		if err := f.fetchShared(ctx, origin, ref); err != nil {
			return nil, practices.ArtifactRef{}, err
		}
	} else if err != nil {
		return nil, practices.ArtifactRef{}, fmt.Errorf("artifact %s: %w", sum, err)
	}
	rc, _, err = f.repo.Bucket().GetRange(ctx, key, offset, length)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, practices.ArtifactRef{}, practices.ErrNotFound
	}
	if err != nil {
		return nil, practices.ArtifactRef{}, fmt.Errorf("artifact %s: %w", sum, err)
	}
	return rc, ref, nil
}

// artifactFetchesPerPeer bounds the artifact downloads from one peer running at once; more wait.
const artifactFetchesPerPeer = 4

// fetchFlight is one download of an artifact from an origin that every concurrent opener waits for.
type fetchFlight struct {
	done    chan struct{}
	err     error
	waiters int
	cancel  context.CancelFunc
}

// fetchShared fetches the artifact from origin once however many callers open it at the same time:
// the first starts the download, the others wait for it. The download runs on its own context, so a
// caller that leaves does not fail the others; when the last waiter leaves, it is cancelled.
func (f *Member) fetchShared(ctx context.Context, origin string, ref practices.ArtifactRef) error {
	key := origin + "\x00" + ref.SHA256
	f.fetchMu.Lock()
	fl, ok := f.fetches[key]
	if !ok {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		fl = &fetchFlight{done: make(chan struct{}), cancel: cancel}
		f.fetches[key] = fl
		go func() {
			err := f.FetchArtifact(fctx, origin, ref)
			f.fetchMu.Lock()
			if f.fetches[key] == fl {
				delete(f.fetches, key)
			}
			f.fetchMu.Unlock()
			fl.err = err
			close(fl.done)
			cancel()
		}()
	}
	fl.waiters++
	f.fetchMu.Unlock()
	select {
	case <-fl.done:
		return fl.err
	case <-ctx.Done():
		f.fetchMu.Lock()
		fl.waiters--
		if fl.waiters == 0 {
			fl.cancel()
			if f.fetches[key] == fl {
				delete(f.fetches, key) // a later opener starts afresh rather than join a cancelled download
			}
		}
		f.fetchMu.Unlock()
		return ctx.Err()
	}
}

// fetchWaiters is how many callers wait for downloads in flight (tests).
func (f *Member) fetchWaiters() int {
	f.fetchMu.Lock()
	defer f.fetchMu.Unlock()
	n := 0
	for _, fl := range f.fetches {
		n += fl.waiters
	}
	return n
}

// FetchArtifact downloads the artifact ref (from a record mirrored from originURL) from its origin
// with a node token and caches it under practices.Repo.MirrorArtifactKey. The bytes stream to a
// temporary key while their SHA-256 and size are checked against ref; only verified bytes are copied
// to the cache key. A mismatch returns ErrArtifactMismatch and leaves nothing behind. At most
// artifactFetchesPerPeer downloads from one peer run at once; callers past that wait for a slot.
func (f *Member) FetchArtifact(ctx context.Context, originURL string, ref practices.ArtifactRef) error {
	p, ok := f.byURL[originURL]
	if !ok {
		return fmt.Errorf("fetch artifact: %q is not a configured peer", originURL)
	}
	if !practices.ValidSHA256(ref.SHA256) {
		return fmt.Errorf("fetch artifact: %q is not a SHA-256", ref.SHA256)
	}
	if ref.Size <= 0 || ref.Size > MaxArtifactSize {
		return fmt.Errorf("fetch artifact %s: declared size %d out of range", ref.SHA256, ref.Size)
	}
	bucket := f.repo.Bucket()
	key, err := f.repo.MirrorArtifactKey(originURL, ref.SHA256)
	if err != nil {
		return err
	}
	if _, err := bucket.Stat(ctx, key); err == nil {
		return nil // already here (content-addressed: the same bytes)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("fetch artifact %s: %w", ref.SHA256, err)
	}
	p.fetchQueued.Add(1)
	select {
	case p.fetchSlots <- struct{}{}:
		p.fetchQueued.Add(-1)
		defer func() { <-p.fetchSlots }()
	case <-ctx.Done():
		p.fetchQueued.Add(-1)
		return ctx.Err()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := p.request(ctx, p.artifactClient, http.MethodGet, "/federation/v1/artifacts/"+ref.SHA256, nil, nil)
	if err != nil {
		return fmt.Errorf("fetch artifact %s from %s: %w", ref.SHA256, p.cfg.ID, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("fetch artifact %s from %s: %w", ref.SHA256, p.cfg.ID, practices.ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("fetch artifact %s from %s: %w", ref.SHA256, p.cfg.ID, statusError(resp, "artifact"))
	case resp.ContentLength > ref.Size:
		return fmt.Errorf("fetch artifact %s from %s: %d bytes for a declared %d: %w", ref.SHA256, p.cfg.ID, resp.ContentLength, ref.Size, ErrArtifactMismatch)
	}
	src := &verifyingReader{r: &idleReader{r: resp.Body, timeout: f.cfg.RequestTimeout, cancel: cancel}, h: sha256.New(), max: ref.Size}
	tmp := "artifacts/tmp/fed-" + uuid.NewString()
	defer func() { _ = bucket.Delete(context.WithoutCancel(ctx), tmp) }()
	if _, err := bucket.Put(ctx, tmp, src, -1, storage.PutOptions{MaxSize: ref.Size, ContentType: "application/octet-stream"}); err != nil {
		if errors.Is(err, errTooLong) || errors.Is(err, storage.ErrTooLarge) {
			return fmt.Errorf("fetch artifact %s from %s: more than the declared %d bytes: %w", ref.SHA256, p.cfg.ID, ref.Size, ErrArtifactMismatch)
		}
		return fmt.Errorf("fetch artifact %s from %s: %w", ref.SHA256, p.cfg.ID, err)
	}
	if got := hex.EncodeToString(src.h.Sum(nil)); src.n != ref.Size || got != ref.SHA256 {
		f.log.Warn("artifact from peer does not match its record", "peer", p.cfg.ID, "sha256", ref.SHA256,
			"got_sha256", got, "size", ref.Size, "got_size", src.n)
		f.metrics.artifactMismatch.WithLabelValues(p.cfg.ID).Inc()
		return fmt.Errorf("fetch artifact %s from %s: %w", ref.SHA256, p.cfg.ID, ErrArtifactMismatch)
	}
	if _, err := bucket.Copy(ctx, tmp, key, storage.PutOptions{ContentType: ref.MediaType}); err != nil {
		return fmt.Errorf("fetch artifact %s: store: %w", ref.SHA256, err)
	}
	return nil
}

// purgeArtifact drops the mirrored record's reference to sum and deletes the copy cached from origin
// when no other record held from origin references it. Local artifacts are never touched: they live
// under other keys.
func (f *Member) purgeArtifact(ctx context.Context, origin string, kind practices.Kind, id, sum string) error {
	if err := f.repo.DropMirrorArtifact(ctx, origin, kind, id, sum); err != nil {
		return err
	}
	used, err := f.repo.MirrorArtifactReferenced(ctx, origin, sum)
	if err != nil || used {
		return err
	}
	key, err := f.repo.MirrorArtifactKey(origin, sum)
	if err != nil {
		return err
	}
	if err := f.repo.Bucket().Delete(ctx, key); err != nil {
		return fmt.Errorf("purge cached artifact %s: %w", sum, err)
	}
	return nil
}

var errTooLong = errors.New("artifact longer than declared")

// verifyingReader hashes and counts what passes, refusing more than max bytes.
type verifyingReader struct {
	r   io.Reader
	h   hash.Hash
	n   int64
	max int64
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.n += int64(n)
	v.h.Write(p[:n])
	if v.n > v.max {
		return n, errTooLong
	}
	return n, err
}

// idleReader cancels the download when no byte arrives for timeout (a peer that hangs mid-body).
type idleReader struct {
	r       io.Reader
	timeout time.Duration
	cancel  context.CancelFunc
	timer   *time.Timer
}

func (i *idleReader) Read(p []byte) (int, error) {
	if i.timer == nil {
		i.timer = time.AfterFunc(i.timeout, i.cancel)
	} else {
		i.timer.Reset(i.timeout)
	}
	n, err := i.r.Read(p)
	if err != nil {
		i.timer.Stop()
	}
	return n, err
}
