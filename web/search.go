package web

import (
	"errors"
	"net/http"
	"sync"

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
	return c.JSONBlob(http.StatusOK, *bp)
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
