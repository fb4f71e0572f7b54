package s3_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/s3"
	"github.com/brightspots-nic/brightspots/storage/s3/miniotest"
	"github.com/brightspots-nic/brightspots/storage/storagetest"
)

func TestContract(t *testing.T) {
	t.Parallel()
	srv := miniotest.Start(t)
	storagetest.Run(t, func(t *testing.T) storage.Bucket {
		b := srv.NewBucket(t)
		t.Cleanup(func() { assertNoUploads(t, b) })
		return b
	})
	storagetest.RunMultipart(t, func(t *testing.T) storage.Bucket {
		b := srv.NewBucket(t)
		t.Cleanup(func() { assertNoUploads(t, b) })
		return b
	})
}

// assertNoUploads checks that no multipart upload was left behind: every failed put aborted its own.
func assertNoUploads(t *testing.T, b *s3.Bucket) {
	t.Helper()
	for _, k := range incompleteUploads(t, b) {
		t.Errorf("multipart upload of %q left behind", k)
	}
}

// incompleteUploads lists the keys of unfinished multipart uploads in b. (MinIO lists them for the
// empty prefix or a whole key, not for a folder prefix.)
func incompleteUploads(t *testing.T, b *s3.Bucket) []string {
	t.Helper()
	var keys []string
	for u := range b.Client().ListIncompleteUploads(context.Background(), b.Name(), "", true) {
		if u.Err != nil {
			t.Fatalf("list incomplete uploads: %v", u.Err)
		}
		keys = append(keys, u.Key)
	}
	return keys
}

// TestIncompleteUploadsSeen makes sure assertNoUploads would see an upload left behind.
func TestIncompleteUploadsSeen(t *testing.T) {
	t.Parallel()
	srv := miniotest.Start(t)
	b := srv.NewBucket(t)
	core := minio.Core{Client: b.Client()}
	if _, err := core.NewMultipartUpload(t.Context(), b.Name(), "dir/left", minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := incompleteUploads(t, b); len(got) != 1 || got[0] != "dir/left" {
		t.Fatalf("incomplete uploads = %q, want [dir/left]", got)
	}
}

func TestContractWithPrefix(t *testing.T) {
	t.Parallel()
	srv := miniotest.Start(t)
	storagetest.Run(t, func(t *testing.T) storage.Bucket {
		cfg := srv.Config(srv.NewBucketName())
		cfg.Prefix = "node-a/"
		cfg.PartSize = 5 << 20
		b, err := s3.Open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		// Another node's objects in the same bucket must be invisible.
		cfg.Prefix = "node-b/"
		other, err := s3.Open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Put(t.Context(), "a", strings.NewReader("other node"), 10, storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		return b
	})
}

// TestConditionalLarge checks conditional puts of bodies bigger than a part, of known and unknown
// size. They are sent as single PUTs (see the package doc), which the store checks atomically.
func TestConditionalLarge(t *testing.T) {
	t.Parallel()
	srv := miniotest.Start(t)
	b := srv.NewBucket(t)
	ctx := t.Context()
	const size = 12 << 20 // more than two 5 MiB parts
	body := func() io.Reader { return io.LimitReader(zeros{}, size) }

	first, err := b.Put(ctx, "big", body(), -1, storage.PutOptions{IfNoneMatch: true})
	if err != nil {
		t.Fatal(err)
	}
	if first.Size != size || strings.Contains(first.ETag, "-") {
		t.Fatalf("create-only put = %+v; want %d bytes sent as a single PUT (no multipart ETag)", first, size)
	}
	for _, size := range []int64{size, -1} {
		_, err = b.Put(ctx, "big", body(), size, storage.PutOptions{IfNoneMatch: true})
		if !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("create-only put (size %d) over an existing key: %v, want ErrConflict", size, err)
		}
		_, err = b.Put(ctx, "big", body(), size, storage.PutOptions{IfMatch: "0123456789abcdef0123456789abcdef"})
		if !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("put (size %d) with a wrong If-Match: %v, want ErrConflict", size, err)
		}
	}
	second, err := b.Put(ctx, "big", body(), size, storage.PutOptions{IfMatch: first.ETag, MaxSize: size})
	if err != nil {
		t.Fatalf("compare-and-swap with the right ETag: %v", err)
	}
	if st, err := b.Stat(ctx, "big"); err != nil || st.ETag != second.ETag || st.Size != size {
		t.Fatalf("Stat = %+v, %v; want ETag %q", st, err, second.ETag)
	}
	_, err = b.Put(ctx, "big", body(), -1, storage.PutOptions{IfMatch: second.ETag, MaxSize: size - 1})
	if !errors.Is(err, storage.ErrTooLarge) {
		t.Fatalf("conditional put over MaxSize: %v, want ErrTooLarge", err)
	}
	assertNoUploads(t, b)
}

