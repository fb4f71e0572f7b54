package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/s3"
	"github.com/brightspots-nic/brightspots/storage/s3/miniotest"
)

// TestStoreOutages pauses a real MinIO (SIGSTOP: it accepts connections and answers nothing) and
// then stops it (connections refused). During each outage every call through WithDeadlines ends
// with an error wrapping storage.ErrUnavailable instead of hanging; afterwards the store works
// again, nothing written before is lost, and a put that failed during the outage left either
// nothing or the whole object, never part of one.
func TestStoreOutages(t *testing.T) {
	if testing.Short() {
		t.Skip("needs MinIO")
	}
	srv := miniotest.Start(t)
	ctx := context.Background()
	raw, err := s3.Open(ctx, srv.Config(srv.NewBucketName()))
	if err != nil {
		t.Fatal(err)
	}
	b := storage.WithDeadlines(raw, storage.Deadlines{Stall: 2 * time.Second})
	before := bytes.Repeat([]byte("kept "), 1000)
	if _, err := b.Put(ctx, "kept", bytes.NewReader(before), int64(len(before)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	during := bytes.Repeat([]byte("during "), 1000)

	calls := map[string]func() error{
		"stat": func() error { _, err := b.Stat(ctx, "kept"); return err },
		"list": func() error { _, err := b.List(ctx, storage.ListOptions{Prefix: "k"}); return err },
		"get": func() error {
			rc, _, err := b.Get(ctx, "kept")
			if err == nil {
				_, err = io.ReadAll(rc)
				rc.Close()
			}
			return err
		},
		"create-only put": func() error {
			_, err := b.Put(ctx, "during", bytes.NewReader(during), int64(len(during)), storage.PutOptions{IfNoneMatch: true})
			return err
		},
		"delete": func() error { return b.Delete(ctx, "other") },
	}
	outage := func(name string) {
		for call, f := range calls {
			start := time.Now()
			err := f()
			t.Logf("%s during %s: %v after %v", call, name, err, time.Since(start))
			if !errors.Is(err, storage.ErrUnavailable) {
				t.Errorf("%s during %s: %v, want an error wrapping storage.ErrUnavailable", call, name, err)
			}
		}
	}
	after := func(name string) {
		rc, _, err := b.Get(ctx, "kept")
		if err != nil {
			t.Fatalf("after %s: %v", name, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, before) {
			t.Errorf("after %s: object written before changed (%d bytes)", name, len(got))
		}
		rc, _, err = b.Get(ctx, "during")
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			t.Errorf("after %s: get the put made during it: %v", name, err)
		default:
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, during) {
				t.Errorf("after %s: the put made during it is half-written (%d of %d bytes)", name, len(got), len(during))
			}
		}
	}

	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	outage("a pause")
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	after("a pause")

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	outage("a stop")
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	after("a stop")
	if _, err := b.Put(ctx, "later", strings.NewReader("x"), 1, storage.PutOptions{}); err != nil {
		t.Fatalf("put after the outages: %v", err)
	}
}
