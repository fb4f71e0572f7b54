package s3_test

import (
	"io"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/s3"
	"github.com/brightspots-nic/brightspots/storage/s3/miniotest"
)

const benchSize = 64 << 20

// BenchmarkPut puts 64 MiB objects through Bucket.Put and through minio-go's PutObject with the same
// part size, so the difference is the backend's own overhead. Compare B/op: Bucket.Put must not
// buffer more than one part.
func BenchmarkPut(b *testing.B) {
	srv := miniotest.Start(b)
	cfg := srv.Config(srv.NewBucketName())
	bk, err := s3.Open(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		put  func(r io.Reader, size int64) error
	}{
		{"Bucket.Put", func(r io.Reader, size int64) error {
			_, err := bk.Put(b.Context(), "bench", r, size, storage.PutOptions{})
			return err
		}},
		{"Bucket.Put/MaxSize", func(r io.Reader, size int64) error {
			_, err := bk.Put(b.Context(), "bench", r, size, storage.PutOptions{MaxSize: benchSize})
			return err
		}},
		{"Bucket.Put/IfNoneMatch", func(r io.Reader, size int64) error {
			if err := bk.Delete(b.Context(), "bench-cond"); err != nil {
				return err
			}
			_, err := bk.Put(b.Context(), "bench-cond", r, size, storage.PutOptions{IfNoneMatch: true})
			return err
		}},
		{"minio.PutObject", func(r io.Reader, size int64) error {
			_, err := bk.Client().PutObject(b.Context(), bk.Name(), "raw", r, size,
				minio.PutObjectOptions{PartSize: s3.DefaultPartSize})
			return err
		}},
	}
	for _, tc := range cases {
		for _, size := range []int64{benchSize, -1} {
			name := tc.name + "/known"
			if size < 0 {
				name = tc.name + "/unknown"
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(benchSize)
				b.ReportAllocs()
				for b.Loop() {
					if err := tc.put(io.LimitReader(zeroReader{}, benchSize), size); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
