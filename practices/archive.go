package practices

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/brightspots-nic/brightspots/storage"
)

// A node archive carries a district's own data out of one node and into another (`brightspots export`
// and `brightspots import`): to leave the network, or to move to another host or storage backend
// without losing anything. It is a plain (uncompressed) tar whose entry names are the store's own keys:
//
//	records/{kind}/{id}/v{version:08d}.json   every immutable version of every local record, byte for
//	                                          byte: drafts, withdrawn and deleted records included
//	node/results/{test-id}/v{version:08d}.json  the teams' internal results views (aggregates, never rows)
//	node/audit/results/{test-id}/{at}-v{version:08d}.json  the results audit trail
//	node/measures/{test-id}/v{version:08d}.json  the teams' full views of their measures (aggregates)
//	node/audit/measures/{test-id}/{at}-{measure-id}.json  the audit trail of measure score files
//	artifacts/sha256/{hex}                    every file any version of a local record references
//	node/identity.json                        the node's URL and id ({"url": …, "id": …})
//	node/jwks.json                            the public keys (JWKS) that verify manifest.jws
//	manifest.json                             format, node, created_at, counts, and every entry above
//	                                          with its size and SHA-256
//	manifest.jws                              detached JWS (RFC 7515 appendix F) over manifest.json,
//	                                          made with the node's federation signing key
//
// The manifest and its signature come last, so an archive is written in one streaming pass; an
// importer reads it twice (once to verify every byte, once to write).
//
// Left out, on purpose:
//
//   - Mirrors of peers' records, their artifacts and sync cursors: they are the peers' data; a new node
//     pulls them again from its peers.
//   - Secrets: the federation private keys, API tokens (hashes), sessions and their keys, and the
//     embedded provider's accounts (password hashes) and keys. An archive is a file that travels (a
//     drive, a mail, a cloud folder); whoever holds it must not be able to sign as the district or
//     sign in as its people. The new node makes a fresh signing key on first start (peers fetch it from
//     its JWKS when they meet its kid), and the admin creates tokens and accounts again.
//   - What can be rebuilt: heads, the change log, reference markers and the search index. Import writes
//     each version through the repository's write order, which recreates them.
//
// Import refuses a store that already holds district data, verifies the signature and every entry's
// SHA-256 before it writes anything, and refuses an archive made for another node identity: records
// carry their node's URL as origin, and peers know the node by it.

// ArchiveFormat names the archive format in manifest.json; ArchiveVersion is its version.
const (
	ArchiveFormat  = "brightspots-node-archive"
	ArchiveVersion = 1
)

// Names of the archive's own entries.
const (
	archiveManifest  = "manifest.json"
	archiveSignature = "manifest.jws"
	archiveIdentity  = "node/identity.json"
	archiveJWKS      = "node/jwks.json"
)

// Size limits an importer applies to what it holds in memory while reading an archive.
const (
	maxArchiveManifest = 256 << 20
	maxArchiveSmall    = 1 << 20  // identity, JWKS, signature
	maxArchiveJSON     = 16 << 20 // a record version or a results document
)

// ErrArchiveRefused: the archive is damaged, tampered with, or not for this node. Import wrote nothing.
var ErrArchiveRefused = errors.New("archive refused")

// ErrNotEmpty: the store an import was pointed at already holds district data.
var ErrNotEmpty = errors.New("the target store is not empty")

// Manifest describes an archive: what it holds and the hash of every entry.
type Manifest struct {
	Format    string         `json:"format"`
	Version   int            `json:"version"`
	Node      Node           `json:"node"`
	CreatedAt time.Time      `json:"created_at"`
	Counts    ArchiveCounts  `json:"counts"`
	Excluded  []string       `json:"excluded"`
	Entries   []ArchiveEntry `json:"entries"`
}

// ArchiveCounts summarizes an archive.
type ArchiveCounts struct {
	Records       map[Kind]int `json:"records"`  // distinct records, by kind
	Versions      int          `json:"versions"` // record versions
	Results       int          `json:"results"`  // internal results and audit documents
	Artifacts     int          `json:"artifacts"`
	ArtifactBytes int64        `json:"artifact_bytes"`
}

