package practices_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"

	"github.com/brightspots-nic/brightspots/storage/s3"
	"github.com/brightspots-nic/brightspots/storage/s3/miniotest"
)

// TestConcurrentPublishesOnMinIO: 8 writers × 50 publishes against a real MinIO, over two Repo
// instances sharing the bucket, leave exactly 400 change-log entries: no gap, no duplicate, none lost.
func TestConcurrentPublishesOnMinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("needs MinIO")
	}
	srv := miniotest.Start(t)
	checkConcurrentPublishes(t, srv.NewBucket(t), 8, 50)
}

// TestRacingWritersOnMinIO: two writers with the same ETag, exactly one wins, on real S3 semantics.
func TestRacingWritersOnMinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("needs MinIO")
	}
	srv := miniotest.Start(t)
	checkOneWriterWins(t, srv.NewBucket(t), 20)
}

// TestDeclaredDigestOnMinIO: a 12 MiB upload (three multipart parts on the test bucket) streams
// straight to its content-addressed key when its bytes match the declared digest, and leaves nothing
// — no object, no unfinished upload — when they do not.
func TestDeclaredDigestOnMinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("needs MinIO")
	}
	ctx := context.Background()
	b := miniotest.Start(t).NewBucket(t)
	r := openRepo(t, b)
	body := make([]byte, 12<<20)
	copy(body, "%PDF-1.7\n")
	for i := 9; i < len(body); i++ {
		body[i] = byte(i * 7)
	}
	sum := sha256.Sum256(body)
	hexSum := hex.EncodeToString(sum[:])

	bad := append([]byte{}, body...)
	bad[len(bad)-1] ^= 1
	if _, err := r.StoreArtifactDigest(ctx, "big.pdf", bytes.NewReader(bad), int64(len(bad)), hexSum, 64<<20); err == nil {
		t.Fatal("mismatched body accepted")
	}
	if _, err := b.Stat(ctx, practices.ArtifactKey(hexSum)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("mismatched body left an object: %v", err)
	}
	uploads := b.Client().ListIncompleteUploads(ctx, b.Name(), "", true)
	for u := range uploads {
		t.Fatalf("unfinished multipart upload left behind: %+v", u)
	}
	ref, err := r.StoreArtifactDigest(ctx, "big.pdf", bytes.NewReader(body), int64(len(body)), hexSum, 64<<20)
	if err != nil || ref.Size != int64(len(body)) {
		t.Fatalf("matching body: %v %+v", err, ref)
	}
	rc, _, err := b.Get(ctx, practices.ArtifactKey(hexSum))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body) {
		t.Fatal("stored bytes differ")
	}
}

// TestChangeLogRacingWritersOnMinIO: four writers (separate clients, as separate processes would
// be) append to one change log on a real MinIO as fast as they can. Whatever the store answers while
// puts of one entry race (412 exists, 409 write in flight), every Append returns a number whose
// predecessor already exists, no two return the same number, and the log ends gap-free with exactly
// one entry per Append.
func TestChangeLogRacingWritersOnMinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("needs MinIO")
	}
	srv := miniotest.Start(t)
	name := srv.NewBucketName()
	ctx := context.Background()
	const writers, each = 4, 60
	var (
		mu   sync.Mutex
		seen = map[uint64]string{}
		wg   sync.WaitGroup
	)
	for w := range writers {
		b, err := s3.Open(ctx, srv.Config(name))
		if err != nil {
			t.Fatal(err)
		}
		r := openRepo(t, b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				seq, err := r.AppendLog(ctx, practices.LogEntry{Kind: practices.KindPractice, ID: id, Origin: node.URL, Version: 1, Op: "put"})
				if err != nil {
					t.Errorf("append %s: %v", id, err)
					return
				}
				if seq > 1 {
					if _, err := b.Stat(ctx, fmt.Sprintf("log/%020d.json", seq-1)); err != nil {
						t.Errorf("append %s returned %d while entry %d is not there: %v", id, seq, seq-1, err)
					}
				}
				mu.Lock()
				if prev, dup := seen[seq]; dup {
					t.Errorf("entry %d returned to both %s and %s", seq, prev, id)
				}
				seen[seq] = id
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	b, err := s3.Open(ctx, srv.Config(name))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := openRepo(t, b).ReadLog(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != writers*each {
		t.Fatalf("%d log entries, want %d", len(entries), writers*each)
	}
	for i, e := range entries {
		if e.Seq != uint64(i+1) || seen[e.Seq] != e.ID {
			t.Fatalf("entry at %d is %d %s, Append returned %d to %s", i+1, e.Seq, e.ID, e.Seq, seen[e.Seq])
		}
	}
}

// TestListIndexOnMinIO: the listing index on real S3 semantics: lists read only the heads their
// caller may see, and follow withdrawals, republishing and deletion.
func TestListIndexOnMinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("needs MinIO")
	}
	checkListReads(t, miniotest.Start(t).NewBucket(t), 300)
}
