// Package federation is a node's part in the Bright Spots network (docs/protocol.md): its identity, the
// endpoints other district nodes call, and the sync loops that mirror what peers share.
//
// # Parts
//
//   - Identity (keys.go). The node signs with one current key, Ed25519 by default or P-256, generated
//     on first start into the bucket (node/keys/current.json names it; node/keys/k-{kid}.json holds
//     each key, created with create-only puts so a kid — the RFC 7638 thumbprint — is never reused).
//     Rotate makes a new key current; the old one stays in the JWKS for 48 hours after it was
//     retired. /.well-known/brightspots-node, /.well-known/openid-configuration and
//     /.well-known/jwks.json are public and cacheable for five minutes.
//   - Node tokens (token.go). Every federation request carries a JWT signed with the current key:
//     typ brightspots-node+jwt, iss = sub = this node's URL, aud = the peer's URL, a 60-second life,
//     a 128-bit jti, and htm/htu binding it to one method and URL.
//   - The feed (server.go). GET /federation/v1/changes reads the change log after an opaque cursor and
//     returns each of this node's own records that changed, once, at its current state as the calling
//     peer may see it (practices.CanRead with the peer's node principal): the published version signed
//     as a brightspots-record+jws document, or a signed tombstone (withdrawn, deleted, visibility).
//     Drafts that were never published are left out: they never leave the node. Signed records carry
//     no created_by/updated_by. A page stops before an entry whose record head has not caught up with
//     it yet, so a write in flight is never skipped. Records and artifacts are served one by one too,
//     under the same visibility rule.
//   - Sync (sync.go). One loop per peer pulls pages until the feed says there is no more, then waits
//     for the poll interval or a notify from that peer. Errors back off exponentially with jitter
//     (1 s to 10 min, at least any Retry-After) and keep the cursor. After each local change (wire
//     LocalChange to practices.Repo.OnChange) peers are notified, once per burst.
//   - Artifacts (artifacts.go). Not copied with records. OpenArtifact serves a mirrored record's
//     artifact only from bytes fetched from that record's origin: the first opener starts one
//     download (later openers wait for it; at most four downloads per peer at once), streamed to a
//     temporary key while its SHA-256 and size are checked against the signed record, and copied
//     under artifacts/mirror/{origin-id}/{hex} only when both match. Local bytes
//     (artifacts/sha256/{hex}) are served only to callers who may see a local record referencing
//     them, whatever a peer's record claims. A reference whose name or media type this node would
//     refuse from its own users (.html, .exe, bidi controls) is not offered. A tombstone (or a new
//     version that drops a file) removes the mirrored record's reference, and the cached copy when no
//     other record held from that origin references it.
//
// # Security checks
//
// A request to /federation/v1/ is refused with 401 and WWW-Authenticate: Bearer error="invalid_token"
// unless its token passes every check below; the response never says which failed, the log and the
// brightspots_federation_tokens_refused_total{reason} counter do. Tokens are never logged.
//
//  1. The token parses as a JWS with exactly one signature whose algorithm is EdDSA or ES256 (so
//     "none", HS256 and the rest are refused before anything else; RS256 only for a peer configured
//     to present its IdP's access tokens).
//  2. Its iss, read without trusting it, is exactly a configured peer's URL. An unknown issuer is
//     refused without any network call: discovery runs only for configured peers, once, through a
//     client with timeouts whose key fetches are rate-limited (a forged kid cannot make this node
//     hammer a peer's JWKS).
//  3. go-oidc verifies the signature against the peer's JWKS, the issuer, the audience (this node's
//     URL) and expiry (30 s leeway); then typ, sub == iss, aud is that one string, exp − iat ≤ 120 s,
//     iat not more than 30 s ahead, htm and htu equal to this request as seen at the node's public URL,
//     and (iss, jti) unseen in the last five minutes (a bounded cache that refuses when full rather
//     than forget early).
//
// Every document in a feed page is checked before any is applied: at most 1 MiB, compact JWS with one
// EdDSA or ES256 signature, typ brightspots-record+jws and a kid; signature valid under the JWKS of
// the peer that served the page; payload origin equal to that peer (v1 is not transitive); kind,
// UUID id and version consistent with the record inside, whose origin is the peer and whose status
// is published; tombstones carry a known reason and no record. Pages are at most 16 MiB and 1000 items.
// One bad document refuses the whole page, and the cursor stays where it was. Applied documents are
// stored byte for byte (practices.Repo.ApplyMirror), which ignores versions older than the one held;
// the cursor is saved only after the whole page is applied, so a page applied twice changes nothing.
package federation
