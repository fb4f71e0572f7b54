package bleve_test

import (
	"path/filepath"
	"testing"

	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/search/bleve"
	"github.com/brightspots-nic/brightspots/search/searchtest"
)

func TestContract(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) search.Index {
		idx, err := bleve.Open(bleve.Config{Dir: filepath.Join(t.TempDir(), "search")})
		if err != nil {
			t.Fatal(err)
		}
		return idx
	})
}
