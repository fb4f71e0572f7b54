package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// pageRoutes registers the HTML pages in one place. Each area's handlers live in its own file:
// pages_search.go (search, practice, collection pages for everyone), pages_workspace.go (the PLC
// workspace), pages_coordinator.go (collections editor, network page), pages_admin.go (API tokens).
func (s *Server) pageRoutes(e *echo.Echo) {
	e.GET("/static/*", staticHandler())
	e.GET("/favicon.ico", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/static/favicon.svg") })
	s.teacherPages(e)
	s.workspacePages(e)
	s.cyclePages(e) // pages_cycles.go: test pages, adapting a practice
}