// TestConditionalLargeRace: create-only puts of bodies bigger than a part race; exactly one wins.
// (Sent as multipart uploads, MinIO let every racer win.)
func TestConditionalLargeRace(t *testing.T) {
	t.Parallel()
	srv := miniotest.Start(t)
	b := srv.NewBucket(t)
	const n, size = 4, 11 << 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			sz := int64(size)
			if i%2 == 1 {
				sz = -1
			}
			_, err := b.Put(context.Background(), "race", io.LimitReader(constReader(byte('a'+i)), size), sz,
				storage.PutOptions{IfNoneMatch: true})
			errs <- err
		}()
	}
	wins := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, storage.ErrConflict):
			t.Errorf("racer: %v, want ErrConflict", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d racers won, want 1", wins)
	}
	assertNoUploads(t, b)
}

func TestCopyInParts(t *testing.T) {
	t.Parallel()
	srv := miniotest.Start(t)
	b := srv.NewBucket(t)
	s3.SetMaxSingleCopy(b, 5<<20)
	ctx := t.Context()
	const size = 12 << 20
	if _, err := b.Put(ctx, "src", io.LimitReader(constReader('s'), size), size, storage.PutOptions{ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	oi, err := b.Copy(ctx, "src", "dst", storage.PutOptions{})
	if err != nil {
		t.Fatalf("Copy in parts: %v", err)
	}
	st, err := b.Stat(ctx, "dst")
	if err != nil || st.Size != size || st.ETag != oi.ETag || st.ContentType != "text/plain" {
		t.Fatalf("Stat(dst) = %+v, %v; want %d bytes of text/plain with ETag %q", st, err, size, oi.ETag)
	}
	if _, err := b.Copy(ctx, "src", "dst", storage.PutOptions{IfNoneMatch: true}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("create-only Copy of a large object onto an existing key: %v, want ErrConflict", err)
	}
	if _, err := b.Copy(ctx, "src", "dst2", storage.PutOptions{IfNoneMatch: true}); err != nil {
		t.Fatalf("create-only Copy of a large object: %v", err)
	}
	assertNoUploads(t, b)
}

func TestOpen(t *testing.T) {
	t.Parallel()
	srv := miniotest.Start(t)
	cfg := srv.Config(srv.NewBucketName())
	for range 2 { // creates the bucket, then finds it
		if _, err := s3.Open(t.Context(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	for name, mod := range map[string]func(*s3.Config){
		"bad prefix":     func(c *s3.Config) { c.Prefix = "/abs" },
		"tiny part size": func(c *s3.Config) { c.PartSize = 1 << 20 },
		"wrong secret":   func(c *s3.Config) { c.SecretKey = "wrong" },
		"no bucket":      func(c *s3.Config) { c.Bucket = "" },
	} {
		c := cfg
		mod(&c)
		if _, err := s3.Open(t.Context(), c); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

func TestNotFoundKeepsCause(t *testing.T) {
	t.Parallel()
	srv := miniotest.Start(t)
	b := srv.NewBucket(t)
	_, err := b.Stat(t.Context(), "missing")
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat: %v", err)
	}
	var resp minio.ErrorResponse
	if !errors.As(err, &resp) {
		t.Fatalf("Stat error %v does not keep minio's response", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("%q", "missing")) {
		t.Errorf("error %q does not name the key", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type constReader byte

func (c constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}
