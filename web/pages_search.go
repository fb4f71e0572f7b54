package web

import "github.com/labstack/echo/v4"

// teacherPages: the search (home) page, practice pages and collection pages.
func (s *Server) teacherPages(e *echo.Echo) {}
