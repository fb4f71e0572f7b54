package web

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
	"github.com/brightspots-nic/brightspots/storage/s3"
)

// OpenBucket opens the object store cfg names.
func OpenBucket(ctx context.Context, cfg Config) (storage.Bucket, error) {
	switch cfg.Storage.Kind {
	case "s3":
		c := cfg.Storage.S3
		b, err := s3.Open(ctx, s3.Config{
			Endpoint: c.Endpoint, Bucket: c.Bucket, AccessKey: c.AccessKey, SecretKey: c.SecretKey,
			Region: c.Region, TLS: c.TLS, Prefix: c.Prefix,
		})
		if err != nil {
			return nil, fmt.Errorf("storage.s3: %w", err)
		}
		return b, nil
	default:
		b, err := fs.Open(filepath.Join(cfg.DataDir, "store"))
		if err != nil {
			return nil, fmt.Errorf("data_dir: %w", err)
		}
		return b, nil
	}
}
