package web

import "github.com/labstack/echo/v4"

// workspacePages: the PLC workspace, coordinator pages and admin pages.
func (s *Server) workspacePages(e *echo.Echo) {}
