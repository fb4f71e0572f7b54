package storagetest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/brightspots-nic/brightspots/storage"
)

// RunMultipart runs the contract of storage.Multipart (and storage.Linker, where implemented).
// newBucket returns a new, empty bucket that implements storage.Multipart.
func RunMultipart(t *testing.T, newBucket func(t *testing.T) storage.Bucket) {
	t.Run("Multipart", func(t *testing.T) {
		t.Parallel()
		b := newBucket(t)
		mp := b.(storage.Multipart)
		ctx := t.Context()
		ps := mp.MultipartPartSize()
		if ps < 5<<20 {
			t.Fatalf("part size %d is below S3's minimum", ps)
		}
		data := make([]byte, 2*ps+1234)
		for i := range data {
			data[i] = byte(i * 7)
		}
		id, err := mp.CreateMultipart(ctx, "big/obj", "video/mp4")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mp.PutPart(ctx, "big/obj", id, 1, 0, bytes.NewReader(make([]byte, ps)), ps); err != nil {
			t.Fatal(err)
		}
		// A part sent again replaces the first attempt.
		p1, err := mp.PutPart(ctx, "big/obj", id, 1, 0, bytes.NewReader(data[:ps]), ps)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := mp.PutPart(ctx, "big/obj", id, 2, ps, bytes.NewReader(data[ps:2*ps]), ps)
		if err != nil {
			t.Fatal(err)
		}
		p3, err := mp.PutPart(ctx, "big/obj", id, 3, 2*ps, bytes.NewReader(data[2*ps:]), int64(len(data))-2*ps)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Stat(ctx, "big/obj"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("visible before CompleteMultipart: %v", err)
		}
		oi, err := mp.CompleteMultipart(ctx, "big/obj", id, []storage.Part{p1, p2, p3})
		if err != nil {
			t.Fatal(err)
		}
		if oi.Size != int64(len(data)) {
			t.Fatalf("completed size %d, want %d", oi.Size, len(data))
		}
		got, st := get(t, b, "big/obj")
		if got != string(data) || st.ContentType != "video/mp4" {
			t.Fatalf("completed object: %d bytes, equal %v, type %q", len(got), got == string(data), st.ContentType)
		}
		// Completed: the upload is gone.
		if _, err := mp.PutPart(ctx, "big/obj", id, 4, int64(len(data)), bytes.NewReader([]byte("x")), 1); !errors.Is(err, storage.ErrNoSuchUpload) {
			t.Fatalf("PutPart after completion: %v, want ErrNoSuchUpload", err)
		}
		if _, err := mp.CompleteMultipart(ctx, "big/obj", id, []storage.Part{p1, p2, p3}); !errors.Is(err, storage.ErrNoSuchUpload) {
			t.Fatalf("CompleteMultipart again: %v, want ErrNoSuchUpload", err)
		}
	})
	t.Run("MultipartAbort", func(t *testing.T) {
		t.Parallel()
		b := newBucket(t)
		mp := b.(storage.Multipart)
		ctx := t.Context()
		id, err := mp.CreateMultipart(ctx, "gone", "")
		if err != nil {
			t.Fatal(err)
		}
		p, err := mp.PutPart(ctx, "gone", id, 1, 0, bytes.NewReader([]byte("some bytes")), 10)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mp.PutPart(ctx, "gone", id, 2, 10, bytes.NewReader([]byte("short")), 10); err == nil {
			t.Fatal("a part shorter than declared was stored")
		}
		if err := mp.AbortMultipart(ctx, "gone", id); err != nil {
			t.Fatal(err)
		}
		if err := mp.AbortMultipart(ctx, "gone", id); err != nil {
			t.Fatalf("second abort: %v", err)
		}
		if _, err := mp.CompleteMultipart(ctx, "gone", id, []storage.Part{p}); !errors.Is(err, storage.ErrNoSuchUpload) {
			t.Fatalf("complete after abort: %v, want ErrNoSuchUpload", err)
		}
		if _, err := b.Stat(ctx, "gone"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("an aborted upload is visible: %v", err)
		}
	})
	// Only a backend that can link has this part of the contract (S3 cannot; callers record where
	// the bytes are instead), so it is not run, rather than skipped, for the others.
	if _, ok := newBucket(t).(storage.Linker); ok {
		t.Run("Link", func(t *testing.T) {
			t.Parallel()
			b := newBucket(t)
			l := b.(storage.Linker)
			put(t, b, "a/src", "linked bytes", storage.PutOptions{ContentType: "text/plain"})
			if _, err := l.Link(t.Context(), "a/src", "b/dst"); err != nil {
				t.Fatal(err)
			}
			if err := b.Delete(t.Context(), "a/src"); err != nil {
				t.Fatal(err)
			}
			if got, _ := get(t, b, "b/dst"); got != "linked bytes" {
				t.Fatalf("link: %q", got)
			}
		})
	}
}
