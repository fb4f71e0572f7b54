package web

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
)

// OpenBucket opens the object store cfg names.
func OpenBucket(ctx context.Context, cfg Config) (storage.Bucket, error) {
	switch cfg.Storage.Kind {
	default:
		b, err := fs.Open(filepath.Join(cfg.DataDir, "store"))
		if err != nil {
			return nil, fmt.Errorf("data_dir: %w", err)
		}
		return b, nil
	}
}
