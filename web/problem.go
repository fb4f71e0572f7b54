package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
)

// retryAfterSeconds is what a 503 tells clients to wait: about one stall timeout.
const retryAfterSeconds = "10"

// Problem is an RFC 9457 problem response. Internal error text never reaches a client: a 500 carries
// only the request id, which ties it to the log line.
type Problem struct {
	Type      string                 `json:"type"`
	Title     string                 `json:"title"`
	Status    int                    `json:"status"`
	Detail    string                 `json:"detail,omitempty"`
	Instance  string                 `json:"instance,omitempty"`
	RequestID string                 `json:"request_id,omitempty"`
	Errors    []practices.FieldError `json:"errors,omitempty"`
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

// problem builds a Problem; slug names the problem type under /problems/.
func problem(status int, slug, detail string, errs ...practices.FieldError) *Problem {
	return &Problem{Type: "/problems/" + slug, Title: http.StatusText(status), Status: status, Detail: detail, Errors: errs}
}

func fieldProblem(status int, slug, field, rule, msg string) *Problem {
	return problem(status, slug, field+": "+msg, practices.FieldError{Field: field, Rule: rule, Message: msg})
}

// toProblem maps an error from any layer to the problem a client sees.
func toProblem(err error) *Problem {
	var (
		p   *Problem
		ve  *practices.ValidationError
		se  *practices.StateError
		ae  *practices.ArtifactError
		he  *echo.HTTPError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &ve):
		return problem(http.StatusUnprocessableEntity, "validation", summarize(ve.Problems), ve.Problems...)
	case errors.As(err, &se):
		return problem(http.StatusConflict, "state", se.Msg)
	case errors.As(err, &ae):
		status := http.StatusUnprocessableEntity
		switch ae.Rule {
		case "too_large":
			status = http.StatusRequestEntityTooLarge
		case "media_type":
			status = http.StatusUnsupportedMediaType
		}
		return fieldProblem(status, "artifact", ae.Field, ae.Rule, ae.Msg)
	case errors.Is(err, errBodyTooSlow):
		return problem(http.StatusRequestTimeout, "body-too-slow", "the request body arrived too slowly; send it again on a better connection")
	case errors.Is(err, storage.ErrUnavailable):
		return problem(http.StatusServiceUnavailable, "store-unavailable",
			"the node cannot reach its object store just now; nothing was changed unless a later read shows it. Try again shortly")
	case errors.As(err, &mbe):
		return problem(http.StatusRequestEntityTooLarge, "too-large", fmt.Sprintf("the request body is larger than the limit of %d bytes", mbe.Limit))
	case errors.Is(err, practices.ErrNotFound):
		return problem(http.StatusNotFound, "not-found", "no such record, or you may not see it")
	case errors.Is(err, practices.ErrStale):
		return problem(http.StatusPreconditionFailed, "stale", "the record changed since you read it: fetch it again, reapply your change and send the new ETag in If-Match")
	case errors.Is(err, practices.ErrForbidden):
		return problem(http.StatusForbidden, "forbidden", "your role or team does not allow this change")
	case errors.Is(err, practices.ErrUnauthenticated):
		return problem(http.StatusUnauthorized, "unauthenticated", "sign in or send an API token as Authorization: Bearer")
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if s, ok := he.Message.(string); ok && he.Code < 500 {
			msg = s
		}
		slug := strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "-"))
		return problem(he.Code, slug, msg)
	}
	return problem(http.StatusInternalServerError, "internal", "something went wrong on the server; quote the request id to your IT team")
}

func summarize(fe []practices.FieldError) string {
	if len(fe) == 1 {
		return fe[0].Field + ": " + fe[0].Message
	}
	return fmt.Sprintf("%d fields need attention: %s: %s …", len(fe), fe[0].Field, fe[0].Message)
}

// errorHandler is echo's one error handler: every error becomes a problem response.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := toProblem(err)
	p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	p.Instance = c.Request().URL.Path
	if p.Status >= 500 {
		s.logger.Error("request failed", "request_id", p.RequestID, "method", c.Request().Method,
			"path", c.Request().URL.Path, "err", err)
	} else {
		s.logger.Debug("request refused", "request_id", p.RequestID, "status", p.Status, "detail", p.Detail)
	}
	if p.Status == http.StatusServiceUnavailable && c.Response().Header().Get("Retry-After") == "" {
		c.Response().Header().Set("Retry-After", retryAfterSeconds)
	}
	if wantsHTML(c) {
		s.errorPage(c, p)
		return
	}
	if p.Status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="brightspots"`)
	}

	body, _ := json.Marshal(p)
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	if c.Request().Method != http.MethodHead {
		_, _ = c.Response().Write(body)
	}
}

// logAttrs is a helper for slog where a request id is at hand.
func logAttrs(c echo.Context) []any {
	return []any{slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID))}
}
