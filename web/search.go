package web

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/search"
)

// search answers GET /api/v1/search with only what the caller may see.
func (s *Server) search(c echo.Context) error {
	q, err := search.ParseQuery(s.standardURIQuery(c.Request().Context(), c.QueryParams()))
	if err != nil {
		return searchProblem(err)
	}
	q.Audience = search.AudienceOf(principal(c))
	if err := s.resolveAimFilter(c.Request().Context(), principal(c), &q); err != nil {
		return err
	}
	res, err := s.index.Search(c.Request().Context(), q)
	if err != nil {
		return searchProblem(err)
	}
	// The result is encoded by hand (search.Result.AppendJSON, the same bytes encoding/json
	// writes) into a pooled buffer: reflection was most of the API's cost over the index.
	bp := jsonBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledJSON {
			jsonBufs.Put(bp)
		}
	}()
	*bp = append(res.AppendJSON((*bp)[:0]), '\n')
	return writeJSONMaybeGzipped(c, *bp)
}

// writeJSONMaybeGzipped writes a whole JSON answer, gzipped at the fastest level when the client
// accepts gzip and the answer is worth it, with its Content-Length, in one write. The search API
// compresses here rather than in the gzip middleware (which skips its path): with the answer already
// whole in a buffer, klauspost/compress's gzip takes about half the time of compress/gzip for a
// slightly smaller body, and one sized write replaces the middleware's wrapped, chunked one
// (BENCHMARKS.md, "Searches take turns").
func writeJSONMaybeGzipped(c echo.Context, body []byte) error {
	h := c.Response().Header()
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	if len(body) < minGzipBytes || !acceptsGzip(c.Request().Header.Values(echo.HeaderAcceptEncoding)) {
		h.Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
		c.Response().WriteHeader(http.StatusOK)
		_, err := c.Response().Write(body)
		return err
	}
	zb := gzipBufs.Get().(*gzipBuf)
	defer gzipBufs.Put(zb)
	zb.buf.Reset()
	zb.w.Reset(&zb.buf)
	if _, err := zb.w.Write(body); err != nil {
		return err
	}
	if err := zb.w.Close(); err != nil {
		return err
	}
	h.Set(echo.HeaderContentEncoding, "gzip")
	h.Set(echo.HeaderContentLength, strconv.Itoa(zb.buf.Len()))
	c.Response().WriteHeader(http.StatusOK)
	_, err := c.Response().Write(zb.buf.Bytes())
	return err
}

// minGzipBytes: below this an answer goes as it is (the gzip middleware's threshold too).
const minGzipBytes = 1024

type gzipBuf struct {
	buf bytes.Buffer
	w   *gzip.Writer
}

var gzipBufs = sync.Pool{New: func() any {
	zb := &gzipBuf{}
	zb.w, _ = gzip.NewWriterLevel(&zb.buf, gzip.BestSpeed) // a valid level: no error
	return zb
}}

// acceptsGzip reads Accept-Encoding (RFC 9110, 12.5.3): gzip (or x-gzip, or *) listed without q=0.
// An explicit gzip entry wins over *.
func acceptsGzip(values []string) bool {
	star := false
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(item, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "gzip" && coding != "x-gzip" && coding != "*" {
				continue
			}
			ok := true
			for _, p := range strings.Split(params, ";") {
				k, v, found := strings.Cut(strings.TrimSpace(p), "=")
				if found && strings.EqualFold(strings.TrimSpace(k), "q") {
					q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					ok = err == nil && q > 0
				}
			}
			if coding == "*" {
				star = star || ok
				continue
			}
			return ok
		}
	}
	return star
}

// jsonBufs recycles the search API's response buffers (a page of 20 hits is ~10 KB); larger ones
// (100 hits) are let go rather than kept.
var jsonBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

const maxPooledJSON = 64 << 10

func searchProblem(err error) error {
	var qe *search.QueryError
	if errors.As(err, &qe) {
		return fieldProblem(http.StatusBadRequest, "search-query", qe.Param, "invalid", qe.Rule)
	}
	return err // an engine error: logged with the request id, never shown
}