// ArchiveEntry is one file of an archive.
type ArchiveEntry struct {
	Path      string `json:"path"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	MediaType string `json:"media_type,omitempty"` // artifacts: as the referencing record declares it
}

// excludedDoc is written into every manifest, so an archive explains itself.
var excludedDoc = []string{
	"mirror/…: peers' records are theirs; a new node pulls them again from its peers",
	"node/keys/…: private signing keys are secrets; the new node makes a fresh key, published in its JWKS",
	"API tokens, sessions, sign-in keys and local accounts: secrets an archive that travels must not carry; create them again",
	"heads, change log, reference markers, search index: rebuilt by import from the versions",
}

// ArchiveSigner signs an archive's manifest with the node's key.
type ArchiveSigner interface {
	// PublicKeys returns a JWKS (JSON) that verifies what Sign makes; stored as node/jwks.json.
	PublicKeys(ctx context.Context) ([]byte, error)
	// Sign returns a detached signature over manifest; stored as manifest.jws.
	Sign(ctx context.Context, manifest []byte) ([]byte, error)
}

// ArchiveVerifier checks a detached signature over manifest against the archive's JWKS. It returns an
// error saying why when the signature does not verify.
type ArchiveVerifier func(manifest, signature, jwks []byte) error

// ArchiveSource opens the archive for reading. Import opens it twice.
type ArchiveSource func() (io.ReadCloser, error)

var (
	archiveVersionRe = regexp.MustCompile(`^records/(practice|test|collection)/([0-9a-f-]{36})/v(\d{8})\.json$`)
	archiveResultsRe = regexp.MustCompile(`^node/results/([0-9a-f-]{36})/v\d{8}\.json$`)
	archiveAuditRe   = regexp.MustCompile(`^node/audit/results/([0-9a-f-]{36})/[0-9TZ.]{1,40}-v\d{8}\.json$`)
	// The teams' full views of their measures, and the audit of score files (measures.go).
	archiveMeasuresRe     = regexp.MustCompile(`^node/measures/([0-9a-f-]{36})/v\d{8}\.json$`)
	archiveMeasureAuditRe = regexp.MustCompile(`^node/audit/measures/([0-9a-f-]{36})/[0-9TZ.]{1,40}-[a-z0-9][a-z0-9_-]{0,62}\.json$`)
	archiveArtRe          = regexp.MustCompile(`^artifacts/sha256/([0-9a-f]{64})$`)
)

// tarEntryWriter writes to the tar and the hash at once, counting bytes.
type tarEntryWriter struct {
	tw *tar.Writer
	h  hash.Hash
	n  int64
}

func (w *tarEntryWriter) Write(p []byte) (int, error) {
	n, err := w.tw.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

// archiveWriter writes entries and remembers them for the manifest.
type archiveWriter struct {
	tw      *tar.Writer
	at      time.Time
	entries []ArchiveEntry
}

func (a *archiveWriter) header(path string, size int64) error {
	if err := a.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: path, Size: size, Mode: 0o644, ModTime: a.at, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("archive %s: %w", path, err)
	}
	return nil
}

// bytes writes a small entry held in memory.
func (a *archiveWriter) bytes(path string, body []byte, listed bool) error {
	if err := a.header(path, int64(len(body))); err != nil {
		return err
	}
	if _, err := a.tw.Write(body); err != nil {
		return fmt.Errorf("archive %s: %w", path, err)
	}
	if listed {
		sum := sha256.Sum256(body)
		a.entries = append(a.entries, ArchiveEntry{Path: path, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])})
	}
	return nil
}

// object streams a stored object into the archive under path, hashing it on the way.
func (a *archiveWriter) object(ctx context.Context, b storage.Bucket, key, path string) (ArchiveEntry, error) {
	rc, info, err := b.Get(ctx, key)
	if err != nil {
		return ArchiveEntry{}, fmt.Errorf("export %s: %w", key, err)
	}
	defer rc.Close()
	if err := a.header(path, info.Size); err != nil {
		return ArchiveEntry{}, err
	}
	w := &tarEntryWriter{tw: a.tw, h: sha256.New()}
	if _, err := io.Copy(w, rc); err != nil {
		return ArchiveEntry{}, fmt.Errorf("export %s: %w", key, err)
	}
	if w.n != info.Size {
		return ArchiveEntry{}, fmt.Errorf("export %s: read %d bytes, the store said %d", key, w.n, info.Size)
	}
	e := ArchiveEntry{Path: path, Size: w.n, SHA256: hex.EncodeToString(w.h.Sum(nil))}
	a.entries = append(a.entries, e)
	return e, nil
}

// eachKey calls f for every key under prefix, in order, page by page.
func eachKey(ctx context.Context, b storage.Bucket, prefix string, f func(storage.ObjectInfo) error) error {
	start := ""
	for {
		objs, err := b.List(ctx, storage.ListOptions{Prefix: prefix, StartAfter: start, Limit: 1000})
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, o := range objs {
			start = o.Key
			if err := f(o); err != nil {
				return err
			}
		}
		if len(objs) < 1000 {
			return nil
		}
	}
}

// Export writes the node's own data to w as a signed archive (see the comment at the top of this file)
// and returns its manifest. It streams: no artifact, and not the archive, is ever held in memory. It
// may run while the node serves: versions and artifacts are immutable, so the archive holds every
// version committed before the export listed that record.
func (r *Repo) Export(ctx context.Context, w io.Writer, signer ArchiveSigner) (*Manifest, error) {
	now := r.now().UTC().Truncate(time.Second)
	m := &Manifest{
		Format: ArchiveFormat, Version: ArchiveVersion, Node: r.node, CreatedAt: now, Excluded: excludedDoc,
		Counts: ArchiveCounts{Records: map[Kind]int{}},
	}
	a := &archiveWriter{tw: tar.NewWriter(w), at: now}
	refs := map[string]ArtifactRef{} // every artifact any version references
	lastRecord := ""
	err := eachKey(ctx, r.bucket, "records/", func(o storage.ObjectInfo) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		sm := archiveVersionRe.FindStringSubmatch(o.Key)
		if sm == nil {
			return nil // head.json: rebuilt on import
		}
		kind, id := Kind(sm[1]), sm[2]
		body, err := readSmall(ctx, r.bucket, o.Key, maxArchiveJSON)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		var doc struct {
			Materials []ArtifactRef `json:"materials"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return fmt.Errorf("export: decode %s: %w", o.Key, err)
		}
		for _, ref := range doc.Materials {
			if _, ok := refs[ref.SHA256]; !ok && ValidSHA256(ref.SHA256) {
				refs[ref.SHA256] = ref
			}
		}
		if err := a.bytes(o.Key, body, true); err != nil {
			return err
		}
		m.Counts.Versions++
		if rk := string(kind) + "/" + id; rk != lastRecord {
			lastRecord = rk
			m.Counts.Records[kind]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, prefix := range []string{"node/results/", "node/audit/results/", "node/measures/", "node/audit/measures/"} {
		err := eachKey(ctx, r.bucket, prefix, func(o storage.ObjectInfo) error {
			if !archiveResultsRe.MatchString(o.Key) && !archiveAuditRe.MatchString(o.Key) &&
				!archiveMeasuresRe.MatchString(o.Key) && !archiveMeasureAuditRe.MatchString(o.Key) {
				r.logger.Warn("export: skipping an object with an unexpected name", "key", o.Key)
				return nil
			}
			if _, err := a.object(ctx, r.bucket, o.Key, o.Key); err != nil {
				return err
			}
			m.Counts.Results++
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sums := make([]string, 0, len(refs))
	for s := range refs {
		sums = append(sums, s)
	}
	sort.Strings(sums)
	for _, sum := range sums {
		loc, _, err := r.artifactObject(ctx, sum)
		if err != nil {
			return nil, fmt.Errorf("export: artifact %s: %w", sum, err)
		}
		e, err := a.object(ctx, r.bucket, loc, ArtifactKey(sum))
		if err != nil {
			return nil, err
		}
		if e.SHA256 != sum {
			return nil, fmt.Errorf("export: the stored artifact %s does not match its hash (%s): the store is damaged", sum, e.SHA256)
		}
		a.entries[len(a.entries)-1].MediaType = refs[sum].MediaType
		m.Counts.Artifacts++
		m.Counts.ArtifactBytes += e.Size
	}
	ident, err := json.Marshal(r.node)
	if err != nil {
		return nil, err
	}
	if err := a.bytes(archiveIdentity, ident, true); err != nil {
		return nil, err
	}
	jwks, err := signer.PublicKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("export: public keys: %w", err)
	}
	if err := a.bytes(archiveJWKS, jwks, true); err != nil {
		return nil, err
	}
	m.Entries = a.entries
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export: encode manifest: %w", err)
	}
	sig, err := signer.Sign(ctx, manifest)
	if err != nil {
		return nil, fmt.Errorf("export: sign manifest: %w", err)
	}
	if err := a.bytes(archiveManifest, manifest, false); err != nil {
		return nil, err
	}
	if err := a.bytes(archiveSignature, sig, false); err != nil {
		return nil, err
	}
	if err := a.tw.Close(); err != nil {
		return nil, fmt.Errorf("export: finish archive: %w", err)
	}
	return m, nil
}

func readSmall(ctx context.Context, b storage.Bucket, key string, limit int64) ([]byte, error) {
	rc, _, err := b.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("read %s: over %d bytes", key, limit)
	}
	return body, nil
}

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrArchiveRefused}, args...)...)
}

