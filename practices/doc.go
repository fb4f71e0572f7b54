// Package practices is the domain of a Bright Spots node: practices, tests (one STEP or PDSA cycle
// each) and collections; their validation, versions, visibility and ownership; and the repository that
// keeps them in the object store. It knows nothing of HTTP or of search engines.
//
// # Storage layout
//
//	records/{kind}/{id}/v{version:08d}.json   immutable versions (create-only puts)
//	records/{kind}/{id}/head.json             cache of the latest version, swapped with compare-and-swap
//	index/{kind}/{all|status/{s}|team/t-{team}}/{id}.{status}.{visibility}.{team}
//	                                          the listing index List reads (listindex.go): a projection of the heads
//	node/state/list-index.json                says the listing index has been built for this store
//	log/{seq:020d}.json                       the gap-free change log
//	node/intents/{kind}.{id}.v{version}.json  write intents, for crash recovery
//	node/intents/mirror/{origin-id}/{kind}/{id}.json  intents of mirror copies (same rule)
//	node/state/log-checkpoint.json            a recent log position, so finding the end needs no full listing
//	artifacts/sha256/{hex}                    content-addressed files
//	artifacts/blobs/{id}                      files uploaded before their hash was known, kept where they landed
//	artifacts/located/{hex}                   where the bytes of artifact {hex} are when not under sha256/ (landed.go)
//	artifacts/refs/{hex}/{kind}.{id}          which records reference an artifact (for read checks)
//	artifacts/refs/{hex}/{kind}.{id}.{origin-id}  the same for a record mirrored from a peer (mirror_artifacts.go)
//
// Other parts of the node keep their state in the same store: uploads/{id}/… (resumable uploads in
// progress: web/uploads), node/keys/… (federation signing keys),
// node/state/peers/{id}.json (sync cursors), node/state/sync-lease.json and node/state/sync-wake/{peer}.json
// (which replica pulls from peers, and notifies forwarded to it: federation/lease.go),
// node/state/indexer-cursor.json or node/state/indexer-cursors/{index-instance}.json (the search
// indexer's cursor: shared for Meilisearch, one per embedded index and so per replica).
//
// # Archives
//
// Export writes the node's own data — every version of every local record, internal results, and the
// artifacts they reference — as a signed tar whose entry names are these keys (archive.go); import
// restores it into an empty store through the write order below, which rebuilds heads, the log and
// the reference markers.
//
// # Write order and the crash invariant
//
// Every change to a record goes through the same five writes, in this order:
//
//  1. intent put   node/intents/…            (says "a version may be about to exist")
//  2. version put  records/…/v{n}.json       create-only: THE COMMIT POINT. Of two racing writers one wins;
//     the loser gets ErrStale (HTTP 412).
//  3. head swap    records/…/head.json       compare-and-swap, only ever moves forward
//  4. log append   log/{seq}.json            create-only, at the next free sequence number
//  5. intent delete
//
// When the change moves the record to another status or visibility (or creates it), the listing
// index follows in the same path: the new state's entries are put between 2 and 3, the old state's
// deleted between 4 and 5 (listindex.go says why this order never hides a record from a list).
//
// The head moves before the log entry is written because the log's readers (the search indexer, the
// federation feed) are state-based: woken by an entry, they read the record's head, which must
// already show at least the version the entry names, or the change would be skipped.
//
// A client is told a write succeeded only after step 4. Invariant, after a crash between any two writes:
// every acknowledged change is in the log (step 4 precedes the answer), and nothing the log names is
// missing (step 2 precedes step 4). What a crash can leave behind is a committed version with no log
// entry, possibly behind a stale head; the reconciler (run at start-up and every few minutes) reads
// the intents, and for each moves the head forward to the latest committed version and appends a log
// entry for it, then deletes the intent. A duplicate log entry is harmless because log readers are state-based. A writer that finds
// its version number already taken also repairs that record before reporting the conflict, so a stale
// head never blocks writers until the next reconciler run.
//
// # The change log
//
// The log is gap-free: entry n+1 is only ever written by a writer that knows entry n exists (it wrote
// it, or lost a create-only race for it), so a reader that sees entry k knows every entry below k is
// already there, and never skips an entry that lands late. Appends in one process are serialized; across
// processes (replicas sharing a bucket) create-only puts arbitrate.
package practices
