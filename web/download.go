package web

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// downloadArtifact serves an artifact's bytes to a caller who may see a record referencing it, as an
// attachment (never rendered inline), with its hash as ETag and single byte-range support.
func (s *Server) downloadArtifact(c echo.Context) error {
	sum := c.Param("sha256")
	ctx := c.Request().Context()
	// Local first; an artifact of a mirrored record is fetched from its origin on first use (verified
	// against its hash and size while it is written) and then served from the local copy.
	// The whole object is opened once; only a byte-range request reopens it at the range.
	rc, ref, err := s.fed.OpenArtifact(ctx, principal(c), sum, 0, -1)
	if err != nil {
		return err
	}
	defer func() {
		if rc != nil {
			rc.Close()
		}
	}()
	h := c.Response().Header()
	tag := `"` + sum + `"`
	h.Set("ETag", tag)
	h.Set("Accept-Ranges", "bytes")
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Type", ref.MediaType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": ref.Name}))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if inm := c.Request().Header.Get("If-None-Match"); inm == tag || inm == "*" {
		return c.NoContent(http.StatusNotModified)
	}
	size := ref.Size
	offset, length, status := int64(0), size, http.StatusOK
	if rh := c.Request().Header.Get("Range"); rh != "" && (c.Request().Header.Get("If-Range") == "" || c.Request().Header.Get("If-Range") == tag) {
		o, l, ok := parseRange(rh, size)
		if !ok {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			return problem(http.StatusRequestedRangeNotSatisfiable, "range", "the requested range is not within the file")
		}
		if l >= 0 {
			offset, length, status = o, l, http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", o, o+l-1, size))
		}
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	if c.Request().Method == http.MethodHead {
		return c.NoContent(status)
	}
	if status == http.StatusPartialContent {
		rc.Close()
		if rc, _, err = s.fed.OpenArtifact(ctx, principal(c), sum, offset, length); err != nil {
			rc = nil
			return err
		}
	}
	c.Response().WriteHeader(status)
	if _, err := io.Copy(c.Response(), rc); err != nil {
		s.logger.Warn("artifact download interrupted", "sha256", sum, "err", err)
	}
	return nil
}

// parseRange understands one "bytes=a-b", "bytes=a-" or "bytes=-n" range. For several ranges it
// returns length -1: the whole file is sent, which RFC 9110 allows.
func parseRange(h string, size int64) (offset, length int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found {
		return 0, -1, true // unknown unit: ignore the header
	}
	if strings.Contains(spec, ",") {
		return 0, -1, true
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false
	}
	if a == "" { // suffix: the last n bytes
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		n = min(n, size)
		return size - n, n, size > 0
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 || start >= size {
		return 0, 0, false
	}
	end := size - 1
	if b != "" {
		e, err := strconv.ParseInt(b, 10, 64)
		if err != nil || e < start {
			return 0, 0, false
		}
		end = min(e, size-1)
	}
	return start, end - start + 1, true
}
