package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/brightspots-nic/brightspots/federation"
	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/search/bleve"
	"github.com/brightspots-nic/brightspots/search/meili"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
	"github.com/brightspots-nic/brightspots/storage/s3"
	"github.com/brightspots-nic/brightspots/web"
)

// The constructors of a node's parts, one each, so that a command opens only what it needs (the
// token command only the store; reindex the store, repository and index) and Open composes them.

// OpenBucket opens the object store cfg names, with every call bounded by storage.stall_timeout:
// a store that stops answering costs a request that long, then a 503, never a hang.
func OpenBucket(ctx context.Context, cfg Config) (storage.Bucket, error) {
	b, err := openBucket(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return storage.WithDeadlines(b, storage.Deadlines{Stall: cfg.Storage.StallTimeout}), nil
}

func openBucket(ctx context.Context, cfg Config) (storage.Bucket, error) {
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

// OpenRepo opens the repository in bucket as the node cfg names. Opening finishes any write a
// crash interrupted (only those abandoned for a minute when cfg.BesideRunningNode), and refuses a
// store that belongs to another node identity.
func OpenRepo(ctx context.Context, cfg Config, bucket storage.Bucket, logger *slog.Logger) (*practices.Repo, error) {
	repo, err := practices.Open(ctx, bucket, practices.Node{URL: cfg.Node.URL, ID: cfg.Node.ID},
		practices.Options{Logger: logger, MinimumN: cfg.Privacy.MinN, BesideRunningNode: cfg.BesideRunningNode})
	if err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	}
	return repo, nil
}

// OpenIndex opens the search index cfg names.
func OpenIndex(ctx context.Context, cfg Config) (search.Index, error) {
	syn, err := search.LoadSynonyms(cfg.Search.SynonymsFile)
	if err != nil {
		return nil, fmt.Errorf("search.synonyms_file: %w", err)
	}
	switch cfg.Search.Kind {
	case "meilisearch":
		mc := cfg.Search.Meilisearch
		mc.Synonyms = syn
		idx, err := meili.Open(ctx, mc)
		if err != nil {
			return nil, fmt.Errorf("search.meilisearch: %w", err)
		}
		return idx, nil
	default:
		idx, err := bleve.Open(bleve.Config{Dir: filepath.Join(cfg.DataDir, "search"), Synonyms: syn,
			CacheBytes: int64(cfg.Search.CacheMB) << 20})
		if err != nil {
			return nil, fmt.Errorf("search index in data_dir: %w", err)
		}
		return idx, nil
	}
}

// NewIndexer builds the indexer that keeps index in step with repo's change log. registry may be
// nil (no metrics).
func NewIndexer(cfg Config, repo *practices.Repo, index search.Index, bucket storage.Bucket, registry *prometheus.Registry, logger *slog.Logger) (*search.Indexer, error) {
	return search.NewIndexer(search.IndexerConfig{
		Source: repo, Index: index, Bucket: bucket, Evidence: search.PooledEvidence(repo, cfg.Privacy.MinN),
		Registry: registry, Logger: logger,
		// An embedded index is one per replica, each with its own cursor; Meilisearch is shared.
		CursorPerIndex: cfg.Search.Kind != "meilisearch",
	})
}

// OpenFederation builds the node's part in the network over repo: it loads (on first start,
// generates) the signing keys and binds each configured peer. It makes no network call. registry
// and logger may be nil.
func OpenFederation(ctx context.Context, cfg Config, repo *practices.Repo, registry *prometheus.Registry, logger *slog.Logger) (*federation.Member, error) {
	f, err := federation.New(ctx, cfg.Federation, repo, federation.Options{
		Logger: logger, Registry: registry, Software: "brightspots/" + web.Version,
	})
	if err != nil {
		return nil, fmt.Errorf("federation: %w", err)
	}
	return f, nil
}

// TakeHeldIdentity sets the node id and URL to those the store in bucket was first opened with, if
// any: for a command pointed at a data folder with no configuration, which should work on the node
// the folder holds rather than refuse it for not being the default node.
func (c *Config) TakeHeldIdentity(ctx context.Context, bucket storage.Bucket) error {
	held, err := practices.HeldIdentity(ctx, bucket)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	c.Node.ID, c.Node.URL = held.ID, held.URL
	return nil
}
