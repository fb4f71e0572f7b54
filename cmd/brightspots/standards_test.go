package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices/standards"
	"github.com/brightspots-nic/brightspots/storage/fs"
)

func TestStandardsImportCommand(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	sample := filepath.Join("..", "..", "practices", "standards", "testdata", "sample-case.json")

	// A bad package: refused, the item named, nothing stored.
	raw, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(raw), `"humanCodingScheme": "4.NF.A.2"`, `"humanCodingScheme": "4.NF.A.1"`, 1)
	badFile := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(badFile, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = run(ctx, []string{"standards", "import", "--data", data, badFile}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), `code "4.NF.A.1"`) || !strings.Contains(err.Error(), "repeats the humanCodingScheme") || !strings.Contains(err.Error(), "nothing was imported") {
		t.Fatalf("bad package: %v", err)
	}
	bucket, err := fs.Open(filepath.Join(data, "store"))
	if err != nil {
		t.Fatal(err)
	}
	if items, err := standards.NewCatalog(bucket).Items(ctx); err != nil || len(items) != 0 {
		t.Fatalf("after a refused import the catalog holds %d items (%v)", len(items), err)
	}

	out.Reset()
	if err := run(ctx, []string{"standards", "import", "--data", data, sample}, &out, &errOut); err != nil {
		t.Fatalf("import: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), `imported "Sample District Mathematics Standards (test framework)": 8 items (7 with a code`) {
		t.Errorf("output %q", out.String())
	}
	if items, err := standards.NewCatalog(bucket).Items(ctx); err != nil || len(items) != 7 {
		t.Fatalf("catalog holds %d items (%v)", len(items), err)
	}
}
