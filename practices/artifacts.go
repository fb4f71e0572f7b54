package practices

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/brightspots-nic/brightspots/storage"
)

// ArtifactError is a refused upload; Field and Rule say what was wrong ("file" / "too_large" …).
type ArtifactError struct {
	Field, Rule, Msg string
}

func (e *ArtifactError) Error() string { return e.Field + ": " + e.Msg }

// Media types an artifact may have. SVG and HTML are deliberately absent: they can carry script.
// CSV is absent too: score tables go through the results upload and its privacy checks, never into
// an artifact that would leave the district byte for byte.
var allowedMedia = map[string]bool{
	"application/pdf": true,
	"image/png":       true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"text/plain": true,
	"video/mp4":  true, "video/webm": true,
	"audio/mpeg": true, "audio/ogg": true, "audio/wave": true, "audio/mp4": true,
	"application/msword": true, "application/vnd.ms-excel": true, "application/vnd.ms-powerpoint": true,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   true,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         true,
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": true,
	"application/vnd.oasis.opendocument.text":                                   true,
	"application/vnd.oasis.opendocument.spreadsheet":                            true,
	"application/vnd.oasis.opendocument.presentation":                           true,
}

// Office formats are zip or OLE containers that content sniffing alone cannot tell apart; the file
// name's extension decides among the formats the container allows.
var zipOffice = map[string]string{
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".odt":  "application/vnd.oasis.opendocument.text",
	".ods":  "application/vnd.oasis.opendocument.spreadsheet",
	".odp":  "application/vnd.oasis.opendocument.presentation",
}
var oleOffice = map[string]string{
	".doc": "application/msword", ".xls": "application/vnd.ms-excel", ".ppt": "application/vnd.ms-powerpoint",
}

var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// SniffMedia decides an artifact's media type from its first bytes and, for office containers, its
// name. It never trusts a client-declared type.
func SniffMedia(name string, head []byte) string {
	ext := strings.ToLower(path.Ext(name))
	if len(head) >= 8 && string(head[:8]) == string(oleMagic) {
		if t, ok := oleOffice[ext]; ok {
			return t
		}
		return "application/x-ole-storage"
	}
	t := http.DetectContentType(head)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	switch t {
	case "application/zip":
		if z, ok := zipOffice[ext]; ok {
			return z
		}
	case "audio/wav":
		t = "audio/wave"
	}
	return t
}

var badNameChars = regexp.MustCompile(`[/\\:*?"<>|]`)

// CheckFileName refuses names that could escape a folder or confuse a download.
func CheckFileName(name string) error {
	switch {
	case name == "":
		return &ArtifactError{"name", "required", "a file name is required"}
	case !utf8.ValidString(name):
		return &ArtifactError{"name", "format", "the file name must be valid UTF-8"}
	case len(name) > 255:
		return &ArtifactError{"name", "max_length", "the file name must be at most 255 bytes"}
	case badNameChars.MatchString(name):
		return &ArtifactError{"name", "format", `the file name must not contain path separators or any of : * ? " < > |`}
	case name == "." || name == ".." || strings.HasPrefix(name, "."):
		return &ArtifactError{"name", "format", "the file name must not start with a dot"}
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == 0x7f {
			return &ArtifactError{"name", "format", "the file name must not contain control characters"}
		}
	}
	return nil
}

// checkNotAScoreTable refuses what looks like a table of student rows: a .csv or .tsv name, or a text
// file whose first lines are delimited like one. Score tables go through the results upload, where
// the privacy rules apply (strict columns, cell scan, minimum n); as an artifact the rows would leave
// the district byte for byte.
func checkNotAScoreTable(name, media string, head []byte) error {
	refuse := &ArtifactError{"file", "score_table",
		"this looks like a table of student rows; upload scores as results of a test (they are checked for privacy and only aggregates are kept), not as a material"}
	switch strings.ToLower(path.Ext(name)) {
	case ".csv", ".tsv", ".tab":
		return refuse
	}
	if media != "text/plain" {
		return nil
	}
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	if len(lines) > 0 && !strings.HasSuffix(string(head), "\n") && len(head) >= 512 {
		lines = lines[:len(lines)-1] // the last line may be cut off
	}
	for _, sep := range []string{",", "\t", ";", "|"} {
		cols, rows := -1, 0
		for _, l := range lines {
			if strings.TrimSpace(l) == "" {
				continue
			}
			n := strings.Count(l, sep)
			if n == 0 || (cols >= 0 && n != cols) {
				rows = -1
				break
			}
			cols, rows = n, rows+1
		}
		if rows >= 2 {
			return refuse
		}
	}
	return nil
}

// CheckArtifactHead decides an artifact's media type from its name and first bytes (up to 512) and
// refuses what an artifact may not be: a type not allowed, or a table of student rows.
func CheckArtifactHead(name string, head []byte) (string, error) {
	if err := CheckFileName(name); err != nil {
		return "", err
	}
	if len(head) == 0 {
		return "", &ArtifactError{"file", "empty", "the file is empty"}
	}
	media := SniffMedia(name, head)
	if !allowedMedia[media] {
		return "", &ArtifactError{"file", "media_type", fmt.Sprintf("files of type %s are not accepted; allowed are PDF, images, office documents, plain text, video and audio", media)}
	}
	if err := checkNotAScoreTable(name, media, head); err != nil {
		return "", err
	}
	return media, nil
}

// ValidSHA256 reports whether s is a lower-case hex SHA-256.
func ValidSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// ArtifactKey is where the bytes of an artifact live.
func ArtifactKey(sum string) string { return "artifacts/sha256/" + sum }

