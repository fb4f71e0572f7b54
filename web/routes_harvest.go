package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/web/harvest"
)

// harvestRoutes registers what aggregators, feed readers and search engines read: OAI-PMH, Atom
// feeds, the sitemap and robots.txt (web/harvest). Everything here serves public local records only.
// Without a repository (a server built from some parts only) there is nothing to harvest.
func (s *Server) harvestRoutes(e *echo.Echo) {
	if s.repo == nil {
		return
	}
	h := harvest.New(harvest.Config{
		Repo: s.repo, Name: s.cfg.Node.Name, AdminEmail: s.cfg.Node.Contact, Logger: s.logger,
		// Kinds with a public page at /{kind}s/{id} (tests have one: web/pages_cycles.go; aims their
		// dashboard). Progress records have none: they show on their aim's dashboard.
		PageKinds: []practices.Kind{practices.KindPractice, practices.KindTest, practices.KindCollection, practices.KindAim},
	})
	oai := echo.WrapHandler(http.HandlerFunc(h.ServeOAI))
	e.GET("/oai", oai)
	e.POST("/oai", oai)
	e.GET("/oai/lrmi.xsd", echo.WrapHandler(http.HandlerFunc(h.ServeLRMISchema)))

	e.GET("/sitemap.xml", echo.WrapHandler(http.HandlerFunc(h.ServeSitemap)))
	e.GET("/sitemap-:part", func(c echo.Context) error {
		part, ok := strings.CutSuffix(c.Param("part"), ".xml")
		if !ok {
			return echo.ErrNotFound
		}
		h.ServeSitemapPart(c.Response(), c.Request(), part)
		return nil
	})
	e.GET("/robots.txt", echo.WrapHandler(http.HandlerFunc(h.ServeRobots)))

	if s.index != nil {
		e.GET("/search.atom", s.searchFeed)
	}
	e.GET("/collections/:id/feed.atom", s.collectionFeed)
	e.GET("/aims/:id/feed.atom", s.aimFeed)
	teams := &teamFeeds{}
	e.GET("/teams/:team/feed.atom", func(c echo.Context) error { return s.teamFeed(c, teams) })
}
