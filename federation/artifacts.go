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
// otherwise one referenced by a mirrored record p may see, fetched from its origin the first time
// (then served from the local cache). It returns practices.ErrNotFound when p may not see it.
func (f *Member) OpenArtifact(ctx context.Context, p practices.Principal, sum string, offset, length int64) (io.ReadCloser, practices.ArtifactRef, error) {
	rc, ref, err := f.repo.OpenArtifact(ctx, p, sum, offset, length)
	if !errors.Is(err, practices.ErrNotFound) {
		return rc, ref, err
	}
	origin, ref, err := f.repo.MirroredArtifactVisibleTo(ctx, p, sum)
	if err != nil {
		return nil, practices.ArtifactRef{}, err
	}
	if _, err := f.repo.ArtifactStored(ctx, sum); errors.Is(err, practices.ErrNotFound) {
		if err := f.FetchArtifact(ctx, origin, ref); err != nil {
			return nil, practices.ArtifactRef{}, err
		}
	} else if err != nil {
		return nil, practices.ArtifactRef{}, fmt.Errorf("artifact %s: %w", sum, err)
	}
	rc, _, err = f.repo.ArtifactBytes(ctx, sum, offset, length)
	if errors.Is(err, practices.ErrNotFound) {
		return nil, practices.ArtifactRef{}, practices.ErrNotFound
	}
	if err != nil {
		return nil, practices.ArtifactRef{}, fmt.Errorf("artifact %s: %w", sum, err)
	}
	return rc, ref, nil
}

// FetchArtifact downloads the artifact ref (from a record mirrored from originURL) from its origin
// with a node token and stores it under artifacts/sha256/{hex}. The bytes stream to a temporary key
// while their SHA-256 and size are checked against ref; only verified bytes are copied to the
// artifact's key. A mismatch returns ErrArtifactMismatch and leaves nothing behind.
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
	key := practices.ArtifactKey(ref.SHA256)
	if _, err := f.repo.ArtifactStored(ctx, ref.SHA256); err == nil {
		return nil // already here (content-addressed: the same bytes)
	} else if !errors.Is(err, practices.ErrNotFound) {
		return fmt.Errorf("fetch artifact %s: %w", ref.SHA256, err)
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

// purgeArtifact drops the mirrored record's reference to sum and deletes the cached bytes when
// nothing here references them any more (never a local record's artifact).
func (f *Member) purgeArtifact(ctx context.Context, origin string, kind practices.Kind, id, sum string) error {
	if err := f.repo.DropMirrorArtifact(ctx, origin, kind, id, sum); err != nil {
		return err
	}
	used, err := f.repo.ArtifactReferenced(ctx, sum)
	if err != nil || used {
		return err
	}
	if err := f.repo.DeleteArtifactBytes(ctx, sum); err != nil {
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