func artifactRefKey(sum string, kind Kind, id string) string {
	return "artifacts/refs/" + sum + "/" + string(kind) + "." + id
}

// Read-ahead of an upload's body while the store sends a part: 8 MiB, half a store part, which keeps
// a 1 GiB upload within 64 MiB of the node's idle memory.
const (
	readAheadBlock = 1 << 20
	readAheadDepth = 8
)

// countingHasher counts and hashes what passes through it, refusing more than max bytes.
type countingHasher struct {
	r   io.Reader
	h   hash.Hash
	n   int64
	max int64
}

var errArtifactTooLarge = errors.New("artifact too large")

func (c *countingHasher) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.h.Write(p[:n])
	if c.max > 0 && c.n > c.max {
		return n, errArtifactTooLarge
	}
	return n, err
}

// StoreArtifact streams body into the store under its SHA-256, computed here while streaming, and
// returns its reference. Nothing is visible under artifacts/sha256/ unless the whole body arrived and
// passed every check; the same bytes uploaded twice are stored once.
func (r *Repo) StoreArtifact(ctx context.Context, name string, body io.Reader, maxSize int64) (ArtifactRef, error) {
	if err := CheckFileName(name); err != nil {
		return ArtifactRef{}, err
	}
	br := bufio.NewReaderSize(body, 4096)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return ArtifactRef{}, fmt.Errorf("read upload: %w", err)
	}
	if len(head) == 0 {
		return ArtifactRef{}, &ArtifactError{"file", "empty", "the file is empty"}
	}
	media, err := CheckArtifactHead(name, head)
	if err != nil {
		return ArtifactRef{}, err
	}
	ahead := readAhead(br, readAheadBlock, readAheadDepth)
	defer ahead.Close()
	src := &countingHasher{r: ahead, h: sha256.New(), max: maxSize}
	// The bytes land at a fresh blob key, hashed on the way, and stay there (see LandArtifact): the
	// hash is known only at the end, and moving them under it would write them a second time.
	blob := NewArtifactBlobKey()
	oi, err := r.bucket.Put(ctx, blob, src, -1, storage.PutOptions{ContentType: media, MaxSize: maxSize})
	if err != nil {
		_ = r.bucket.Delete(context.WithoutCancel(ctx), blob)
		if errors.Is(err, errArtifactTooLarge) || errors.Is(err, storage.ErrTooLarge) {
			return ArtifactRef{}, &ArtifactError{"file", "too_large", fmt.Sprintf("the file is larger than the limit of %d bytes", maxSize)}
		}
		return ArtifactRef{}, fmt.Errorf("store upload: %w", err)
	}
	sum := hex.EncodeToString(src.h.Sum(nil))
	if err := r.LandArtifact(ctx, blob, sum, oi.Size); err != nil {
		_ = r.bucket.Delete(context.WithoutCancel(ctx), blob)
		return ArtifactRef{}, err
	}
	return ArtifactRef{SHA256: sum, Name: name, MediaType: media, Size: src.n}, nil
}

// AttachArtifact adds ref to a practice's materials (a new version). The reference marker is written
// first, so a record never points at an artifact the read check cannot find.
func (r *Repo) AttachArtifact(ctx context.Context, p Principal, id string, ref ArtifactRef) (Record, error) {
	if err := putJSON(ctx, r.bucket, artifactRefKey(ref.SHA256, KindPractice, id), ref, storage.PutOptions{}); err != nil {
		return nil, err
	}
	return r.Mutate(ctx, p, KindPractice, id, func(cur Record) error {
		pr := cur.(*Practice)
		if pr.Status == StatusWithdrawn {
			return &StateError{Msg: "a withdrawn practice cannot get new materials"}
		}
		for _, m := range pr.Materials {
			if m.SHA256 == ref.SHA256 {
				return nil // already attached: the new version changes nothing else
			}
		}
		if len(pr.Materials) >= 50 {
			return &ArtifactError{"file", "max_items", "a practice can have at most 50 materials"}
		}
		pr.Materials = append(pr.Materials, ref)
		return nil
	})
}

// OpenArtifact opens the bytes of an artifact for p if some record p may see references it, and
// returns the reference (name, media type) that record gives. ErrNotFound otherwise.
func (r *Repo) OpenArtifact(ctx context.Context, p Principal, sum string, offset, length int64) (io.ReadCloser, ArtifactRef, error) {
	ref, err := r.ArtifactVisibleTo(ctx, p, sum)
	if err != nil {
		return nil, ArtifactRef{}, err
	}
	rc, _, err := r.ArtifactBytes(ctx, sum, offset, length)
	return rc, ref, err
}

// ArtifactVisibleTo finds a record visible to p that references the artifact.
func (r *Repo) ArtifactVisibleTo(ctx context.Context, p Principal, sum string) (ArtifactRef, error) {
	if !ValidSHA256(sum) {
		return ArtifactRef{}, ErrNotFound
	}
	refs, err := r.bucket.List(ctx, storage.ListOptions{Prefix: "artifacts/refs/" + sum + "/", Limit: 100})
	if err != nil {
		return ArtifactRef{}, err
	}
	for _, o := range refs {
		name := path.Base(o.Key)
		kind, id, ok := strings.Cut(name, ".")
		if !ok {
			continue
		}
		rec, err := r.Get(ctx, p, Kind(kind), id)
		if err != nil {
			continue
		}
		if pr, ok := rec.(*Practice); ok {
			for _, m := range pr.Materials {
				if m.SHA256 == sum {
					return m, nil
				}
			}
		}
	}
	return ArtifactRef{}, ErrNotFound
}
