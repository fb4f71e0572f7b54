package practices

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/brightspots-nic/brightspots/storage"
)

// Where an artifact's bytes live.
//
// An upload's SHA-256 is known only after its last byte, but an S3 object's key is fixed when its
// upload starts, and S3 cannot rename: putting the bytes under artifacts/sha256/{hex} afterwards
// would be a second full write of them inside the store (for 1 GiB, seconds of MinIO rewriting the
// object). So bytes whose hash was not known in advance stay where they landed,
// artifacts/blobs/{id}, and a small locator, artifacts/located/{hex}, records where: the hash was
// computed here while the bytes streamed, and the locator is written create-only after the blob is
// complete, so an artifact is either wholly there or not there at all. On a local directory
// (storage.Linker) the blob is hard-linked to artifacts/sha256/{hex} instead and no locator exists.
// Readers go through ArtifactBytes, which tries artifacts/sha256/{hex} first and then the locator.

// ArtifactBlobKey is where the bytes of upload id land before their hash is known.
func ArtifactBlobKey(id string) string { return "artifacts/blobs/" + id }

// NewArtifactBlobKey is a fresh ArtifactBlobKey.
func NewArtifactBlobKey() string { return ArtifactBlobKey(uuid.NewString()) }

func artifactLocatorKey(sum string) string { return "artifacts/located/" + sum }

// artifactLocator is the body of artifacts/located/{hex}.
type artifactLocator struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
}

// artifactObject returns the key that holds the bytes of artifact sum, or ErrNotFound.
func (r *Repo) artifactObject(ctx context.Context, sum string) (string, storage.ObjectInfo, error) {
	oi, err := r.bucket.Stat(ctx, ArtifactKey(sum))
	if err == nil {
		return ArtifactKey(sum), oi, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return "", storage.ObjectInfo{}, err
	}
	var loc artifactLocator
	if err := getJSON(ctx, r.bucket, artifactLocatorKey(sum), &loc); errors.Is(err, storage.ErrNotFound) {
		return "", storage.ObjectInfo{}, ErrNotFound
	} else if err != nil {
		return "", storage.ObjectInfo{}, err
	}
	if !strings.HasPrefix(loc.Key, "artifacts/blobs/") {
		return "", storage.ObjectInfo{}, fmt.Errorf("artifact %s: locator names %q, outside artifacts/blobs/", sum, loc.Key)
	}
	oi, err = r.bucket.Stat(ctx, loc.Key)
	if errors.Is(err, storage.ErrNotFound) {
		return "", storage.ObjectInfo{}, ErrNotFound
	}
	return loc.Key, oi, err
}

// ArtifactStored reports whether the bytes of artifact sum are in the store.
func (r *Repo) ArtifactStored(ctx context.Context, sum string) (storage.ObjectInfo, error) {
	_, oi, err := r.artifactObject(ctx, sum)
	return oi, err
}

// ArtifactBytes opens length bytes (to the end when < 0) of artifact sum from offset, wherever they
// are stored. It does no access check: callers check visibility first. ErrNotFound if absent.
func (r *Repo) ArtifactBytes(ctx context.Context, sum string, offset, length int64) (io.ReadCloser, storage.ObjectInfo, error) {
	key, _, err := r.artifactObject(ctx, sum)
	if err != nil {
		return nil, storage.ObjectInfo{}, err
	}
	rc, oi, err := r.bucket.GetRange(ctx, key, offset, length)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, storage.ObjectInfo{}, ErrNotFound
	}
	return rc, oi, err
}

// DeleteArtifactBytes removes the bytes of artifact sum and its locator.
func (r *Repo) DeleteArtifactBytes(ctx context.Context, sum string) error {
	key, _, err := r.artifactObject(ctx, sum)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := r.bucket.Delete(ctx, key); err != nil {
		return err
	}
	return r.bucket.Delete(ctx, artifactLocatorKey(sum))
}

// LandArtifact makes the complete object at blob (an ArtifactBlobKey), whose SHA-256 the caller
// computed while the bytes streamed, the artifact sum, without writing the bytes again. If the
// artifact is already stored the blob is a duplicate and is deleted. It is idempotent: landing the
// same blob again (a retry after a crash) changes nothing.
func (r *Repo) LandArtifact(ctx context.Context, blob, sum string, size int64) error {
	if !ValidSHA256(sum) || !strings.HasPrefix(blob, "artifacts/blobs/") {
		return fmt.Errorf("land artifact %s from %q: bad arguments", sum, blob)
	}
	key, _, err := r.artifactObject(ctx, sum)
	switch {
	case err == nil && key == blob:
		return nil // landed before
	case err == nil:
		return r.bucket.Delete(ctx, blob) // the same bytes are stored already
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("land artifact %s: %w", sum, err)
	}
	if l, ok := r.bucket.(storage.Linker); ok {
		if _, err := l.Link(ctx, blob, ArtifactKey(sum)); err != nil {
			return fmt.Errorf("land artifact %s: %w", sum, err)
		}
		return r.bucket.Delete(ctx, blob)
	}
	err = putJSON(ctx, r.bucket, artifactLocatorKey(sum), artifactLocator{Key: blob, Size: size}, storage.PutOptions{IfNoneMatch: true})
	if errors.Is(err, storage.ErrConflict) {
		// Another upload of the same bytes landed first (or this blob did, and the reply was lost).
		var loc artifactLocator
		if gerr := getJSON(ctx, r.bucket, artifactLocatorKey(sum), &loc); gerr == nil && loc.Key == blob {
			return nil
		}
		return r.bucket.Delete(ctx, blob)
	}
	if err != nil {
		return fmt.Errorf("land artifact %s: %w", sum, err)
	}
	return nil
}
