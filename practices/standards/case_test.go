package standards

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/fs"
)

func sample(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("testdata/sample-case.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg map[string]any
	if err := json.Unmarshal(data, &pkg); err != nil {
		t.Fatal(err)
	}
	return pkg
}

func encode(t *testing.T, pkg map[string]any) *strings.Reader {
	b, err := json.Marshal(pkg)
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReader(string(b))
}

func TestImportSampleAndLookup(t *testing.T) {
	ctx := context.Background()
	b, err := fs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/sample-case.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fw, err := ParseCASE(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(fw.Items) != 8 || fw.Title != "Sample District Mathematics Standards (test framework)" {
		t.Fatalf("framework %q with %d items", fw.Title, len(fw.Items))
	}
	c := NewCatalog(b)
	if err := c.Import(ctx, fw); err != nil {
		t.Fatal(err)
	}
	// Another process's catalog (the server) sees the import.
	other := NewCatalog(b)
	items, err := other.Items(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 7 || items[0].Code != "3.OA.A.1" || items[0].Framework != fw.Title {
		t.Fatalf("items %+v", items)
	}
	for _, key := range []string{"4.nf.a.2", "4.NF.A.2", "https://case.example.org/uri/2241d10d-3a45-559e-9ec3-32cc439a5006"} {
		it, ok, err := other.Lookup(ctx, key)
		if err != nil || !ok || it.Code != "4.NF.A.2" || it.Identifier != "2241d10d-3a45-559e-9ec3-32cc439a5006" || !strings.HasPrefix(it.Statement, "Compare two fractions") {
			t.Errorf("lookup %q: %+v %v %v", key, it, ok, err)
		}
	}
	if _, ok, _ := other.Lookup(ctx, "CCSS.MATH.CONTENT.4.NF.A.2"); ok {
		t.Error("a code not in the framework was found")
	}
	// Importing the same framework again replaces it (one object), not a second copy.
	if err := c.Import(ctx, fw); err != nil {
		t.Fatal(err)
	}
	if objs, err := b.List(ctx, storage.ListOptions{Prefix: prefix}); err != nil || len(objs) != 1 {
		t.Errorf("after a re-import the store holds %d frameworks (%v), want 1", len(objs), err)
	}
}

func TestBadPackagesAreRefusedNamingTheItem(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(pkg map[string]any) any
		item   string
		rule   string
	}{
		{"not JSON", func(map[string]any) any { return "{not json" }, "package", "is not JSON"},
		{"no document", func(p map[string]any) any { delete(p, "CFDocument"); return p }, "CFDocument", "is missing"},
		{"duplicate identifier", func(p map[string]any) any {
			items := p["CFItems"].([]any)
			items[3].(map[string]any)["identifier"] = items[1].(map[string]any)["identifier"]
			return p
		}, `CFItems[3] (identifier "`, "repeats the identifier of CFItems[1]"},
		{"duplicate code", func(p map[string]any) any {
			p["CFItems"].([]any)[4].(map[string]any)["humanCodingScheme"] = "4.nf.a.1"
			return p
		}, `code "4.nf.a.1"`, "repeats the humanCodingScheme of CFItems[1]"},
		{"no statement", func(p map[string]any) any {
			delete(p["CFItems"].([]any)[2].(map[string]any), "fullStatement")
			return p
		}, `CFItems[2]`, "fullStatement is required"},
		{"bad uri", func(p map[string]any) any {
			p["CFItems"].([]any)[5].(map[string]any)["uri"] = "urn:x"
			return p
		}, `CFItems[5]`, "uri must be an absolute http(s) URL"},
		{"wrong type", func(p map[string]any) any { p["CFItems"] = "many"; return p }, "package", "CFItems must be"},
		{"too many items", func(p map[string]any) any {
			var many []any
			for i := 0; i <= MaxItems; i++ {
				many = append(many, map[string]any{"identifier": "x", "uri": "https://a.example/x", "fullStatement": "s"})
			}
			p["CFItems"] = many
			return p
		}, "CFItems", "at most 50000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r *strings.Reader
			switch v := c.mutate(sample(t)).(type) {
			case string:
				r = strings.NewReader(v)
			case map[string]any:
				r = encode(t, v)
			}
			_, err := ParseCASE(r)
			var ie *ImportError
			if !errors.As(err, &ie) || !strings.Contains(ie.Item, c.item) || !strings.Contains(ie.Rule, c.rule) {
				t.Fatalf("error %v, want item %q and rule %q", err, c.item, c.rule)
			}
		})
	}
}
