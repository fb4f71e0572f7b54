package practices

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/brightspots-nic/brightspots/storage"
)

// The listing index: what List reads instead of every record's head.
//
// Every local record that is not deleted has one empty marker object in each of three families:
//
//	index/{kind}/all/{entry}                      every record of the kind
//	index/{kind}/status/{status}/{entry}          by status
//	index/{kind}/team/t-{team}/{entry}            by owning team
//
// where {entry} is "{id}.{status}.{visibility}.{team}" ({team} as teamToken writes it: path-escaped,
// so it holds no '/', and hashed when long, so that a key stays within every backend's limits). A
// family lists in id order, and ids are time-ordered UUIDv7s, so a listing of a family is the
// creation order List promises. The entry's name carries what access decisions need (status,
// visibility, team), so List skips, without reading them, the heads of records the caller could not
// see: an anonymous list reads no draft, no district-only record, and a team's list reads only that
// team's records.
//
// Why a store projection and not the search index: the search index is fed asynchronously from the
// change log, so a record just created would be missing from its team's list for a moment, and a
// node whose index is down could not list at all. The markers are written in the commit path itself
// (repo.go commit), in an order that never hides a committed record:
//
//   - after the version put (the commit point) and before the head swap, the new entry is put;
//   - after the log append, the previous entry (other status or visibility) is deleted, unless the
//     head meanwhile shows it again.
//
// So between the two a record has two entries; List reads the head once per id and decides from the
// head, never from the entry, so it shows the record once, as it is. The head stays the source of
// truth: an entry that disagrees with its head is only a hint that costs one head read. A crash
// after the commit point leaves an intent, and the reconciler's repair writes the entry of the
// repaired head. RebuildListIndex (run by `brightspots reindex`, and at start-up when a store has no
// index yet) writes every missing entry and removes the stale ones.

const (
	listIndexPrefix = "index/"
	// listIndexMarker records that the index of this store has been built; a store written before
	// the index existed has none, and Open builds it once.
	listIndexMarker = "node/state/list-index.json"
	listIndexFormat = 1
)

// listEntry is what one index marker says of a record.
type listEntry struct {
	ID         string
	Status     Status
	Visibility Visibility
	Team       string // teamToken of the record's team
}

func entryOf(m *Meta) listEntry {
	return listEntry{ID: m.ID, Status: m.Status, Visibility: m.Visibility, Team: teamToken(m.Team)}
}

// teamToken is how a team is written in index keys: path-escaped, or, when that would be long (a team
// name may have 100 characters of any script), "%h" and a SHA-256 prefix, which no escaped name
// can look like. Compared, never read back: the head has the name.
func teamToken(team string) string {
	if esc := url.PathEscape(team); len(esc) <= 64 {
		return esc
	}
	sum := sha256.Sum256([]byte(team))
	return "%h" + hex.EncodeToString(sum[:16])
}

func (e listEntry) name() string {
	return e.ID + "." + string(e.Status) + "." + string(e.Visibility) + "." + e.Team
}

// parseEntry reads the last path element of an index key.
func parseEntry(name string) (listEntry, bool) {
	parts := strings.SplitN(name, ".", 4)
	if len(parts) != 4 || !validID(parts[0]) {
		return listEntry{}, false
	}
	return listEntry{ID: parts[0], Status: Status(parts[1]), Visibility: Visibility(parts[2]), Team: parts[3]}, true
}

func indexAllPrefix(kind Kind) string { return listIndexPrefix + string(kind) + "/all/" }
func indexStatusPrefix(kind Kind, s Status) string {
	return listIndexPrefix + string(kind) + "/status/" + string(s) + "/"
}
func indexTeamPrefix(kind Kind, team string) string {
	// "t-" keeps the folder name non-empty for records no team owns (collections).
	return listIndexPrefix + string(kind) + "/team/t-" + teamToken(team) + "/"
}

// entryKeys are the three markers of e.
func entryKeys(kind Kind, e listEntry) []string {
	n := e.name()
	team := listIndexPrefix + string(kind) + "/team/t-" + e.Team + "/"
	return []string{indexAllPrefix(kind) + n, indexStatusPrefix(kind, e.Status) + n, team + n}
}

// listed reports whether a record in this state has index entries (a deleted one has none).
func listed(s Status) bool { return s != "" && s != StatusDeleted }

// putListEntry writes the markers of m's current state (idempotent).
func (r *Repo) putListEntry(ctx context.Context, m *Meta) error {
	if !listed(m.Status) {
		return nil
	}
	for _, key := range entryKeys(m.Kind, entryOf(m)) {
		if _, err := r.bucket.Put(ctx, key, strings.NewReader(""), 0, storage.PutOptions{}); err != nil {
			return fmt.Errorf("list index of %s %s: %w", m.Kind, m.ID, err)
		}
	}
	return nil
}

// dropListEntry removes the markers of a previous state old of a record whose new state is m, unless
// they are the markers of m's state, or the head shows that state again (a later writer moved it
// back while this one was between its head swap and here).
func (r *Repo) dropListEntry(ctx context.Context, kind Kind, old listEntry, cur *Meta) {
	if !listed(old.Status) || (cur != nil && listed(cur.Status) && entryOf(cur) == old) {
		return
	}
	if head, _, err := r.head(ctx, kind, old.ID); err == nil && entryOf(head.RecordMeta()) == old {
		return
	}
	for _, key := range entryKeys(kind, old) {
		if err := r.bucket.Delete(ctx, key); err != nil {
			// Harmless: a stale entry costs a head read until the next rebuild.
			r.logger.Warn("list index: delete stale entry", "key", key, "err", err)
		}
	}
}

