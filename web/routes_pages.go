package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// pageRoutes registers every HTML page, grouped by who uses them. Each group's handlers, view models
// and templates sit together: pages_search.go (teachers: search, practice and collection pages),
// pages_workspace.go with pages_workspace_forms.go (the PLC workspace and its editing forms),
// pages_measures.go (a test's measures over time), pages_cycles.go (a test's page, adapting a practice),
// pages_coordinator.go (collections editor, network page), pages_aims.go (network aims: form,
// dashboard, progress), pages_admin.go (API tokens). Who may
// open a page is decided by practices/access.go, asked by each handler.
func (s *Server) pageRoutes(e *echo.Echo) {
	e.GET("/static/*", staticHandler())
	e.GET("/favicon.ico", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/static/favicon.svg") })

	// Teachers (and anyone, for public records).
	e.GET("/", s.searchPage)
	e.GET("/search", s.searchPage)
	e.GET("/practices/:id", s.practicePage)
	e.GET("/tests/:id", s.testPublicPage) // pages_cycles.go: a test's page, local or mirrored
	e.GET("/collections/:id", s.collectionPage)
	e.GET("/help/evidence", s.evidenceHelpPage)

	// The PLC workspace.
	e.GET("/workspace", s.workspaceHome)
	e.GET("/workspace/practices/new", s.newPracticePage)
	e.POST("/workspace/practices/new", s.createPracticePage)
	e.GET("/workspace/practices/:id/edit", s.editPracticePage)
	e.POST("/workspace/practices/:id/edit", s.savePracticePage)
	e.POST("/workspace/practices/:id/artifacts", s.uploadArtifactPage)
	e.POST("/workspace/practices/:id/publish", s.publishPracticePage)
	e.GET("/workspace/practices/:id/adapt", s.adaptPracticePage)
	e.POST("/workspace/practices/:id/adapt", s.createAdaptationPage)
	e.GET("/workspace/tests/new", s.newTestPage)
	e.POST("/workspace/tests/new", s.createTestPage)
	e.GET("/workspace/tests/:id", s.testPage)
	e.POST("/workspace/tests/:id", s.saveTestPage)
	e.POST("/workspace/tests/:id/results", s.uploadResultsPage)
	e.POST("/workspace/tests/:id/publish", s.publishTestPage)
	e.POST("/workspace/tests/:id/measures", s.saveMeasurePage)
	e.POST("/workspace/tests/:id/measures/:measure/delete", s.deleteMeasurePage)
	e.POST("/workspace/tests/:id/measures/:measure/scores", s.uploadMeasureScoresPage)

	// NIC coordinators.
	e.GET("/collections", s.collectionsPage)
	e.POST("/collections", s.createCollectionPage)
	e.GET("/collections/:id/edit", s.editCollectionPage)
	e.POST("/collections/:id/edit", s.saveCollectionPage)
	e.POST("/collections/:id/items", s.addCollectionItemPage)
	e.POST("/collections/:id/publish", s.publishCollectionPage)
	e.GET("/network", s.networkPage)
	e.GET("/aims", s.aimsPage) // pages_aims.go: network aims, their dashboards and progress
	e.GET("/aims/new", s.newAimPage)
	e.POST("/aims/new", s.createAimPage)
	e.GET("/aims/:id/edit", s.editAimPage)
	e.POST("/aims/:id/edit", s.saveAimPage)
	e.POST("/aims/:id/publish", s.publishAimPage)
	e.GET("/aims/:id/confirm/:verb", s.confirmAimPage)
	e.POST("/aims/:id/withdraw", s.withdrawAimPage)
	e.POST("/aims/:id/delete", s.deleteAimPage)

	// A network aim's dashboard (anyone who may see the aim) and progress (district coordinators, admins).
	e.GET("/aims/:id", s.aimPage)
	e.GET("/aims/:id/charts/:file", s.aimChart)
	e.GET("/aims/:id/progress", s.progressPage)
	e.POST("/aims/:id/progress", s.publishProgressPage)
	e.POST("/aims/:id/progress/scores", s.progressScoresPage)

	// Withdraw, delete and remove, each behind a confirmation step (pages_undo.go).
	s.undoRoutes(e)

	// District admins.
	e.GET("/admin/tokens", s.tokensPage)
	e.POST("/admin/tokens", s.createTokenPage)
	e.POST("/admin/tokens/:id/revoke", s.revokeTokenPage)
}
