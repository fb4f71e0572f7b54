package uploads

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	tusd "github.com/tus/tusd/v2/pkg/handler"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/web/auth"
)

// store is the tusd data store over the node's object store.
type store struct {
	bucket   storage.Bucket
	mp       storage.Multipart
	repo     *practices.Repo
	partSize int64
	expiry   time.Duration
	now      func() time.Time
	log      *slog.Logger
	authz    func(ctx context.Context, p practices.Principal, practiceID string) error
	held     *heldBytes
	bufs     sync.Pool     // *[]byte of partSize
	writers  chan struct{} // one slot per chunk being written: each holds two parts in memory
}

var (
	_ tusd.DataStore           = (*store)(nil)
	_ tusd.TerminaterDataStore = (*store)(nil)
)

// upload is one upload as a request sees it.
type upload struct {
	s  *store
	st *state
}

// NewUpload is called by POST after the create hook has checked the caller, practice, name and size.
func (s *store) NewUpload(ctx context.Context, info tusd.FileInfo) (tusd.Upload, error) {
	p := auth.PrincipalFrom(ctx)
	id := strings.ReplaceAll(uuid.NewString(), "-", "")
	now := s.now()
	st := &state{
		ID: id, Owner: p, Practice: info.MetaData["practice"], Name: info.MetaData["filename"],
		Size: info.Size, Declared: info.MetaData["sha256"],
		Created: now.UTC(), Expires: now.Add(s.expiry).UTC(),
		Blob: practices.ArtifactBlobKey(id),
	}
	if err := st.save(ctx, s.bucket); err != nil {
		return nil, err
	}
	return &upload{s: s, st: st}, nil
}

