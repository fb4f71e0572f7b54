package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/web/uploads"
)

// newUploads builds the resumable (tus) upload service over the node's store: the same publisher
// check and size limit as POST /api/v1/practices/{id}/artifacts.
func (s *Server) newUploads() (*uploads.Service, error) {
	return uploads.New(uploads.Config{
		Bucket:  s.bucket,
		Repo:    s.repo,
		MaxSize: s.cfg.Limits.MaxArtifactBytes,
		Authorize: func(ctx context.Context, p practices.Principal, practiceID string) error {
			_, err := s.writable(ctx, p, practices.KindPractice, practiceID)
			return err
		},
		Problem: func(err error) (int, string, string) {
			p := toProblem(err)
			return p.Status, strings.TrimPrefix(p.Type, "/problems/"), p.Detail
		},
		PublicURL: s.cfg.Node.URL,
		Logger:    s.logger,
		Registry:  s.metrics,
	})
}

// uploadRoutes mounts the tus endpoint. Its limits are its own (see uploads.PathPrefix): bodies are
// limited to what the upload still lacks, and reads are kept alive only while bytes arrive.
func (s *Server) uploadRoutes(api *echo.Group) {
	if s.uploads == nil {
		return
	}
	h := echo.WrapHandler(s.uploads)
	for _, m := range []string{http.MethodPost, http.MethodHead, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		api.Add(m, "/uploads/", h)
		api.Add(m, "/uploads/:id", h)
	}
}

// Uploads is the node's resumable upload service (for tests).
func (s *Server) Uploads() *uploads.Service { return s.uploads }