// archiveKind classifies an entry name; "" for a name an archive may not hold.
func archiveKind(name string) string {
	switch {
	case name == archiveManifest, name == archiveSignature, name == archiveIdentity, name == archiveJWKS:
		return name
	case archiveVersionRe.MatchString(name):
		return "version"
	case archiveResultsRe.MatchString(name), archiveAuditRe.MatchString(name),
		archiveMeasuresRe.MatchString(name), archiveMeasureAuditRe.MatchString(name):
		return "results"
	case archiveArtRe.MatchString(name):
		return "artifact"
	}
	return ""
}

// VerifyArchive reads the whole archive once and checks it without writing anything: every entry is
// one the format allows, appears once, and has the size and SHA-256 the manifest lists; the manifest
// lists nothing that is missing; and the signature over the manifest verifies. It returns the manifest.
func VerifyArchive(ctx context.Context, open ArchiveSource, verify ArchiveVerifier) (*Manifest, error) {
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("open archive: %w", err)
	}
	defer rc.Close()
	type seen struct {
		size int64
		sum  string
	}
	got := map[string]seen{}
	var manifest, sig, jwks, ident []byte
	tr := tar.NewReader(rc)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, refused("not a readable tar archive: %v", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, refused("entry %q is not a regular file", hdr.Name)
		}
		kind := archiveKind(hdr.Name)
		if kind == "" {
			return nil, refused("unexpected entry %q", hdr.Name)
		}
		if _, dup := got[hdr.Name]; dup {
			return nil, refused("entry %q appears twice", hdr.Name)
		}
		h := sha256.New()
		var small *[]byte
		limit := int64(-1)
		switch kind {
		case archiveManifest:
			small, limit = &manifest, maxArchiveManifest
		case archiveSignature:
			small, limit = &sig, maxArchiveSmall
		case archiveJWKS:
			small, limit = &jwks, maxArchiveSmall
		case archiveIdentity:
			small, limit = &ident, maxArchiveSmall
		case "version", "results":
			limit = maxArchiveJSON
		}
		if limit >= 0 && hdr.Size > limit {
			return nil, refused("entry %q is %d bytes, over the limit of %d", hdr.Name, hdr.Size, limit)
		}
		var n int64
		if small != nil {
			*small, err = io.ReadAll(tr)
			h.Write(*small)
			n = int64(len(*small))
		} else {
			n, err = io.Copy(h, tr)
		}
		if err != nil {
			return nil, refused("read entry %q: %v", hdr.Name, err)
		}
		got[hdr.Name] = seen{n, hex.EncodeToString(h.Sum(nil))}
	}
	switch {
	case manifest == nil:
		return nil, refused("no %s: this is not a node archive", archiveManifest)
	case sig == nil:
		return nil, refused("no %s: the archive is not signed", archiveSignature)
	case jwks == nil:
		return nil, refused("no %s: the signature cannot be checked", archiveJWKS)
	}
	// The signature first: until it verifies, nothing the manifest says is believed.
	if err := verify(manifest, sig, jwks); err != nil {
		return nil, refused("the signature over %s does not verify (the manifest or its signature was changed): %v", archiveManifest, err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(manifest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, refused("decode %s: %v", archiveManifest, err)
	}
	if m.Format != ArchiveFormat || m.Version != ArchiveVersion {
		return nil, refused("format %q version %d; this software reads %q version %d", m.Format, m.Version, ArchiveFormat, ArchiveVersion)
	}
	listed := map[string]bool{}
	versions := 0
	for _, e := range m.Entries {
		if listed[e.Path] {
			return nil, refused("the manifest lists %q twice", e.Path)
		}
		listed[e.Path] = true
		kind := archiveKind(e.Path)
		if kind == "" || kind == archiveManifest || kind == archiveSignature {
			return nil, refused("the manifest lists an entry the format does not allow: %q", e.Path)
		}
		s, ok := got[e.Path]
		if !ok {
			return nil, refused("entry %q is listed in the manifest but missing from the archive", e.Path)
		}
		if s.size != e.Size || s.sum != e.SHA256 {
			return nil, refused("entry %q does not match the manifest (SHA-256 %s, %d bytes; manifest says %s, %d bytes): it was changed after the archive was signed",
				e.Path, s.sum, s.size, e.SHA256, e.Size)
		}
		if kind == "artifact" && e.Path != ArtifactKey(e.SHA256) {
			return nil, refused("artifact %q is not stored under its own hash", e.Path)
		}
		if kind == "version" {
			versions++
		}
	}
	for name := range got {
		if name != archiveManifest && name != archiveSignature && !listed[name] {
			return nil, refused("entry %q is not listed in the manifest", name)
		}
	}
	if !listed[archiveIdentity] || !listed[archiveJWKS] {
		return nil, refused("the manifest does not list %s and %s", archiveIdentity, archiveJWKS)
	}
	var id Node
	if err := json.Unmarshal(ident, &id); err != nil || id != m.Node {
		return nil, refused("%s does not name the manifest's node", archiveIdentity)
	}
	if versions != m.Counts.Versions {
		return nil, refused("the manifest counts %d versions but lists %d", m.Counts.Versions, versions)
	}
	return &m, nil
}

// districtPrefixes hold a node's own data: an import target must have nothing under them.
var districtPrefixes = []string{"records/", "log/", "mirror/", "artifacts/sha256/", "node/results/", "node/measures/", "node/audit/"}

// checkEmpty refuses a store that already holds district data.
func checkEmpty(ctx context.Context, b storage.Bucket) error {
	for _, p := range districtPrefixes {
		objs, err := b.List(ctx, storage.ListOptions{Prefix: p, Limit: 1})
		if err != nil {
			return fmt.Errorf("check the target store: %w", err)
		}
		if len(objs) > 0 {
			return fmt.Errorf("%w: it holds %s (import only into a new node, with an empty data folder or bucket)", ErrNotEmpty, objs[0].Key)
		}
	}
	return nil
}

// ImportArchive restores an archive into the store b of a new node: it refuses a store that holds
// district data, verifies the whole archive (VerifyArchive) and that it was made by node — the same
// node.url and node.id — before it writes anything, then opens the repository and writes every version
// through the write order of the package doc (so heads, change-log entries and reference markers
// follow, and the search index and peers' feeds see every record), every artifact and every results
// document. Entries are re-hashed as they are written, so a file changed between the two reads is
// refused too (what was written before is intact, authentic data; start again with an empty store).
func ImportArchive(ctx context.Context, b storage.Bucket, node Node, open ArchiveSource, verify ArchiveVerifier, opts Options) (*Manifest, error) {
	if err := checkEmpty(ctx, b); err != nil {
		return nil, err
	}
	m, err := VerifyArchive(ctx, open, verify)
	if err != nil {
		return nil, err
	}
	if m.Node != node {
		return nil, refused("it was made by node %q at %s, but this node is %q at %s: set node.id and node.url to the archive's (records carry that URL as their origin, and peers know the node by it)",
			m.Node.ID, m.Node.URL, node.ID, node.URL)
	}
	r, err := Open(ctx, b, node, opts)
	if err != nil {
		return nil, err
	}
	listed := make(map[string]ArchiveEntry, len(m.Entries))
	for _, e := range m.Entries {
		listed[e.Path] = e
	}
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("open archive: %w", err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	written := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("import: read archive: %w", err)
		}
		e, ok := listed[hdr.Name]
		if !ok {
			continue // manifest.json, manifest.jws
		}
		switch archiveKind(hdr.Name) {
		case "version", "results":
			body, err := io.ReadAll(io.LimitReader(tr, maxArchiveJSON+1))
			if err != nil {
				return nil, fmt.Errorf("import %s: %w", hdr.Name, err)
			}
			if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != e.SHA256 {
				return nil, refused("entry %q changed while it was imported", hdr.Name)
			}
			if archiveKind(hdr.Name) == "version" {
				sm := archiveVersionRe.FindStringSubmatch(hdr.Name)
				v, _ := strconv.Atoi(sm[3])
				if err := r.ImportVersion(ctx, Kind(sm[1]), sm[2], v, body); err != nil {
					return nil, err
				}
				written++
				continue
			}
			if err := r.importObject(ctx, hdr.Name, body); err != nil {
				return nil, err
			}
		case "artifact":
			if err := r.ImportArtifact(ctx, e.SHA256, e.Size, e.MediaType, tr); err != nil {
				return nil, err
			}
		}
	}
	if written != m.Counts.Versions {
		return nil, fmt.Errorf("import: wrote %d versions of the %d the manifest lists", written, m.Counts.Versions)
	}
	if _, err := r.RebuildListIndex(ctx); err != nil {
		return nil, fmt.Errorf("import: list index: %w", err)
	}
	return m, nil
}

