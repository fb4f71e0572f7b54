package practices

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/brightspots-nic/brightspots/storage"
)

// ErrDigestMismatch: the bytes received do not hash to the digest the client declared.
var ErrDigestMismatch = errors.New("artifact bytes do not match the declared digest")

// verifyingReader passes exactly size bytes through, hashing them, and withholds the last byte until
// it has checked the hash: a body that does not match never delivers its final byte, so the store's
// put fails and nothing becomes visible (a multipart upload is aborted, a file is never linked).
type verifyingReader struct {
	src  io.Reader
	h    hash.Hash
	want []byte
	size int64
	n    int64 // bytes delivered
	held []byte
	err  error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if v.n == v.size-1 && v.held != nil { // only the held-back byte remains
		p[0] = v.held[0]
		v.n++
		v.held = nil
		return 1, nil
	}
	if v.n >= v.size {
		// Anything more than declared is an error, not silently ignored.
		var one [1]byte
		if k, _ := v.src.Read(one[:]); k > 0 {
			v.err = &ArtifactError{"file", "size", "the body is longer than its declared Content-Length"}
			return 0, v.err
		}
		return 0, io.EOF
	}
	// Never read past the declared size, and keep the final byte back for the check.
	limit := v.size - 1 - v.n
	if limit == 0 {
		var last [1]byte
		if _, err := io.ReadFull(v.src, last[:]); err != nil {
			v.err = fmt.Errorf("read upload: %w", err)
			return 0, v.err
		}
		v.h.Write(last[:])
		if got := v.h.Sum(nil); string(got) != string(v.want) {
			v.err = ErrDigestMismatch
			return 0, v.err
		}
		v.held = last[:]
		return v.Read(p)
	}
	if int64(len(p)) > limit {
		p = p[:limit]
	}
	k, err := v.src.Read(p)
	v.h.Write(p[:k])
	v.n += int64(k)
	if errors.Is(err, io.EOF) && v.n < v.size {
		v.err = &ArtifactError{"file", "size", "the body ended before its declared Content-Length"}
		return k, v.err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		v.err = err
		return k, err
	}
	return k, nil
}

// StoreArtifactDigest stores an upload whose SHA-256 and size the client declared (RFC 9530
// Content-Digest and Content-Length). The bytes stream straight to their content-addressed key —
// no temporary object and no copy — and are verified on the way: a mismatch stores nothing. The
// client's bytes are verified even when the artifact is already stored, so knowing a hash is never
// enough to attach a file.
func (r *Repo) StoreArtifactDigest(ctx context.Context, name string, body io.Reader, size int64, sum string, maxSize int64) (ArtifactRef, error) {
	if err := CheckFileName(name); err != nil {
		return ArtifactRef{}, err
	}
	if !ValidSHA256(sum) {
		return ArtifactRef{}, &ArtifactError{"Content-Digest", "format", "must be sha-256=:<base64 of the 32-byte digest>:"}
	}
	if size <= 0 {
		return ArtifactRef{}, &ArtifactError{"file", "empty", "the file is empty"}
	}
	if size > maxSize {
		return ArtifactRef{}, &ArtifactError{"file", "too_large", fmt.Sprintf("the file is larger than the limit of %d bytes", maxSize)}
	}
	br := bufio.NewReaderSize(body, 4096)
	head, err := br.Peek(int(min(512, size)))
	if err != nil && !errors.Is(err, io.EOF) {
		return ArtifactRef{}, fmt.Errorf("read upload: %w", err)
	}
	media := SniffMedia(name, head)
	want, _ := hex.DecodeString(sum)
	ahead := readAhead(br, readAheadBlock, readAheadDepth)
	defer ahead.Close()
	v, err := checkMaterial(name, media, &verifyingReader{src: ahead, h: sha256.New(), want: want, size: size}, size)
	if err != nil {
		return ArtifactRef{}, err
	}
	ref := ArtifactRef{SHA256: sum, Name: name, MediaType: media, Size: size}
	if _, err := r.ArtifactStored(ctx, sum); err == nil {
		if _, err := io.Copy(io.Discard, v); err != nil {
			return ArtifactRef{}, digestError(err)
		}
		return ref, nil
	} else if !errors.Is(err, ErrNotFound) {
		return ArtifactRef{}, err
	}
	// Unconditional: the key is the content's hash, so a racing upload writes the same bytes.
	if _, err := r.bucket.Put(ctx, ArtifactKey(sum), v, size, storage.PutOptions{ContentType: media}); err != nil {
		return ArtifactRef{}, digestError(err)
	}
	return ref, nil
}

func digestError(err error) error {
	var ae *ArtifactError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, ErrDigestMismatch):
		return &ArtifactError{"Content-Digest", "mismatch", "the file's bytes do not match the declared sha-256 digest; nothing was stored"}
	}
	return fmt.Errorf("store artifact: %w", err)
}
