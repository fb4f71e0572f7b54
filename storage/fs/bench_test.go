package fs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/brightspots-nic/brightspots/storage"
)

// BenchmarkListLog pages through a change log of 100,000 entries under log/, as the indexer and the
// federation feed do. The entries are written straight into the layout (without the fsyncs a Put
// does) so setting up takes seconds.
func BenchmarkListLog(b *testing.B) {
	const n = 100_000
	bk, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(bk.dir, "log%")
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%020d.json", i+1)), []byte("{}"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, at := range []int{0, n / 2, n - 1000} {
		b.Run(fmt.Sprintf("page1000at%d", at), func(b *testing.B) {
			after := ""
			if at > 0 {
				after = fmt.Sprintf("log/%020d.json", at)
			}
			for b.Loop() {
				page, err := bk.List(b.Context(), storage.ListOptions{Prefix: "log/", StartAfter: after, Limit: 1000})
				if err != nil || len(page) != 1000 {
					b.Fatalf("List = %d keys, %v", len(page), err)
				}
			}
		})
	}
}
