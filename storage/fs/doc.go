// Package fs is the local-directory backend of storage.Bucket: one node, one disk, no services to run.
//
// # Layout
//
// Each key segment but the last is a directory and the last is a file, so an operator can find an object
// with ls. Two keys may differ only in whether a segment is followed by more segments ("a" and "a/b" are
// both valid keys), so directories and files need names that can never meet: a directory's name ends in
// "%", and in every name "%" is written "%25" and a leading "." is written "%2E". A file's name therefore
// never ends in a bare "%" and no name starts with ".", which leaves .tmp (in-flight puts) out of the
// key space:
//
//	records/practice/p1/head.json  ->  dir/records%/practice%/p1%/head.json
//	a%b/.c                         ->  dir/a%25b%/%2Ec
//
// # Writes
//
// A put streams into a temporary file in dir/.tmp (the same filesystem, so publishing is a rename), is
// fsynced, and is then published while holding a per-key lock: create-only with link(2), which fails if
// the name exists; compare-and-swap by checking the current ETag and renaming; otherwise by renaming.
// The parent directory is fsynced after publishing, and a directory is fsynced after a new child
// directory is made in it. A reader therefore sees the old file or the new one, never part of one, and
// a put that returned survives a crash. Temporary files left by a crash are removed by Open once they
// are a day old (a younger one may be another process's put in flight).
//
// # ETags
//
// An ETag is the file's inode, size and modification time in nanoseconds. Every put sets the temporary
// file's mtime from a clock that never hands out the same nanosecond twice in a process, so a replaced
// object always gets a new ETag even when the filesystem reuses the inode. This costs one stat per Stat
// or listed key; a content hash would need either the whole file read again or metadata stored beside
// it, and it would not change when identical bytes are put again. Open checks that the filesystem keeps
// nanosecond mtimes and refuses a directory whose filesystem does not.
//
// Content types are kept in the user.brightspots.content_type extended attribute; on a filesystem
// without user xattrs they are guessed from the key's extension.
//
// The per-key locks live in memory, so create-only puts (link(2)) are atomic across processes but a
// compare-and-swap is atomic only within one. A second process (a command run beside the node) may
// open the same directory: Open leaves young temporary files alone, and folder creation starts over
// when another process prunes a folder under it. Within a process, pruning and folder creation are
// ordered by a lock.
package fs
