package practices_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/s3/miniotest"
)

// BenchmarkPublish measures publishes (one committed version, one log entry, one head swap each)
// on both backends, from one writer and from 8 concurrent writers.
//
//	go test -run XXX -bench Publish -benchtime 400x ./practices/
func BenchmarkPublish(b *testing.B) {
	backends := map[string]func(b *testing.B) storage.Bucket{
		"fs": func(b *testing.B) storage.Bucket { return newBucket(b) },
		"minio": func(b *testing.B) storage.Bucket {
			return miniotest.Start(b).NewBucket(b)
		},
	}
	for name, open := range backends {
		for _, writers := range []int{1, 8} {
			b.Run(name+"/writers="+string(rune('0'+writers)), func(b *testing.B) {
				ctx := context.Background()
				r := openRepo(b, open(b))
				ids := make([]string, b.N)
				for i := range ids {
					rec, err := r.Create(ctx, mathPLC, fullPractice("bench"))
					if err != nil {
						b.Fatal(err)
					}
					ids[i] = rec.RecordMeta().ID
				}
				var next atomic.Int64
				b.ResetTimer()
				b.SetParallelism(writers) // goroutines per GOMAXPROCS
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						id := ids[next.Add(1)-1]
						if _, err := r.Publish(ctx, mathPLC, practices.KindPractice, id, 1); err != nil {
							b.Error(err)
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "publishes/s")
			})
		}
	}
}
