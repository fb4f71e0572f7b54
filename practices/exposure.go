package practices

import (
	"context"
	"errors"
)

// Exposure is what harvesting (OAI-PMH, feeds, sitemaps) needs to know about a local record: its
// current head, deleted or not, and the latest version of it that anonymous readers could see.
type Exposure struct {
	// Head is the current version, including a deleted record's final version.
	Head Record
	// LastPublic is the latest version that was published with visibility public (Head itself when
	// it still is); nil when the record was never public, so harvesters never learned of it.
	LastPublic Record
}

// Public reports whether anonymous readers can see the record now.
func (x Exposure) Public() bool { return x.LastPublic != nil && x.LastPublic == x.Head }

// Exposure reads a local record's head and, when the head is not public, walks its immutable
// versions back to the latest one that was. A record that was public once and no longer is (withdrawn,
// deleted, narrowed) must reach harvesters as deleted; one that never was must not reach them at all,
// not even its id. ErrNotFound when no such local record exists.
func (r *Repo) Exposure(ctx context.Context, kind Kind, id string) (Exposure, error) {
	head, _, err := r.head(ctx, kind, id)
	if err != nil {
		return Exposure{}, err
	}
	x := Exposure{Head: head}
	if isPublic(head.RecordMeta()) {
		x.LastPublic = head
		return x, nil
	}
	if head.RecordMeta().PublishedAt == nil {
		return x, nil // never published: no version can have been public
	}
	for v := head.RecordMeta().Version - 1; v >= 1; v-- {
		rec, err := r.readVersion(ctx, kind, id, v)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return Exposure{}, err
		}
		if isPublic(rec.RecordMeta()) {
			x.LastPublic = rec
			return x, nil
		}
	}
	return x, nil
}

func isPublic(m *Meta) bool {
	return m.Status == StatusPublished && m.Visibility == VisibilityPublic
}
