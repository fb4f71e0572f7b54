package web

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

// FuzzDecodeRecord: whatever a client sends, decoding either succeeds or yields a 4xx problem that
// names a field — never a panic, never a 500.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"title":"x","team":"math-4"}`))
	f.Add([]byte(`{"title":7}`))
	f.Add([]byte(`{"colour":"red"}`))
	f.Add([]byte(`{"key_moves":"one"}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`{"title":"x",`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, k := range practices.Kinds {
			err := decodeJSONReader(bytes.NewReader(data), practices.NewRecord(k))
			if err == nil {
				continue
			}
			var p *Problem
			if !errors.As(err, &p) {
				t.Fatalf("decode error is not a problem: %v", err)
			}
			if p.Status < 400 || p.Status >= 500 || len(p.Errors) == 0 || p.Errors[0].Field == "" {
				t.Fatalf("bad problem for %q: %+v", data, p)
			}
			if p.Status != http.StatusBadRequest {
				t.Fatalf("status %d", p.Status)
			}
		}
	})
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-9", "bytes=-5", "bytes=5-", "bytes=9-1", "bytes=a-b", "bytes=0-1,4-5", "items=1-2"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		off, n, ok := parseRange(h, size)
		if !ok || n < 0 {
			return
		}
		if off < 0 || off+n > size || n == 0 {
			t.Fatalf("parseRange(%q, %d) = %d,%d outside the file", h, size, off, n)
		}
	})
}
