package web

import (
	"strings"
	"testing"
)

func TestParseETags(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // opaque tags joined by |, weak ones with W/; "*" for any; "error"
	}{
		{`*`, "*"},
		{`"3"`, "3"},
		{` "3" `, "3"},
		{`"stale-etag"`, "stale-etag"},
		{`"1", "2"`, "1|2"},
		{`"1",W/"2" ,, "3"`, "1|W/2|3"},
		{`W/"4"`, "W/4"},
		{`""`, ""},
		{`3`, "error"},
		{`"3`, "error"},
		{`"3" "4"`, "error"},
		{`W/3`, "error"},
		{`"a"b"`, "error"},
		{`,`, "error"},
		{`*, "3"`, "error"},
		{"\"a\x01\"", "error"},
	} {
		tags, any, err := parseETags(tc.in)
		var got string
		switch {
		case err != nil:
			got = "error"
		case any:
			got = "*"
		default:
			var parts []string
			for _, tg := range tags {
				p := tg.opaque
				if tg.weak {
					p = "W/" + p
				}
				parts = append(parts, p)
			}
			got = strings.Join(parts, "|")
		}
		if got != tc.want {
			t.Errorf("parseETags(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzParseETags: any header value parses or is refused without panicking, and every tag parsed is
// in the input, quoted, in order.
func FuzzParseETags(f *testing.F) {
	for _, s := range []string{`*`, `"3"`, `"1", W/"2"`, `"stale-etag"`, `,,"x",`, `W/`, `"`, "\"\x80\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tags, any, err := parseETags(h)
		if err != nil {
			return
		}
		if any {
			if strings.Trim(h, " \t") != "*" {
				t.Fatalf("%q parsed as *", h)
			}
			return
		}
		if len(tags) == 0 || len(tags) > 64 {
			t.Fatalf("%q: %d tags", h, len(tags))
		}
		rest := h
		for _, tg := range tags {
			q := `"` + tg.opaque + `"`
			if tg.weak {
				q = "W/" + q
			}
			i := strings.Index(rest, q)
			if i < 0 {
				t.Fatalf("%q: tag %s not in the input in order", h, q)
			}
			rest = rest[i+len(q):]
		}
	})
}
