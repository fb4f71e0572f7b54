package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/storagetest"
)

func newBucket(t testing.TB) *Bucket {
	t.Helper()
	b, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestContract(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) storage.Bucket {
		b := newBucket(t)
		t.Cleanup(func() { assertNoTemps(t, b) })
		return b
	})
	storagetest.RunMultipart(t, func(t *testing.T) storage.Bucket { return newBucket(t) })
}

// assertNoTemps checks that every put, failed or not, cleaned up after itself.
func assertNoTemps(t *testing.T, b *Bucket) {
	t.Helper()
	names, err := os.ReadDir(b.tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		t.Errorf("temporary file left behind: %s", n.Name())
	}
}

func TestLayout(t *testing.T) {
	t.Parallel()
	b := newBucket(t)
	for key, want := range map[string]string{
		"records/practice/p1/head.json": "records%/practice%/p1%/head.json",
		"a%b/.c":                        "a%25b%/%2Ec",
		".tmp":                          "%2Etmp",
		"x%":                            "x%25",
	} {
		if _, err := b.Put(t.Context(), key, strings.NewReader("x"), 1, storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(b.dir, filepath.FromSlash(want))); err != nil {
			t.Errorf("key %q: want file %s: %v", key, want, err)
		}
	}
}

func TestOpenClearsStaleTemps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(t.Context(), "kept", strings.NewReader("x"), 1, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// A crash mid-put leaves a temporary file; it must not be listed, and once it is old it is removed.
	if err := os.WriteFile(filepath.Join(dir, tmpDir, "put-123"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	list, err := b.List(t.Context(), storage.ListOptions{})
	if err != nil || len(list) != 1 || list[0].Key != "kept" {
		t.Fatalf("List = %+v, %v; want only kept", list, err)
	}
	b2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, tmpDir, "put-123")); err != nil {
		t.Fatalf("Open removed a fresh temporary file (it may be another process's put in flight): %v", err)
	}
	// A day later it is a leftover (the inode change time cannot be set back, so move the cutoff).
	if err := b2.removeStaleTemps(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	assertNoTemps(t, b2)
	if _, err := b2.Stat(t.Context(), "kept"); err != nil {
		t.Fatalf("object lost across Open: %v", err)
	}
}

// TestOpenBesideAPutInFlight opens the folder a second time (as a command run beside a running node
// does) while a put is streaming into it: the put must still succeed. Open used to delete .tmp.
func TestOpenBesideAPutInFlight(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	node, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := node.Put(t.Context(), "records/practice/p/v1.json", pr, -1, storage.PutOptions{IfNoneMatch: true})
		done <- err
	}()
	if _, err := pw.Write([]byte("half of ")); err != nil { // the put has its temporary file now
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	pw.Write([]byte("the body"))
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("put in flight while another process opened the folder: %v", err)
	}
	rc, _, err := node.Get(t.Context(), "records/practice/p/v1.json")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); string(got) != "half of the body" {
		t.Fatalf("stored %q", got)
	}
}

func TestStrayFilesNotListed(t *testing.T) {
	t.Parallel()
	b := newBucket(t)
	if _, err := b.Put(t.Context(), "a/b", strings.NewReader("x"), 1, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// Files no key maps to (an editor's backup, a name with a bad escape) are not keys.
	for _, name := range []string{".DS_Store", "a%/.b.swp", "bad%2", "a%/%ZZ"} {
		if err := os.WriteFile(filepath.Join(b.dir, filepath.FromSlash(name)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	list, err := b.List(t.Context(), storage.ListOptions{})
	if err != nil || len(list) != 1 || list[0].Key != "a/b" {
		t.Fatalf("List = %+v, %v; want only a/b", list, err)
	}
}

func TestFailedPutLeavesNoTemp(t *testing.T) {
	t.Parallel()
	b := newBucket(t)
	ctx := t.Context()
	_, err := b.Put(ctx, "x", io.MultiReader(strings.NewReader("abc"), errReader{}), -1, storage.PutOptions{})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Put with a failing body: %v, want the body's error", err)
	}
	_, err = b.Put(ctx, "x", strings.NewReader("abcdef"), -1, storage.PutOptions{MaxSize: 3})
	if !errors.Is(err, storage.ErrTooLarge) {
		t.Fatalf("Put over MaxSize: %v", err)
	}
	assertNoTemps(t, b)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestPutRacesDeletePruning(t *testing.T) {
	t.Parallel()
	b := newBucket(t)
	ctx := context.Background()
	// Deleting the last key in a folder prunes it; a put into that folder at the same time must
	// still succeed.
	done := make(chan error)
	go func() {
		for i := range 200 {
			if err := b.Delete(ctx, fmt.Sprintf("p/q/del%d", i)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := range 200 {
		if _, err := b.Put(ctx, fmt.Sprintf("p/q/put%d", i), strings.NewReader("x"), 1, storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := b.Delete(ctx, fmt.Sprintf("p/q/put%d", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Put(ctx, fmt.Sprintf("p/q/del%d", i), strings.NewReader("x"), 1, storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestETagUniqueAcrossReplaces(t *testing.T) {
	t.Parallel()
	b := newBucket(t)
	// The same bytes put again are a new object with a new ETag, even if the inode is reused.
	seen := map[string]bool{}
	for range 200 {
		oi, err := b.Put(t.Context(), "k", strings.NewReader("same"), 4, storage.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if seen[oi.ETag] {
			t.Fatalf("ETag %s repeated", oi.ETag)
		}
		seen[oi.ETag] = true
	}
}

func FuzzKey(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../x", "a/../../b", ".tmp", ".tmp/x", "%", "%2E", "a%/b", "x\x00", `a\b`, "/etc/passwd", "a//b", "é/%25"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		rel, err := relPath(key)
		if err != nil {
			if storage.CheckKey(key) == nil && !strings.Contains(err.Error(), "longer than") {
				t.Fatalf("valid key %q rejected: %v", key, err)
			}
			return
		}
		if storage.CheckKey(key) != nil {
			t.Fatalf("invalid key %q mapped to %q", key, rel)
		}
		// The path stays inside the bucket, out of .tmp, and maps back to exactly this key.
		if !filepath.IsLocal(filepath.FromSlash(rel)) || rel != filepath.ToSlash(filepath.Clean(rel)) {
			t.Fatalf("key %q maps to %q, which is not a clean local path", key, rel)
		}
		if strings.HasPrefix(rel, ".") {
			t.Fatalf("key %q maps to hidden or temporary path %q", key, rel)
		}
		var back []string
		segs := strings.Split(rel, "/")
		for i, name := range segs {
			e, ok := parseName(name)
			if !ok {
				t.Fatalf("key %q: name %q does not parse back", key, name)
			}
			if e.isDir != (i < len(segs)-1) {
				t.Fatalf("key %q: name %q has the wrong kind", key, name)
			}
			back = append(back, strings.TrimSuffix(e.seg, "/"))
		}
		if got := strings.Join(back, "/"); got != key {
			t.Fatalf("key %q maps to %q, which maps back to %q", key, rel, got)
		}
	})
}
