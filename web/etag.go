package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
)

// entityTag is one entity tag of an If-Match list (RFC 9110 §8.8.3).
type entityTag struct {
	weak   bool
	opaque string // between the quotes
}

var errETagSyntax = errors.New("not a list of entity tags")

// parseETags parses an If-Match value: "*" (any is true) or a comma-separated list of entity tags,
// each "opaque" or W/"opaque" (RFC 9110 §8.8.3; empty list elements and spaces around commas are
// allowed, as §5.6.1 says a recipient must accept).
func parseETags(h string) (tags []entityTag, any bool, err error) {
	h = strings.Trim(h, " \t")
	if h == "*" {
		return nil, true, nil
	}
	const maxTags = 64 // a longer list is not a client's honest question
	for rest := h; ; {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		if rest[0] == ',' {
			rest = rest[1:]
			continue
		}
		var t entityTag
		if strings.HasPrefix(rest, "W/") {
			t.weak, rest = true, rest[2:]
		}
		if rest == "" || rest[0] != '"' {
			return nil, false, errETagSyntax
		}
		end := 1
		for end < len(rest) && rest[end] != '"' {
			if c := rest[end]; c != 0x21 && (c < 0x23 || c == 0x7f) {
				return nil, false, errETagSyntax // etagc = %x21 / %x23-7E / obs-text
			}
			end++
		}
		if end == len(rest) {
			return nil, false, errETagSyntax
		}
		t.opaque, rest = rest[1:end], strings.TrimLeft(rest[end+1:], " \t")
		if rest != "" && rest[0] != ',' {
			return nil, false, errETagSyntax
		}
		if tags = append(tags, t); len(tags) > maxTags {
			return nil, false, errETagSyntax
		}
	}
	if len(tags) == 0 {
		return nil, false, errETagSyntax
	}
	return tags, false, nil
}

// ifMatch reads the version a change is based on from If-Match. Missing: 428 when required, else
// 0 (any version); "*": 0. A list of tags matches when one of them is the record's current ETag by
// strong comparison (weak tags never match); a well-formed tag that matches nothing, such as
// "stale-etag", is 412, as RFC 9110 requires, and only a header that is not a list of tags is 400.
// current reads the record's current version, for lists naming more than one version.
func ifMatch(c echo.Context, required bool, current func() (int, error)) (int, error) {
	h := c.Request().Header.Get("If-Match")
	if strings.TrimSpace(h) == "" {
		if required {
			return 0, fieldProblem(http.StatusPreconditionRequired, "if-match-required", "If-Match", "required",
				"send the ETag of the version you edited, so a concurrent change is not overwritten")
		}
		return 0, nil
	}
	tags, any, err := parseETags(h)
	if err != nil {
		return 0, fieldProblem(http.StatusBadRequest, "if-match", "If-Match", "format", `must be "*" or a list of ETags such as "3"`)
	}
	if any {
		return 0, nil
	}
	var versions []int
	for _, t := range tags {
		if v, err := strconv.Atoi(t.opaque); err == nil && !t.weak && v > 0 && strconv.Itoa(v) == t.opaque {
			versions = append(versions, v)
		}
	}
	switch len(versions) {
	case 0:
		return 0, practices.ErrStale // no tag could be ours: the precondition fails
	case 1:
		return versions[0], nil // the repository compares it with the current version atomically
	}
	cur, err := current()
	if err != nil {
		return 0, err
	}
	for _, v := range versions {
		if v == cur {
			return cur, nil
		}
	}
	return 0, practices.ErrStale
}