// importObject writes a results document with a create-only put; the same bytes already there are fine.
func (r *Repo) importObject(ctx context.Context, key string, body []byte) error {
	_, err := r.bucket.Put(ctx, key, bytes.NewReader(body), int64(len(body)), storage.PutOptions{IfNoneMatch: true, ContentType: "application/json"})
	if errors.Is(err, storage.ErrConflict) {
		held, rerr := readSmall(ctx, r.bucket, key, maxArchiveJSON)
		if rerr == nil && bytes.Equal(held, body) {
			return nil
		}
		return fmt.Errorf("import %s: another object is already stored there", key)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", key, err)
	}
	return nil
}

// ImportVersion stores one version of a local record exactly as body holds it (the bytes another node
// of the same identity committed), keeping its id and version. It goes through the package's write
// order — reference markers, intent, create-only version put, head swap (forward only), log append,
// intent delete — so the indexer and the federation feed follow as for any other write, and a crash
// leaves what the reconciler finishes. Versions of one record may come in any order. The version is
// not validated again: it was valid when its node committed it, and rules may have changed since.
func (r *Repo) ImportVersion(ctx context.Context, kind Kind, id string, version int, body []byte) error {
	if !kind.Valid() || !validID(id) || version < 1 {
		return fmt.Errorf("import %s %s v%d: not a record key", kind, id, version)
	}
	rec := NewRecord(kind)
	if err := json.Unmarshal(body, rec); err != nil {
		return fmt.Errorf("import %s %s v%d: decode: %w", kind, id, version, err)
	}
	m := rec.RecordMeta()
	switch {
	case m.ID != id || m.Kind != kind || m.Version != version:
		return fmt.Errorf("import %s %s v%d: the record inside says %s %s v%d", kind, id, version, m.Kind, m.ID, m.Version)
	case m.Origin != r.node.URL || m.URI != r.URI(kind, id):
		return fmt.Errorf("import %s %s v%d: origin %s is not this node (%s)", kind, id, version, m.Origin, r.node.URL)
	}
	if err := r.NoteReferences(ctx, r.node.ID, rec); err != nil {
		return err
	}
	if pr, ok := rec.(*Practice); ok {
		for _, ref := range pr.Materials {
			if !ValidSHA256(ref.SHA256) {
				continue
			}
			if err := putJSON(ctx, r.bucket, artifactRefKey(ref.SHA256, kind, id), ref, storage.PutOptions{}); err != nil {
				return err
			}
		}
	}
	intent := intentKey(kind, id, version)
	if err := putJSON(ctx, r.bucket, intent, map[string]any{"at": r.now().UTC(), "import": true}, storage.PutOptions{}); err != nil {
		return err
	}
	_, err := r.bucket.Put(ctx, versionKey(kind, id, version), bytes.NewReader(body), int64(len(body)),
		storage.PutOptions{IfNoneMatch: true, ContentType: "application/json"})
	if errors.Is(err, storage.ErrConflict) {
		held, rerr := readSmall(ctx, r.bucket, versionKey(kind, id, version), maxArchiveJSON)
		if rerr != nil || !bytes.Equal(held, body) {
			_ = r.bucket.Delete(ctx, intent)
			return fmt.Errorf("import %s %s v%d: %w: a different version is already stored", kind, id, version, ErrStale)
		}
		// The same bytes: an import that was interrupted and run again. Finish the rest.
	} else if err != nil {
		return fmt.Errorf("import %s %s v%d: %w", kind, id, version, err)
	}
	// Versions come in any order, so this may not become the head: the import ends with a rebuild
	// of the listing index that removes the entries of states no head shows.
	if err := r.putListEntry(ctx, m); err != nil {
		return err
	}
	if err := r.advanceHead(ctx, rec, body, ""); err != nil {
		return err
	}
	op := "put"
	if m.Status == StatusDeleted {
		op = "delete"
	}
	if _, err := r.AppendLog(ctx, LogEntry{Kind: kind, ID: id, Origin: r.node.URL, Version: version, Op: op}); err != nil {
		return err
	}
	if err := r.bucket.Delete(ctx, intent); err != nil {
		r.logger.Warn("delete write intent", "key", intent, "err", err)
	}
	return nil
}

