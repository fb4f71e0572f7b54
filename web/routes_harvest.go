package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/web/harvest"
)

// harvestRoutes registers what aggregators, feed readers and search engines read: OAI-PMH, Atom
// feeds, the sitemap and robots.txt (web/harvest). Everything here serves public local records only.
func (s *Server) harvestRoutes(e *echo.Echo) {
	h := harvest.New(harvest.Config{
		Repo: s.repo, Name: s.cfg.Node.Name, AdminEmail: s.cfg.Node.Contact, Logger: s.logger,
	})
	oai := echo.WrapHandler(http.HandlerFunc(h.ServeOAI))
	e.GET("/oai", oai)
	e.POST("/oai", oai)
	e.GET("/oai/lrmi.xsd", echo.WrapHandler(http.HandlerFunc(h.ServeLRMISchema)))

	e.GET("/search.atom", s.searchFeed)
	e.GET("/collections/:id/feed.atom", s.collectionFeed)
	teams := &teamFeeds{}
	e.GET("/teams/:team/feed.atom", func(c echo.Context) error { return s.teamFeed(c, teams) })
}
