package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/search"
)

// search answers GET /api/v1/search with only what the caller may see.
func (s *Server) search(c echo.Context) error {
	q, err := search.ParseQuery(c.QueryParams())
	if err != nil {
		return searchProblem(err)
	}
	q.Audience = search.AudienceOf(principal(c))
	res, err := s.index.Search(c.Request().Context(), q)
	if err != nil {
		return searchProblem(err)
	}
	return c.JSON(http.StatusOK, res)
}

func searchProblem(err error) error {
	var qe *search.QueryError
	if errors.As(err, &qe) {
		return fieldProblem(http.StatusBadRequest, "search-query", qe.Param, "invalid", qe.Rule)
	}
	return err // an engine error: logged with the request id, never shown
}
