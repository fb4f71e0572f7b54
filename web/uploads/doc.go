// Package uploads is the resumable artifact upload: the tus 1.0 protocol (tus.io), served by
// the tusd library's handler over a data store of our own that writes into the node's object store.
//
// # Why tus, and why our own data store
//
// tus is the resumable-upload protocol with the most implementations on both ends (tusd here,
// tus-js-client in the page, clients for every language scripts are written in); a dropped
// connection, a sleeping laptop, a reloaded page or a restarted node resumes from the last byte the
// node holds, which the client learns with one HEAD request.
//
// tusd ships an S3 store, but it speaks to S3 through the AWS SDK with its own settings, keeps its
// own object layout, and finishes every upload under the upload's id: the bytes would then have to
// be copied under their content hash, the second full write this package exists to avoid. The data
// store here is written over storage.Multipart instead — S3 multipart uploads through the node's own
// minio-go client and settings (prefix, part size, credentials), or one file written in place on the
// local store — so both backends behave the same and there is one configuration.
//
// # How an upload is written
//
// POST /api/v1/uploads/ (Upload-Length, Upload-Metadata: practice, filename and optionally sha256)
// creates the upload after the same checks as a single-request upload: the caller is a publisher of
// the practice's team, the name is acceptable, the size is within limits.max_artifact_bytes. Its
// state is one small JSON object, uploads/{id}/state.json, that names the owner, the practice, the
// expiry (24 h), the parts stored so far and the SHA-256 state after the last byte held. It is the
// commit point of every step: it is replaced (compare-and-swap on its ETag) only after what it
// names is durable, so a crash between two writes leaves an upload that resumes from the previous
// state, never one that claims bytes it does not have.
//
// A PATCH streams its body into parts of the store's part size (16 MiB unless configured; two parts
// in memory at most: one filling from the client while the previous one is sent to the store). The
// bytes are hashed as they arrive; the hash state is saved with each part, so the SHA-256 of a file
// sent over many requests and restarts is computed once, as a single stream. Bytes after the last
// whole part (the connection dropped, or the client sent a small chunk) are kept in a tail object,
// uploads/{id}/tail-{offset}, and become the start of the next part; nothing that reached the node is
// lost. The first 512 bytes decide the media type (SniffMedia, never the client's word), and a file
// of a refused type is refused at once.
//
// When the last byte is held, the upload is "finishing": the multipart upload is completed at
// artifacts/blobs/{id}, the artifact is landed under its hash without copying (see
// practices.LandArtifact: a hard link on the local store, a locator on S3), attached to the practice,
// and the state marked done. Each step is idempotent; a HEAD or PATCH of a finishing upload, and the
// sweeper, run the remaining steps, so a crash anywhere in them is finished later and a client is
// told the upload is complete only once the practice lists the file.
//
// A declared sha256 (lower-case hex in Upload-Metadata) is checked against the bytes before the
// upload is completed; a mismatch discards everything and answers 460 (tus's checksum mismatch).
//
// # Expiry and cleaning
//
// An upload not finished within 24 h expires: it answers 410 Gone, and the sweeper (every few
// minutes, and at start) aborts its multipart upload (S3 then frees the parts), deletes its tail and
// state. The gauge brightspots_uploads_incomplete_bytes reports the bytes held by unfinished uploads.
//
// # Limits and errors
//
// The tus routes set their own limits: a body is limited to what the upload still lacks, and the
// handler keeps the connection alive only while bytes arrive (a read deadline of one minute, renewed
// on every read), so a middleware deadline meant for small bodies must skip these routes
// (PathPrefix). At most Config.MaxWriters chunks (8) are written at once, so all uploads together
// hold at most 16 parts in memory; further chunks wait for a slot. Every refusal is an RFC 9457 problem naming the field and the rule; another user's
// upload answers 404 as if it did not exist.
package uploads