// GetUpload loads an upload for its owner. Anyone else is told it does not exist; an expired upload
// is gone; a finishing one is finished first, so the caller never sees "complete" too early.
func (s *store) GetUpload(ctx context.Context, id string) (tusd.Upload, error) {
	if !validID(id) {
		return nil, tusd.ErrNotFound
	}
	st, err := loadState(ctx, s.bucket, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, tusd.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	p := auth.PrincipalFrom(ctx)
	if !p.Authenticated() || p.Kind != st.Owner.Kind || p.Subject != st.Owner.Subject {
		return nil, tusd.ErrNotFound
	}
	if !st.Done && s.now().After(st.Expires) {
		return nil, errExpired
	}
	if !st.Done {
		// Still a publisher of the practice's team? Roles can be taken away during a long upload.
		if err := s.authz(ctx, p, st.Practice); err != nil {
			return nil, err
		}
	}
	if st.Finishing && !st.Done {
		if err := s.finish(ctx, st); err != nil {
			return nil, err
		}
	}
	if st.Done {
		noteDone(ctx, st)
	}
	return &upload{s: s, st: st}, nil
}

func validID(id string) bool {
	_, err := hex.DecodeString(id)
	return len(id) == 32 && err == nil && strings.ToLower(id) == id
}

func (u *upload) GetInfo(ctx context.Context) (tusd.FileInfo, error) {
	st := u.st
	info := tusd.FileInfo{
		ID: st.ID, Size: st.Size, Offset: st.Offset,
		MetaData: tusd.MetaData{"filename": st.Name, "practice": st.Practice},
	}
	if !st.Done && info.Offset == st.Size {
		info.Offset-- // held, but not finished: not complete until the practice lists the file
	}
	return info, nil
}

func (u *upload) GetReader(ctx context.Context) (io.ReadCloser, error) {
	return nil, tusd.ErrNotImplemented
}

// FinishUpload has nothing left to do: WriteChunk finishes the upload before it reports the last
// byte written, so that the client is never told "complete" before the file is attached.
func (u *upload) FinishUpload(ctx context.Context) error { return nil }

func (s *store) AsTerminatableUpload(up tusd.Upload) tusd.TerminatableUpload { return up.(*upload) }

// Terminate discards an unfinished upload (DELETE, or a refused first chunk). A finished one only
// loses its state: the artifact belongs to the practice now.
func (u *upload) Terminate(ctx context.Context) error {
	return u.s.discard(ctx, u.st)
}

// discard removes everything an unfinished upload holds, the state last, so a crash midway leaves
// the state for the sweeper to try again.
func (s *store) discard(ctx context.Context, st *state) error {
	ctx = context.WithoutCancel(ctx)
	if !st.Done {
		if st.Multipart != "" {
			// Frees the parts; a no-op if a finishing upload was completed already.
			if err := s.mp.AbortMultipart(ctx, st.Blob, st.Multipart); err != nil {
				return err
			}
		}
		// A finishing upload that never got attached (it expired first) may have landed its bytes
		// as an artifact; those stay, the same bytes may be attached elsewhere. Anything else goes.
		landed := false
		if st.Finishing {
			_, err := s.repo.ArtifactStored(ctx, st.Sum)
			landed = err == nil
		}
		if !landed {
			if err := s.bucket.Delete(ctx, st.Blob); err != nil {
				return err
			}
		}
		s.held.add(-st.Offset)
	}
	if err := s.deletePrefix(ctx, "uploads/"+st.ID+"/", stateKey(st.ID)); err != nil {
		return err
	}
	return s.bucket.Delete(ctx, stateKey(st.ID))
}

// deletePrefix deletes every key under prefix except keep.
func (s *store) deletePrefix(ctx context.Context, prefix, keep string) error {
	objs, err := s.bucket.List(ctx, storage.ListOptions{Prefix: prefix})
	if err != nil {
		return err
	}
	for _, o := range objs {
		if o.Key == keep {
			continue
		}
		if err := s.bucket.Delete(ctx, o.Key); err != nil {
			return err
		}
	}
	return nil
}

// chunk is one part on its way to the store.
type chunk struct {
	buf    *[]byte
	n      int
	offset int64  // where it starts in the file
	hash   []byte // hash state after its last byte
	last   bool
	sum    string // hex SHA-256 of the whole file, with last
}

// WriteChunk appends the request body. See the package doc for the order of writes.
func (u *upload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	s, st := u.s, u.st
	if st.Done || st.Finishing {
		return 0, tusd.ErrMismatchOffset
	}
	if offset != st.Offset {
		return 0, tusd.ErrMismatchOffset
	}
	// Bound the memory all uploads together hold: two parts per chunk being written.
	select {
	case s.writers <- struct{}{}:
		defer func() { <-s.writers }()
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	// The request's context ends when the client goes; what it sent must still be saved.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	h, err := st.hasher()
	if err != nil {
		return 0, err
	}
	start := st.Offset

	// Two buffers: one filling from the client while the other goes to the store.
	free := make(chan *[]byte, 2)
	free <- s.buffer()
	free <- s.buffer()
	defer func() {
		for range 2 {
			s.bufs.Put(<-free)
		}
	}()
	buf := <-free
	defer func() {
		if buf != nil {
			free <- buf
		}
	}()
	n := 0
	if tail := st.TailSize(); tail > 0 {
		if err := s.readTail(ctx, st, (*buf)[:tail]); err != nil {
			return 0, err
		}
		n = int(tail)
	}

	jobs := make(chan chunk)
	failed := make(chan struct{}) // closed when the store fails: stop reading
	upErr := make(chan error, 1)
	go func() {
		var err error
		for c := range jobs {
			if err == nil {
				if err = u.storePart(ctx, c); err != nil {
					close(failed)
				}
			}
			free <- c.buf
		}
		upErr <- err
	}()

	partsEnd := st.PartsEnd()
	var readErr error
	complete := false
	for {
		want := min(int64(len(*buf)-n), st.Size-partsEnd-int64(n))
		k, err := io.ReadFull(src, (*buf)[n:n+int(want)])
		h.Write((*buf)[n : n+k])
		n += k
		complete = partsEnd+int64(n) == st.Size
		if st.Media == "" && partsEnd == 0 && (n >= 512 || complete) {
			if readErr = u.sniff((*buf)[:min(n, 512)]); readErr != nil {
				break
			}
		}
		if n < len(*buf) && !complete {
			if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				readErr = err
			}
			break // the body ended before a whole part
		}
		c := chunk{buf: buf, n: n, offset: partsEnd, hash: hashState(h), last: complete}
		if complete {
			sum := h.Sum(nil)
			if readErr = u.checkDigest(sum); readErr != nil {
				break
			}
			c.sum = hex.EncodeToString(sum)
		}
		sent := false
		select {
		case jobs <- c:
			sent = true
		case <-failed:
		}
		if !sent {
			break
		}
		buf = nil
		partsEnd += int64(c.n)
		n = 0
		if complete {
			break
		}
		buf = <-free
	}
	close(jobs)
	if storeErr := <-upErr; storeErr != nil {
		return st.Offset - start, storeErr
	}
	var refused tusd.Error
	if errors.As(readErr, &refused) && refused.ErrorCode == codeRefused {
		// A file of a refused type or with a wrong digest: nothing of it is kept.
		if err := s.discard(ctx, st); err != nil {
			s.log.Warn("discard refused upload", "upload", st.ID, "err", err)
		}
		return 0, readErr
	}
	if !complete && buf != nil && n > int(st.TailSize()) {
		// Keep what arrived after the last whole part as the new tail.
		if err := u.storeTail(ctx, (*buf)[:n], partsEnd, hashState(h)); err != nil {
			return st.Offset - start, err
		}
	}
	if complete && st.Finishing {
		if err := s.finish(ctx, st); err != nil {
			// Every byte is held but the file is not attached yet: not complete to the client.
			return st.Offset - start - 1, err
		}
	}
	return st.Offset - start, readErr
}

func (s *store) buffer() *[]byte {
	if b, ok := s.bufs.Get().(*[]byte); ok && int64(len(*b)) == s.partSize {
		return b
	}
	b := make([]byte, s.partSize)
	return &b
}

func (s *store) readTail(ctx context.Context, st *state, dst []byte) error {
	rc, _, err := s.bucket.Get(ctx, st.Tail)
	if err != nil {
		return fmt.Errorf("upload %s: read tail: %w", st.ID, err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, dst); err != nil {
		return fmt.Errorf("upload %s: read tail: %w", st.ID, err)
	}
	return nil
}

// sniff decides the media type from the first bytes and refuses what an artifact may not be.
func (u *upload) sniff(head []byte) error {
	media, err := practices.CheckArtifactHead(u.st.Name, head)
	if err != nil {
		var ae *practices.ArtifactError
		if errors.As(err, &ae) {
			status := http.StatusUnprocessableEntity
			if ae.Rule == "media_type" {
				status = http.StatusUnsupportedMediaType
			}
			return refuse(status, ae.Field, ae.Rule, ae.Msg)
		}
		return err
	}
	u.st.Media = media
	return nil
}

func (u *upload) checkDigest(sum []byte) error {
	if u.st.Declared != "" && hex.EncodeToString(sum) != u.st.Declared {
		return refuse(statusChecksumMismatch, "sha256", "mismatch", "the file's bytes do not match the declared sha256; nothing was stored")
	}
	return nil
}

// storePart sends one part to the store and then records it in the state.
func (u *upload) storePart(ctx context.Context, c chunk) error {
	s, st := u.s, u.st
	if st.Multipart == "" {
		id, err := s.mp.CreateMultipart(ctx, st.Blob, st.Media)
		if err != nil {
			return err
		}
		st.Multipart = id
		if err := st.save(ctx, s.bucket); err != nil {
			_ = s.mp.AbortMultipart(ctx, st.Blob, id)
			return err
		}
	}
	part, err := s.mp.PutPart(ctx, st.Blob, st.Multipart, len(st.Parts)+1, c.offset, bytes.NewReader((*c.buf)[:c.n]), int64(c.n))
	if errors.Is(err, storage.ErrNoSuchUpload) {
		return errLost
	}
	if err != nil {
		return err
	}
	before, oldTail := st.Offset, st.Tail
	st.Parts = append(st.Parts, part)
	st.Offset, st.Tail, st.Hash = c.offset+int64(c.n), "", c.hash
	if c.last {
		st.Finishing = true
		st.Sum = c.sum
	}
	if err := st.save(ctx, s.bucket); err != nil {
		return err
	}
	s.held.add(st.Offset - before)
	if oldTail != "" {
		_ = s.bucket.Delete(ctx, oldTail)
	}
	return nil
}

// storeTail keeps the bytes after the last part (the old tail and what followed it) as a new tail.
func (u *upload) storeTail(ctx context.Context, b []byte, partsEnd int64, hash []byte) error {
	s, st := u.s, u.st
	end := partsEnd + int64(len(b))
	key := tailKey(st.ID, end)
	if _, err := s.bucket.Put(ctx, key, bytes.NewReader(b), int64(len(b)), storage.PutOptions{ContentType: "application/octet-stream"}); err != nil {
		return err
	}
	before, oldTail := st.Offset, st.Tail
	st.Offset, st.Tail, st.Hash = end, key, hash
	if err := st.save(ctx, s.bucket); err != nil {
		_ = s.bucket.Delete(ctx, key)
		return err
	}
	s.held.add(st.Offset - before)
	if oldTail != "" && oldTail != key {
		_ = s.bucket.Delete(ctx, oldTail)
	}
	return nil
}

// finish completes a finishing upload: complete the multipart upload, land the artifact under its
// hash, attach it to the practice, mark the state done. Every step may be repeated.
func (s *store) finish(ctx context.Context, st *state) error {
	ctx = context.WithoutCancel(ctx)
	if _, err := s.mp.CompleteMultipart(ctx, st.Blob, st.Multipart, st.Parts); err != nil {
		if !errors.Is(err, storage.ErrNoSuchUpload) {
			return err
		}
		// Completed before a crash: the blob, or the artifact it became, must be there.
		if _, serr := s.bucket.Stat(ctx, st.Blob); serr != nil {
			if _, aerr := s.repo.ArtifactStored(ctx, st.Sum); aerr != nil {
				return errLost
			}
		}
	}
	if st.Media == "text/plain" {
		if err := s.scanText(ctx, st); err != nil {
			return err
		}
	}
	if err := s.repo.LandArtifact(ctx, st.Blob, st.Sum, st.Size); err != nil {
		return err
	}
	ref := practices.ArtifactRef{SHA256: st.Sum, Name: st.Name, MediaType: st.Media, Size: st.Size}
	if _, err := s.repo.AttachArtifact(ctx, st.Owner, st.Practice, ref); err != nil {
		return err
	}
	st.Done, st.Ref = true, &ref
	if err := st.save(ctx, s.bucket); err != nil {
		return err
	}
	s.held.add(-st.Offset)
	if err := s.deletePrefix(ctx, "uploads/"+st.ID+"/", stateKey(st.ID)); err != nil {
		s.log.Warn("upload finished; removing its tail failed", "upload", st.ID, "err", err)
	}
	noteDone(ctx, st)
	s.log.Info("upload finished", "upload", st.ID, "sha256", st.Sum, "size", st.Size, "practice", st.Practice)
	return nil
}

// scanText reads a finished text upload whole, as a single-request upload is read while it streams,
// and refuses it when it holds a table of student rows: the first bytes alone were checked as the
// pieces arrived. A refused file is deleted with its upload, so nothing of it is kept.
func (s *store) scanText(ctx context.Context, st *state) error {
	rc, _, err := s.bucket.Get(ctx, st.Blob)
	if err != nil {
		return fmt.Errorf("upload %s: read for the table scan: %w", st.ID, err)
	}
	scanErr := practices.ScanTextMaterial(rc)
	rc.Close()
	var ae *practices.ArtifactError
	if !errors.As(scanErr, &ae) {
		if scanErr != nil {
			return fmt.Errorf("upload %s: table scan: %w", st.ID, scanErr)
		}
		return nil
	}
	if err := s.discard(ctx, st); err != nil {
		s.log.Warn("refused upload; removing it failed (the sweeper tries again)", "upload", st.ID, "err", err)
	}
	return refuse(http.StatusUnprocessableEntity, ae.Field, ae.Rule, ae.Msg)
}

// noteDone tells the response about a finished upload's artifact.
func noteDone(ctx context.Context, st *state) {
	if n := noteFrom(ctx); n != nil && st.Ref != nil {
		n.sha256 = st.Ref.SHA256
	}
}
