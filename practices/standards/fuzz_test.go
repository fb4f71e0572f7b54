package standards

import (
	"os"
	"strings"
	"testing"
)

// FuzzParseCASE: any bytes either parse into a framework whose items are unique and complete, or are
// refused with an ImportError; never a panic.
func FuzzParseCASE(f *testing.F) {
	if data, err := os.ReadFile("testdata/sample-case.json"); err == nil {
		f.Add(string(data))
	}
	f.Add(`{"CFDocument":{"identifier":"d","uri":"https://x.example/d","title":"T"},"CFItems":[{"identifier":"a","uri":"https://x.example/a","fullStatement":"S","humanCodingScheme":"1.A"}]}`)
	f.Add(`{"CFDocument":null}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		fw, err := ParseCASE(strings.NewReader(s))
		if err != nil {
			if _, ok := err.(*ImportError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		ids := map[string]bool{}
		for _, it := range fw.Items {
			if it.Identifier == "" || it.URI == "" || it.Statement == "" || ids[it.Identifier] {
				t.Fatalf("accepted item %+v", it)
			}
			ids[it.Identifier] = true
		}
	})
}
