//go:build unix

package bleve_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/brightspots-nic/brightspots/search/bleve"
)

// A second process opening the index a running node holds (the reindex command beside the node) is
// refused with a clear error, instead of waiting forever on the index's own file lock; once the
// node closes the index it opens.
func TestSecondOpenIsRefusedClearly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "search")
	node, err := bleve.Open(bleve.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bleve.Open(bleve.Config{Dir: dir})
	if !errors.Is(err, bleve.ErrInUse) {
		t.Fatalf("second open of an index in use: %v, want ErrInUse", err)
	}
	if err := node.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := bleve.Open(bleve.Config{Dir: dir})
	if err != nil {
		t.Fatalf("open after the node closed it: %v", err)
	}
	again.Close()
}
