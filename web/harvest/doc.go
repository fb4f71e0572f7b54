// Package harvest is what aggregators, feed readers and search engines read from a node: OAI-PMH 2.0
// at /oai, with Atom feeds, the sitemap and schema.org descriptions built on the same rules. Only
// public local records are harvestable, and nothing here widens what anyone may see.
//
// # OAI-PMH from the change log
//
// A list request is a scan of the node's change log (the one the search indexer and the federation
// feed read), so deletions come from the same place as federation tombstones. A record appears at the
// log entry of its current version, once, in its current state: public now → a record; public once
// and no longer (withdrawn, deleted, visibility narrowed) → a deleted header, forever (deletedRecord
// "persistent"); never public → nothing at all, not even its identifier (practices.Repo.Exposure walks
// the immutable versions to tell the last two apart).
//
// A record's datestamp is its current version's updated_at, at seconds granularity. `from` starts
// the scan by a binary search over the gap-free log, ten minutes early to cover entries whose time
// trails the record's, then filters exactly; `until` ends the scan ten minutes after it.
//
// Resumption tokens are stateless and signed (token.go): they survive restarts and work on any
// replica, and expire after 24 hours.
//
// Sets (sets.go): kind:{kind}, subject:{code}, grade:{band}, collection:{uuid}; aims join as one
// more group family once the aim kind exists.
package harvest
