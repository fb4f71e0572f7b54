package practices_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// hashSigner "signs" with a bare SHA-256: enough to exercise the archive's structure here (the real
// JWS signer and verifier live in the command and are tested there).
type hashSigner struct{}

func (hashSigner) PublicKeys(context.Context) ([]byte, error) { return []byte(`{"keys":[]}`), nil }
func (hashSigner) Sign(_ context.Context, m []byte) ([]byte, error) {
	s := sha256.Sum256(m)
	return []byte(hex.EncodeToString(s[:])), nil
}

func hashVerify(m, sig, _ []byte) error {
	s := sha256.Sum256(m)
	if hex.EncodeToString(s[:]) != string(sig) {
		return errors.New("bad signature")
	}
	return nil
}

func fileSource(path string) practices.ArchiveSource {
	return func() (io.ReadCloser, error) { return os.Open(path) }
}

func TestArchiveRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := openRepo(t, newBucket(t))
	var ids []string
	for _, title := range []string{"Number line talks", "Estimation warm-ups"} {
		rec, err := src.Create(ctx, mathPLC, fullPractice(title))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.RecordMeta().ID)
	}
	blob := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 5000)...)
	ref, err := src.StoreArtifact(ctx, "plan.pdf", bytes.NewReader(blob), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.AttachArtifact(ctx, mathPLC, ids[0], ref); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Publish(ctx, mathPLC, practices.KindPractice, ids[0], 0); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a.tar")
	f, _ := os.Create(path)
	m, err := src.Export(ctx, f, hashSigner{})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if m.Counts.Records[practices.KindPractice] != 2 || m.Counts.Versions != 4 || m.Counts.Artifacts != 1 || m.Counts.ArtifactBytes != int64(len(blob)) {
		t.Fatalf("counts %+v", m.Counts)
	}

	dstBucket := newBucket(t)
	if _, err := practices.ImportArchive(ctx, dstBucket, practices.Node{URL: "http://other.test", ID: "riverside"}, fileSource(path), hashVerify, practices.Options{}); !errors.Is(err, practices.ErrArchiveRefused) {
		t.Fatalf("import under another URL: %v", err)
	}
	if objs, _ := dstBucket.List(ctx, storage.ListOptions{}); len(objs) != 0 {
		t.Fatalf("a refused import wrote %d objects", len(objs))
	}
	if _, err := practices.ImportArchive(ctx, dstBucket, node, fileSource(path), hashVerify, practices.Options{}); err != nil {
		t.Fatal(err)
	}
	dst := openRepo(t, dstBucket)
	for _, id := range ids {
		want, _ := src.Get(ctx, admin, practices.KindPractice, id)
		got, err := dst.Get(ctx, admin, practices.KindPractice, id)
		if err != nil || got.RecordMeta().Version != want.RecordMeta().Version || got.RecordMeta().Status != want.RecordMeta().Status {
			t.Fatalf("record %s after import: %+v, %v; want %+v", id, got, err, want)
		}
	}
	// The artifact reads back through the access check, so its reference marker was rebuilt.
	rc, _, err := dst.OpenArtifact(ctx, teacher, ref.SHA256, 0, -1)
	if err != nil {
		t.Fatalf("artifact after import: %v", err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, blob) {
		t.Fatal("artifact bytes differ")
	}
	// One log entry per version, so the indexer and the feed see every record.
	entries, err := dst.ReadLog(ctx, 0, 100)
	if err != nil || len(entries) != 4 {
		t.Fatalf("log after import: %d entries, %v", len(entries), err)
	}
	if _, err := practices.ImportArchive(ctx, dstBucket, node, fileSource(path), hashVerify, practices.Options{}); !errors.Is(err, practices.ErrNotEmpty) {
		t.Fatalf("second import: %v", err)
	}
}

// TestImportVersionRefusesForeignRecords: a version whose origin is another node, or whose content
// names another id or version than its key, is refused.
func TestImportVersionRefusesForeignRecords(t *testing.T) {
	ctx := context.Background()
	src := openRepo(t, newBucket(t))
	rec, err := src.Create(ctx, mathPLC, fullPractice("Number line talks"))
	if err != nil {
		t.Fatal(err)
	}
	id := rec.RecordMeta().ID
	rc, _, err := src.Bucket().Get(ctx, "records/practice/"+id+"/v00000001.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	rc.Close()
	other, err := practices.Open(ctx, newBucket(t), practices.Node{URL: "http://lakeview.test", ID: "lakeview"}, practices.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.ImportVersion(ctx, practices.KindPractice, id, 1, body); err == nil || !strings.Contains(err.Error(), "is not this node") {
		t.Fatalf("foreign origin: %v", err)
	}
	dst := openRepo(t, newBucket(t))
	if err := dst.ImportVersion(ctx, practices.KindPractice, id, 2, body); err == nil {
		t.Fatal("a version stored under another number was accepted")
	}
	if err := dst.ImportVersion(ctx, practices.KindPractice, id, 1, body); err != nil {
		t.Fatal(err)
	}
	// Importing the same bytes again (an interrupted import run again) is harmless.
	if err := dst.ImportVersion(ctx, practices.KindPractice, id, 1, body); err != nil {
		t.Fatalf("same version again: %v", err)
	}
	if _, err := dst.Get(ctx, admin, practices.KindPractice, id); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyArchiveRefusesUnsafeEntries: names outside the format (a path that climbs out, a symlink)
// are refused before anything is believed.
func TestVerifyArchiveRefusesUnsafeEntries(t *testing.T) {
	for _, tc := range []struct {
		name string
		hdr  tar.Header
	}{
		{"climbs out", tar.Header{Typeflag: tar.TypeReg, Name: "../etc/passwd", Size: 1}},
		{"symlink", tar.Header{Typeflag: tar.TypeSymlink, Name: "records/practice/x", Linkname: "/etc/passwd"}},
		{"other key", tar.Header{Typeflag: tar.TypeReg, Name: "node/keys/current.json", Size: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			hdr := tc.hdr
			tw.WriteHeader(&hdr)
			if hdr.Size > 0 {
				tw.Write([]byte("x"))
			}
			tw.Close()
			_, err := practices.VerifyArchive(context.Background(), func() (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
			}, hashVerify)
			if !errors.Is(err, practices.ErrArchiveRefused) {
				t.Fatalf("got %v", err)
			}
		})
	}
}