// ensureListIndex builds the index once for a store that has none (written before it existed).
func (r *Repo) ensureListIndex(ctx context.Context) error {
	var marker struct {
		Format int `json:"format"`
	}
	err := getJSON(ctx, r.bucket, listIndexMarker, &marker)
	if err == nil && marker.Format == listIndexFormat {
		return nil
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("read list index marker: %w", err)
	}
	if _, err := r.RebuildListIndex(ctx); err != nil {
		return err
	}
	return putJSON(ctx, r.bucket, listIndexMarker, map[string]any{"format": listIndexFormat, "built_at": r.now().UTC()}, storage.PutOptions{})
}

// IndexRepair counts what RebuildListIndex changed.
type IndexRepair struct {
	Records int // heads read
	Added   int // entries that were missing
	Removed int // entries that disagreed with their head
}

// RebuildListIndex makes the listing index agree with the heads: it writes the entries of every
// local record and removes entries that disagree with their record's head. Safe beside running
// writers: an entry is removed only when its record has no write in flight (no intent) and the head,
// read again after that check, still disagrees.
func (r *Repo) RebuildListIndex(ctx context.Context) (IndexRepair, error) {
	var rep IndexRepair
	for _, kind := range Kinds {
		prefix := "records/" + string(kind) + "/"
		start := ""
		for {
			objs, err := r.bucket.List(ctx, storage.ListOptions{Prefix: prefix, StartAfter: start, Limit: 1000})
			if err != nil {
				return rep, fmt.Errorf("list index rebuild: %w", err)
			}
			for _, o := range objs {
				start = o.Key
				if !strings.HasSuffix(o.Key, "/head.json") {
					continue
				}
				id := strings.TrimSuffix(strings.TrimPrefix(o.Key, prefix), "/head.json")
				rec, _, err := r.head(ctx, kind, id)
				if errors.Is(err, ErrNotFound) {
					continue
				}
				if err != nil {
					return rep, err
				}
				rep.Records++
				m := rec.RecordMeta()
				if !listed(m.Status) {
					continue
				}
				for _, key := range entryKeys(kind, entryOf(m)) {
					if _, err := r.bucket.Stat(ctx, key); errors.Is(err, storage.ErrNotFound) {
						if _, err := r.bucket.Put(ctx, key, strings.NewReader(""), 0, storage.PutOptions{}); err != nil {
							return rep, err
						}
						rep.Added++
					} else if err != nil {
						return rep, err
					}
				}
			}
			if len(objs) < 1000 {
				break
			}
		}
		removed, err := r.removeStaleEntries(ctx, kind)
		rep.Removed += removed
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// removeStaleEntries deletes the entries of kind whose record's head is in another state.
func (r *Repo) removeStaleEntries(ctx context.Context, kind Kind) (int, error) {
	removed := 0
	for _, family := range []string{"all/", "status/", "team/"} {
		prefix := listIndexPrefix + string(kind) + "/" + family
		start := ""
		for {
			objs, err := r.bucket.List(ctx, storage.ListOptions{Prefix: prefix, StartAfter: start, Limit: 1000})
			if err != nil {
				return removed, err
			}
			for _, o := range objs {
				start = o.Key
				name := o.Key[strings.LastIndexByte(o.Key, '/')+1:]
				e, ok := parseEntry(name)
				stale, err := r.entryStale(ctx, kind, e, ok)
				if err != nil {
					return removed, err
				}
				if stale {
					if err := r.bucket.Delete(ctx, o.Key); err != nil {
						return removed, err
					}
					removed++
				}
			}
			if len(objs) < 1000 {
				break
			}
		}
	}
	return removed, nil
}

func (r *Repo) entryStale(ctx context.Context, kind Kind, e listEntry, parsed bool) (bool, error) {
	if !parsed {
		return true, nil
	}
	agrees := func() (bool, error) {
		rec, _, err := r.head(ctx, kind, e.ID)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return entryOf(rec.RecordMeta()) == e, nil
	}
	if ok, err := agrees(); ok || err != nil {
		return false, err
	}
	// A writer puts its entry before it swaps the head, and holds an intent all along: leave the
	// record alone while one exists, and look at the head again after looking for it.
	intents, err := r.bucket.List(ctx, storage.ListOptions{Prefix: fmt.Sprintf("node/intents/%s.%s.", kind, e.ID), Limit: 1})
	if err != nil || len(intents) > 0 {
		return false, err
	}
	ok, err := agrees()
	return !ok && err == nil, err
}

// listSource picks the index family a List call reads, and the states of the entries in it that
// may match the filter.
func listSource(kind Kind, f ListFilter) string {
	switch {
	case f.Team != "":
		return indexTeamPrefix(kind, f.Team)
	case f.Status != "":
		return indexStatusPrefix(kind, f.Status)
	}
	return indexAllPrefix(kind)
}

// mayShow reports whether a record in the state e describes could be shown to p under f, without
// reading it. It must never be stricter than CanRead: the head decides in the end.
func (r *Repo) mayShow(p Principal, kind Kind, e listEntry, f ListFilter) bool {
	if (f.Status != "" && e.Status != f.Status) || (f.Team != "" && e.Team != teamToken(f.Team)) {
		return false
	}
	if p.Kind == "node" && e.Status == StatusPublished && e.Visibility == VisibilityPeers {
		return true // depends on shared_with, which the entry does not carry
	}
	// The entry has the team's token, so ask with the caller's teams written the same way.
	if len(p.Teams) > 0 {
		teams := make([]string, len(p.Teams))
		for i, t := range p.Teams {
			teams[i] = teamToken(t)
		}
		p.Teams = teams
	}
	return CanRead(p, &Meta{Kind: kind, Origin: r.node.URL, Status: e.Status, Visibility: e.Visibility, Team: e.Team}, r.node)
}
