package harvest

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzParseArgs: any query string gets arguments that obey OAI-PMH's rules, or a protocol error.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{"verb=Identify", "verb=ListRecords&metadataPrefix=oai_dc&from=2026-01-01", "verb=ListRecords&resumptionToken=abc",
		"verb=GetRecord&identifier=oai:x:practice/1&metadataPrefix=lrmi", "%zz", "verb=Identify&verb=Identify", "verb=ListSets&resumptionToken="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		args, err := parseArgs(raw)
		if err != nil {
			if args != nil || err.code == "" || err.msg == "" {
				t.Fatalf("error %+v with args %v", err, args)
			}
			return
		}
		allowed, ok := verbArgs[args["verb"]]
		if !ok {
			t.Fatalf("accepted verb %q", args["verb"])
		}
		for k := range args {
			if _, ok := allowed[k]; !ok && k != "verb" {
				t.Fatalf("accepted argument %q for %s", k, args["verb"])
			}
		}
	})
}

// FuzzDecodeToken: nothing but a token this repository signed decodes, and decoding never panics.
func FuzzDecodeToken(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	good := encodeToken(key, token{Verb: "ListRecords", Prefix: "oai_dc", Set: "subject:math", From: 1, Until: maxTime, After: 42, Cursor: 200, Expires: now.Add(time.Hour).Unix()})
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add("e30.AAAA")
	f.Add("")
	f.Add(strings.Repeat("A", 2000))
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := decodeToken(key, s, now)
		if err != nil {
			return
		}
		if again := encodeToken(key, tok); again != s {
			t.Fatalf("decoded a token this key did not issue: %q (would be %q)", s, again)
		}
	})
}

// FuzzServeOAI: whatever a harvester sends, the answer is 200 with well-formed OAI-PMH XML.
func FuzzServeOAI(f *testing.F) {
	for _, s := range []string{"verb=Identify", "verb=ListRecords&metadataPrefix=oai_dc", "verb=ListIdentifiers&metadataPrefix=lrmi&set=subject:math&from=2026-03-02&until=2026-03-03",
		"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:riverside.example.org:practice/0190d0a4-9c4e-7c3a-8a51-1f2e3d4c5b6a",
		"verb=ListRecords&resumptionToken=x.y", "verb=ListSets", "verb=ListMetadataFormats&identifier=%00", "verb=ListRecords&metadataPrefix=oai_dc&set=%3C%26%22"} {
		f.Add(s)
	}
	fx := newFixture(f, 2)
	for _, title := range []string{"A", "B", "C"} {
		fx.publish(title, "public", []string{"math"}, []string{"04"})
	}
	f.Fuzz(func(t *testing.T, raw string) {
		req := httptest.NewRequest(http.MethodGet, "/oai", nil)
		req.URL.RawQuery = raw
		w := httptest.NewRecorder()
		fx.h.ServeOAI(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d for %q: %s", w.Code, raw, w.Body)
		}
		var doc struct {
			XMLName xml.Name `xml:"OAI-PMH"`
		}
		if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatalf("not XML for %q: %v\n%s", raw, err, w.Body)
		}
	})
}
