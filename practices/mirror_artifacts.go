package practices

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/brightspots-nic/brightspots/storage"
)

// Artifacts of mirrored records. A mirrored record's reference marker is
// artifacts/refs/{hex}/{kind}.{id}.{origin-node-id}: the extra segment keeps it apart from a local
// record's marker (a peer cannot overwrite or remove a local marker by reusing an id), and
// ArtifactVisibleTo, which checks local records only, skips it. The federation package writes these
// markers when it applies a peer's document, checks reads with MirroredArtifactVisibleTo, caches the
// bytes it fetches from a record's origin under MirrorArtifactKey (never among the district's own
// artifacts), and purges a cached copy no record from that origin references any more with
// MirrorArtifactReferenced.

type mirrorArtifactMarker struct {
	Origin string      `json:"origin"`
	Kind   Kind        `json:"kind"`
	ID     string      `json:"id"`
	Ref    ArtifactRef `json:"ref"`
}

func (r *Repo) mirrorArtifactRefKey(origin string, kind Kind, id, sum string) (string, error) {
	if !ValidSHA256(sum) {
		return "", fmt.Errorf("artifact reference: %q is not a SHA-256", sum)
	}
	r.mu.RLock()
	originID, ok := r.mirrors[origin]
	r.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("artifact reference: unknown origin %q", origin)
	}
	if !kind.Valid() || !validID(id) {
		return "", fmt.Errorf("artifact reference: bad record %s %q", kind, id)
	}
	return artifactRefKey(sum, kind, id) + "." + originID, nil
}

// NoteMirrorArtifact records that the record (kind, id) mirrored from origin references ref.
func (r *Repo) NoteMirrorArtifact(ctx context.Context, origin string, kind Kind, id string, ref ArtifactRef) error {
	key, err := r.mirrorArtifactRefKey(origin, kind, id, ref.SHA256)
	if err != nil {
		return err
	}
	return putJSON(ctx, r.bucket, key, mirrorArtifactMarker{Origin: origin, Kind: kind, ID: id, Ref: ref}, storage.PutOptions{})
}

// DropMirrorArtifact removes the marker NoteMirrorArtifact wrote.
func (r *Repo) DropMirrorArtifact(ctx context.Context, origin string, kind Kind, id, sum string) error {
	key, err := r.mirrorArtifactRefKey(origin, kind, id, sum)
	if err != nil {
		return err
	}
	if err := r.bucket.Delete(ctx, key); err != nil {
		return fmt.Errorf("drop artifact reference %s: %w", key, err)
	}
	return nil
}

// eachArtifactMarker calls f with the name of every reference marker of sum.
func (r *Repo) eachArtifactMarker(ctx context.Context, sum string, f func(key, name string) (bool, error)) error {
	start := ""
	for {
		objs, err := r.bucket.List(ctx, storage.ListOptions{Prefix: "artifacts/refs/" + sum + "/", StartAfter: start, Limit: 1000})
		if err != nil {
			return fmt.Errorf("list references of artifact %s: %w", sum, err)
		}
		for _, o := range objs {
			start = o.Key
			more, err := f(o.Key, path.Base(o.Key))
			if err != nil || !more {
				return err
			}
		}
		if len(objs) < 1000 {
			return nil
		}
	}
}

// mirrorMarker reads a mirrored record's marker and the record it names, if this node still holds it
// and it still references the artifact.
func (r *Repo) mirrorMarker(ctx context.Context, key, sum string) (mirrorArtifactMarker, Record, bool, error) {
	var m mirrorArtifactMarker
	if err := getJSON(ctx, r.bucket, key, &m); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return m, nil, false, nil
		}
		return m, nil, false, err
	}
	if m.Origin == "" || m.Origin == r.node.URL || m.Ref.SHA256 != sum {
		return m, nil, false, nil
	}
	rec, gone, err := r.Load(ctx, m.Origin, m.Kind, m.ID)
	if err != nil || gone {
		return m, nil, false, err
	}
	pr, ok := rec.(*Practice)
	if !ok {
		return m, nil, false, nil
	}
	for _, mat := range pr.Materials {
		if mat.SHA256 == sum {
			return m, rec, true, nil
		}
	}
	return m, nil, false, nil
}

// MirroredArtifactVisibleTo finds a mirrored record visible to p that references the artifact and
// returns its origin and the reference it gives (name, media type, size). ErrNotFound otherwise.
func (r *Repo) MirroredArtifactVisibleTo(ctx context.Context, p Principal, sum string) (string, ArtifactRef, error) {
	if !ValidSHA256(sum) {
		return "", ArtifactRef{}, ErrNotFound
	}
	var origin string
	var ref ArtifactRef
	err := r.eachArtifactMarker(ctx, sum, func(key, name string) (bool, error) {
		if strings.Count(name, ".") != 2 {
			return true, nil // a local record's marker
		}
		m, rec, ok, err := r.mirrorMarker(ctx, key, sum)
		if err != nil || !ok || !CanRead(p, rec.RecordMeta(), r.node) {
			return true, err
		}
		for _, mat := range rec.(*Practice).Materials {
			if mat.SHA256 == sum {
				origin, ref = m.Origin, mat
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return "", ArtifactRef{}, err
	}
	if origin == "" {
		return "", ArtifactRef{}, ErrNotFound
	}
	return origin, ref, nil
}

// MirrorArtifactKey is where the bytes of a mirrored record's artifact are cached once fetched from
// the record's origin: artifacts/mirror/{origin-node-id}/{hex}. Never artifacts/sha256/{hex}: a
// peer's record naming the hash of a file this district holds (a draft's attachment) must not make
// this node serve the district's own bytes (docs/protocol.md, "Who a record comes from").
func (r *Repo) MirrorArtifactKey(origin, sum string) (string, error) {
	if !ValidSHA256(sum) {
		return "", fmt.Errorf("mirror artifact: %q is not a SHA-256", sum)
	}
	r.mu.RLock()
	originID, ok := r.mirrors[origin]
	r.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("mirror artifact: unknown origin %q", origin)
	}
	return "artifacts/mirror/" + originID + "/" + sum, nil
}

// MirrorArtifactReferenced reports whether a mirrored record from origin that this node still holds
// references the artifact (so its cached copy from that origin is still needed).
func (r *Repo) MirrorArtifactReferenced(ctx context.Context, origin, sum string) (bool, error) {
	if !ValidSHA256(sum) {
		return false, fmt.Errorf("artifact %q is not a SHA-256", sum)
	}
	found := false
	err := r.eachArtifactMarker(ctx, sum, func(key, name string) (bool, error) {
		if strings.Count(name, ".") != 2 {
			return true, nil // a local record's marker: local bytes are not this cache
		}
		m, _, ok, err := r.mirrorMarker(ctx, key, sum)
		if err != nil {
			return false, err
		}
		if ok && m.Origin == origin {
			found = true
			return false, nil
		}
		return true, nil
	})
	return found, err
}
