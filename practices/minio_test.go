package practices_test

import (
	"testing"

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
