package fs_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
)

// The node wraps its store in storage.WithDeadlines; resumable uploads and artifact landing find
// the store's optional abilities by type assertion, so the wrapper must keep them, and they must
// still work through it.
func TestDeadlinesKeepTheStoresAbilities(t *testing.T) {
	raw, err := fs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := storage.WithDeadlines(raw, storage.Deadlines{})
	mp, ok := b.(storage.Multipart)
	if !ok {
		t.Fatal("the bounded local store does not offer multipart uploads")
	}
	l, ok := b.(storage.Linker)
	if !ok {
		t.Fatal("the bounded local store does not offer links")
	}
	ctx := context.Background()
	id, err := mp.CreateMultipart(ctx, "blobs/a", "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	part, err := mp.PutPart(ctx, "blobs/a", id, 1, 0, bytes.NewReader([]byte("hello")), 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mp.CompleteMultipart(ctx, "blobs/a", id, []storage.Part{part}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Link(ctx, "blobs/a", "linked/a"); err != nil {
		t.Fatal(err)
	}
	rc, _, err := b.Get(ctx, "linked/a")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "hello" {
		t.Fatalf("linked object holds %q, want %q", got, "hello")
	}
}
