package federation

import (
	"os"
	"strings"
	"testing"

	"github.com/brightspots-nic/brightspots/practices"
)

// FuzzParseDocument: no input makes the document checks panic, and whatever passes the form checks
// and the payload checks is a consistent document from the expected origin.
func FuzzParseDocument(f *testing.F) {
	for _, name := range []string{"signed-record.jws", "tombstone.jws"} {
		if b, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(strings.TrimSpace(string(b)))
		}
	}
	f.Add("a.b.c")
	f.Add(`{"payload":"e30","signatures":[]}`)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, raw string) {
		jws, err := ParseDocument(raw)
		if err != nil {
			return
		}
		if len(jws.Signatures) != 1 || jws.Signatures[0].Protected.KeyID == "" {
			t.Fatalf("accepted a document without exactly one kid-bearing signature")
		}
		d, rec, err := checkPayload(jws.UnsafePayloadWithoutVerification(), "https://nic.riverside.k12.example", "riverside")
		if err != nil {
			return
		}
		if d.Origin != "https://nic.riverside.k12.example" || !d.Kind.Valid() || d.Version < 1 {
			t.Fatalf("accepted %+v", d)
		}
		if d.Deleted != (rec == nil) {
			t.Fatalf("deleted=%v with record %v", d.Deleted, rec)
		}
		if rec != nil {
			m := rec.RecordMeta()
			if m.ID != d.ID || m.Kind != d.Kind || m.Origin != d.Origin || m.Status != practices.StatusPublished {
				t.Fatalf("record %+v inconsistent with document %+v", m, d)
			}
			if m.OriginID != "" && m.OriginID != "riverside" || m.URI != "" && m.URI != d.Origin+"/"+d.Kind.Plural()+"/"+d.ID {
				t.Fatalf("accepted a record naming another district: %+v", m)
			}
		}
	})
}

// FuzzParsePage: no input makes page parsing panic, and an accepted page respects the limits.
func FuzzParsePage(f *testing.F) {
	if b, err := os.ReadFile("testdata/feed-page.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"items":[],"next":"","more":false}`))
	f.Add([]byte(`{"items":[{"cursor":"x","jws":""}],"next":"n","more":true}`))
	f.Add([]byte(`{"items":null,"next":"n","more":true}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParsePage(body)
		if err != nil {
			return
		}
		if len(p.Items) > maxPageItems || (p.More && p.Next == "") {
			t.Fatalf("accepted %d items, more=%v next=%q", len(p.Items), p.More, p.Next)
		}
		for _, it := range p.Items {
			if it.JWS == "" || len(it.JWS) > maxJWSBytes {
				t.Fatalf("accepted an item of %d bytes", len(it.JWS))
			}
		}
	})
}

// FuzzCursor: cursors from peers' requests never panic and round-trip.
func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor(42))
	f.Add("")
	f.Add("YzE6LTE")
	f.Fuzz(func(t *testing.T, s string) {
		seq, err := decodeCursor(s)
		if err != nil || s == "" {
			return
		}
		if encodeCursor(seq) != s {
			t.Fatalf("cursor %q decodes to %d, which encodes to %q", s, seq, encodeCursor(seq))
		}
	})
}
