// Package search is the node's search index: what a teacher's query runs against.
//
// The index is a projection of the object store, never a source of truth. It holds the node's own
// published practices and collections and everything mirrored from peers, so one local query covers the
// whole network. The parts:
//
//   - Index is the small interface both backends satisfy: search/bleve (embedded, the default, stored
//     under the data folder) and search/meili (Meilisearch, for large deployments). One contract suite,
//     search/searchtest, runs against each.
//   - Document is the flat projection of a record (FromPractice, FromCollection). Backends store and
//     filter only its fields; they never see a record.
//   - Query is a typed query: text, typed filter values, sort and page. ParseQuery builds one from the
//     API's URL parameters and answers bad input with a *QueryError naming the parameter and the rule.
//     Backends build their filter expressions from these typed values only, never from request text.
//   - Audience is the visibility filter, built from the caller with AudienceOf: a document carries the
//     audience that may see it (public, or members of the district), and a search only returns what
//     the caller's audience covers.
//   - Synonyms are the words teachers use for the same thing (ELA / English language arts / reading …):
//     an embedded default list the admin can extend with a file.
//   - Indexer tails the change log from a cursor persisted in the store, upserts published records,
//     removes withdrawn and deleted ones, and survives restarts and index outages. Reindex rebuilds an
//     index from the store.
//
// Visibility model. Only published records are indexed; drafts are listed elsewhere and never reach
// the index. A published record with visibility public has audience "public" and is visible to anyone,
// anonymous callers included. Every other published record — local with visibility district, network or
// peers, or mirrored from a peer (which only sends what this node may see) — has audience "members" and
// is visible to any authenticated member of this district. Peer nodes and anonymous callers see only
// public documents.
package search
