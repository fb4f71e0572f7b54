package search

import (
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends r as JSON, byte for byte what encoding/json writes for it (HTML characters
// escaped, map keys sorted, omitempty honoured), without reflection: the API encodes every search
// result, and the reflective encoder was most of the API's cost over the index itself.
// A float that JSON cannot hold (NaN, ±Inf) is written as null rather than failing the response.
func (r *Result) AppendJSON(b []byte) []byte {
	b = append(b, `{"hits":`...)
	if r.Hits == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Hits {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Hits[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	b = append(b, `,"facets":`...)
	if r.Facets == nil {
		b = append(b, "null"...)
	} else {
		names := make([]string, 0, len(r.Facets))
		for k := range r.Facets {
			names = append(names, k)
		}
		slices.Sort(names)
		b = append(b, '{')
		for i, k := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			vals := r.Facets[k]
			if vals == nil {
				b = append(b, "null"...)
				continue
			}
			b = append(b, '[')
			for j, v := range vals {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"value":`...)
				b = appendString(b, v.Value)
				b = append(b, `,"count":`...)
				b = strconv.AppendInt(b, int64(v.Count), 10)
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(r.Total), 10)
	b = append(b, `,"page":`...)
	b = strconv.AppendInt(b, int64(r.Page), 10)
	b = append(b, `,"per_page":`...)
	b = strconv.AppendInt(b, int64(r.PerPage), 10)
	b = append(b, `,"took_ms":`...)
	b = strconv.AppendInt(b, r.TookMS, 10)
	return append(b, '}')
}

func (h *Hit) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, h.ID)
	b = append(b, `,"kind":`...)
	b = appendString(b, string(h.Kind))
	b = append(b, `,"record_id":`...)
	b = appendString(b, h.RecordID)
	if h.URI != "" {
		b = append(b, `,"uri":`...)
		b = appendString(b, h.URI)
	}
	b = append(b, `,"origin":`...)
	b = appendString(b, h.Origin)
	b = append(b, `,"district":`...)
	b = appendString(b, h.District)
	b = append(b, `,"title":`...)
	b = appendString(b, h.Title)
	if h.Summary != "" {
		b = append(b, `,"summary":`...)
		b = appendString(b, h.Summary)
	}
	b = append(b, `,"title_html":`...)
	b = appendString(b, string(h.TitleHTML))
	if h.SummaryHTML != "" {
		b = append(b, `,"summary_html":`...)
		b = appendString(b, string(h.SummaryHTML))
	}
	if h.LearningHTML != "" {
		b = append(b, `,"learning_html":`...)
		b = appendString(b, string(h.LearningHTML))
	}
	if len(h.Subjects) > 0 {
		b = append(b, `,"subjects":`...)
		b = appendStrings(b, h.Subjects)
	}
	if len(h.GradeLevels) > 0 {
		b = append(b, `,"grade_levels":`...)
		b = appendStrings(b, h.GradeLevels)
	}
	if h.EvidenceLevel != "" {
		b = append(b, `,"evidence_level":`...)
		b = appendString(b, h.EvidenceLevel)
	}
	if h.PooledEffect != nil {
		b = append(b, `,"pooled_effect":`...)
		b = appendFloat(b, *h.PooledEffect)
	}
	if h.PooledTests != 0 {
		b = append(b, `,"pooled_tests":`...)
		b = strconv.AppendInt(b, int64(h.PooledTests), 10)
	}
	if h.PooledFamily != "" {
		b = append(b, `,"pooled_family":`...)
		b = appendString(b, h.PooledFamily)
	}
	b = append(b, `,"test_count":`...)
	b = strconv.AppendInt(b, int64(h.TestCount), 10)
	b = append(b, `,"district_count":`...)
	b = strconv.AppendInt(b, int64(h.DistrictCount), 10)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, h.UpdatedAt)
	if h.Score != 0 {
		b = append(b, `,"score":`...)
		b = appendFloat(b, h.Score)
	}
	return append(b, '}')
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendTime writes t as time.Time.MarshalJSON does (RFC 3339 with nanoseconds); a year outside
// 0–9999, which encoding/json refuses, is written as null.
func appendTime(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y > 9999 {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendFloat writes f as encoding/json does: the shortest representation, in exponent form below
// 1e-6 and from 1e21, with a one-digit exponent where it has one.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way encoding/json does with HTML escaping: <, > and &
// as \u003c, \u003e, \u0026; U+2028 and U+2029 escaped; invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