// ImportArtifact streams an artifact into the store under its SHA-256 and size, which it checks while
// streaming: nothing is visible under artifacts/sha256/ unless every byte matched.
func (r *Repo) ImportArtifact(ctx context.Context, sum string, size int64, mediaType string, body io.Reader) error {
	if !ValidSHA256(sum) {
		return fmt.Errorf("import artifact: %q is not a SHA-256", sum)
	}
	if mediaType == "" {
		mediaType = "application/octet-stream"
	}
	src := &countingHasher{r: body, h: sha256.New(), max: size}
	tmp := "artifacts/tmp/" + uuid.NewString()
	defer func() { _ = r.bucket.Delete(context.WithoutCancel(ctx), tmp) }()
	if _, err := r.bucket.Put(ctx, tmp, src, -1, storage.PutOptions{ContentType: mediaType, MaxSize: size}); err != nil {
		if errors.Is(err, errArtifactTooLarge) || errors.Is(err, storage.ErrTooLarge) {
			return refused("artifact %s is larger than the %d bytes the manifest lists", sum, size)
		}
		return fmt.Errorf("import artifact %s: %w", sum, err)
	}
	if got := hex.EncodeToString(src.h.Sum(nil)); got != sum || src.n != size {
		return refused("artifact %s changed while it was imported (SHA-256 %s, %d bytes)", sum, got, src.n)
	}
	if _, err := r.ArtifactStored(ctx, sum); errors.Is(err, ErrNotFound) {
		if _, err := r.bucket.Copy(ctx, tmp, ArtifactKey(sum), storage.PutOptions{ContentType: mediaType}); err != nil {
			return fmt.Errorf("import artifact %s: %w", sum, err)
		}
	} else if err != nil {
		return fmt.Errorf("import artifact %s: %w", sum, err)
	}
	return nil
}
