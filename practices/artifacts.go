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
	"slices"
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

// Media types an artifact may have, each with the file-name endings that may carry it: the type
// comes from the content and the name together, and both must agree. SVG and HTML are absent: they
// can carry script. CSV is absent too: score tables go through the results upload and its privacy
// checks, never into an artifact that would leave the district byte for byte. Spreadsheets (xlsx,
// ods, xls) are absent for the same reason: their cells can hold student rows this node cannot read.
var mediaExtensions = map[string][]string{
	"application/pdf": {".pdf"},
	"image/png":       {".png"}, "image/jpeg": {".jpg", ".jpeg"}, "image/gif": {".gif"}, "image/webp": {".webp"},
	"text/plain": {".txt", ".md", ".text"},
	"video/mp4":  {".mp4", ".m4v", ".m4a"}, "video/webm": {".webm"},
	"audio/mpeg": {".mp3"}, "audio/ogg": {".ogg", ".oga", ".opus"}, "audio/wave": {".wav"},
	"application/msword": {".doc"}, "application/vnd.ms-powerpoint": {".ppt"},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   {".docx"},
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": {".pptx"},
	"application/vnd.oasis.opendocument.text":                                   {".odt"},
	"application/vnd.oasis.opendocument.presentation":                           {".odp"},
}

// Office formats are zip or OLE containers that content sniffing alone cannot tell apart; the file
// name's extension decides among the formats the container allows.
var zipOffice = map[string]string{
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".odt":  "application/vnd.oasis.opendocument.text",
	".odp":  "application/vnd.oasis.opendocument.presentation",
}
var oleOffice = map[string]string{".doc": "application/msword", ".ppt": "application/vnd.ms-powerpoint"}

// spreadsheetExtensions are refused with their own message.
var spreadsheetExtensions = map[string]bool{".xlsx": true, ".xlsm": true, ".xlsb": true, ".xls": true, ".xlt": true,
	".xltx": true, ".ods": true, ".ots": true, ".fods": true, ".numbers": true}

// activeExtensions name files that run or render code when opened: refused whatever their bytes
// look like, with a message that says so.
var activeExtensions = map[string]bool{}

func init() {
	for _, e := range strings.Fields(`.html .htm .xhtml .shtml .mht .mhtml .svg .svgz .xml .xsl .xslt .js .mjs .cjs
		.jsx .ts .vbs .vbe .jse .wsf .wsh .wsc .hta .bat .cmd .com .exe .msi .msp .msix .appx .scr .pif .cpl .dll
		.sys .jar .class .ps1 .psm1 .psd1 .sh .bash .zsh .csh .ksh .command .app .apk .ipa .dmg .iso .img .vhd .vhdx
		.lnk .url .website .reg .inf .ins .isp .chm .hlp .swf .php .phtml .py .pyw .pl .rb .cgi .asp .aspx .jsp
		.desktop .appimage .deb .rpm .gadget .application .xbap .scf .docm .dotm .pptm .potm .ppsm .sldm .ics`) {
		activeExtensions[e] = true
	}
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

// CheckMedia decides whether an artifact named name whose content sniffs as media may be stored and
// offered for download: its name must not end in an active or executable extension, it must not be
// a spreadsheet, its type must be one of the accepted ones and the name's extension must be one that
// type is known by. Uploads are checked with it, and so are mirrored references before their bytes
// are served.
func CheckMedia(name, media string) error {
	ext := strings.ToLower(path.Ext(name))
	switch {
	case activeExtensions[ext]:
		return &ArtifactError{"file", "media_type", fmt.Sprintf("files ending in %s are not accepted: they can run code when opened. Save the material as PDF, an image, an office document or plain text", ext)}
	case spreadsheetExtensions[ext]:
		return &ArtifactError{"file", "media_type", "spreadsheets are not accepted as materials: they can hold rows of student data this check cannot read. Save the material as PDF, or upload scores as results of a test"}
	}
	exts, ok := mediaExtensions[media]
	if !ok {
		return &ArtifactError{"file", "media_type", fmt.Sprintf("files of type %s are not accepted; allowed are PDF, images, office documents, plain text, video and audio", media)}
	}
	if !slices.Contains(exts, ext) {
		return &ArtifactError{"file", "media_type", fmt.Sprintf("the file's content is %s, so its name must end in %s", media, strings.Join(exts, " or "))}
	}
	return nil
}

// CheckArtifactRef checks a reference as a record carries it (a mirrored record's, before its bytes
// are served): a SHA-256, a positive size, and a name and media type CheckFileName and CheckMedia accept.
func CheckArtifactRef(ref ArtifactRef) error {
	if !ValidSHA256(ref.SHA256) {
		return &ArtifactError{"sha256", "format", "must be a lower-case hex SHA-256"}
	}
	if ref.Size <= 0 {
		return &ArtifactError{"size", "range", "must be positive"}
	}
	if err := CheckFileName(ref.Name); err != nil {
		return err
	}
	return CheckMedia(ref.Name, ref.MediaType)
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
		// Bidirectional controls (U+202E shows "gpj.exe" as "exe.jpg"), zero-width and other
		// format characters, and line or paragraph separators change how a name reads.
		if unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) {
			return &ArtifactError{"name", "format", fmt.Sprintf("the file name must not contain invisible formatting characters (U+%04X)", r)}
		}
	}
	return nil
}

// errScoreTable refuses what looks like a table of student rows as a material.
func errScoreTable() error {
	return &ArtifactError{"file", "score_table",
		"this looks like a table of student rows; upload scores as results of a test (they are checked for privacy and only aggregates are kept), not as a material"}
}

// checkMaterial runs every check a material's name and first bytes allow (the file name, the media
// type from name and content, a table's file name) and returns the body to store: for plain text,
// one that scans the whole file for a table of student rows as it streams and fails the read that
// finds one (tablescan.go). size is the body's length when known, else -1.
func checkMaterial(name, media string, body io.Reader, size int64) (io.Reader, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".csv", ".tsv", ".tab":
		return nil, errScoreTable()
	}
	if err := CheckMedia(name, media); err != nil {
		return nil, err
	}
	if media != "text/plain" {
		return body, nil
	}
	return &scanningReader{r: body, size: size}, nil
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
	if _, err := checkMaterial(name, media, nil, -1); err != nil {
		return "", err
	}
	if media == "text/plain" {
		// Only the head is at hand here; StoreArtifact and StoreArtifactDigest scan the whole file.
		var s tableScanner
		_, _ = s.Write(head)
		if s.found {
			return "", errScoreTable()
		}
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
	scanned, err := checkMaterial(name, media, src, -1) // plain text: scanned whole for a table as it streams
	if err != nil {
		return ArtifactRef{}, err
	}
	// The bytes land at a fresh blob key, hashed on the way, and stay there (see LandArtifact): the
	// hash is known only at the end, and moving them under it would write them a second time.
	blob := NewArtifactBlobKey()
	oi, err := r.bucket.Put(ctx, blob, scanned, -1, storage.PutOptions{ContentType: media, MaxSize: maxSize})
	if err != nil {
		_ = r.bucket.Delete(context.WithoutCancel(ctx), blob)
		var ae *ArtifactError
		if errors.As(err, &ae) {
			return ArtifactRef{}, ae
		}
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
