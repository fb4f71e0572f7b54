package web

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
)

// recordHandlers serve one kind of record under /api/v1/{kind}s.
type recordHandlers struct {
	s    *Server
	kind practices.Kind
}

// etag is a record's strong entity tag: its version number.
func etag(v int) string { return `"` + strconv.Itoa(v) + `"` }

func (h recordHandlers) respond(c echo.Context, status int, rec practices.Record) error {
	c.Response().Header().Set("ETag", etag(rec.RecordMeta().Version))
	if status == http.StatusCreated {
		c.Response().Header().Set("Location", "/api/v1/"+h.kind.Plural()+"/"+rec.RecordMeta().ID)
	}
	return c.JSON(status, rec)
}

func (h recordHandlers) decode(c echo.Context) (practices.Record, error) {
	rec := practices.NewRecord(h.kind)
	if err := decodeJSON(c, h.s.cfg.Limits.MaxJSONBytes, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

func (h recordHandlers) create(c echo.Context) error {
	if !principal(c).Authenticated() {
		return practices.ErrUnauthenticated
	}
	rec, err := h.decode(c)
	if err != nil {
		return err
	}
	out, err := h.s.repo.Create(c.Request().Context(), principal(c), rec)
	if err != nil {
		return err
	}
	return h.respond(c, http.StatusCreated, out)
}

func (h recordHandlers) get(c echo.Context) error {
	// Local or mirrored: a mirrored record's origin says where it lives and where it is changed.
	rec, err := h.s.findRecord(c.Request().Context(), principal(c), h.kind, c.Param("id"))
	if err != nil {
		return err
	}
	if match := c.Request().Header.Get("If-None-Match"); match != "" && match == etag(rec.RecordMeta().Version) {
		c.Response().Header().Set("ETag", match)
		return c.NoContent(http.StatusNotModified)
	}
	return h.respond(c, http.StatusOK, rec)
}

func (h recordHandlers) getVersion(c echo.Context) error {
	v, err := strconv.Atoi(c.Param("version"))
	if err != nil || v <= 0 {
		return practices.ErrNotFound
	}
	rec, err := h.s.repo.GetVersion(c.Request().Context(), principal(c), h.kind, c.Param("id"), v)
	if errors.Is(err, practices.ErrNotFound) {
		rec, err = h.s.mirroredVersion(c.Request().Context(), principal(c), h.kind, c.Param("id"), v)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

func (h recordHandlers) update(c echo.Context) error {
	if !principal(c).Authenticated() {
		return practices.ErrUnauthenticated
	}
	// Look the record up first so that a record the caller may not see answers 404 whatever else is wrong.
	cur, err := h.s.repo.Get(c.Request().Context(), principal(c), h.kind, c.Param("id"))
	if err != nil {
		return h.s.readOnlyIfMirrored(c, h.kind, err)
	}
	expected, err := ifMatch(c, true, func() (int, error) { return cur.RecordMeta().Version, nil })
	if err != nil {
		return err
	}
	rec, err := h.decode(c)
	if err != nil {
		return err
	}
	out, err := h.s.repo.Update(c.Request().Context(), principal(c), h.kind, c.Param("id"), expected, rec)
	if err != nil {
		return err
	}
	return h.respond(c, http.StatusOK, out)
}

// remove deletes a record for good (DELETE /api/v1/{kind}/{id}): 204, and peers receive a tombstone.
func (h recordHandlers) remove(c echo.Context) error {
	if !principal(c).Authenticated() {
		return practices.ErrUnauthenticated
	}
	expected, err := ifMatch(c, false, h.currentVersion(c))
	if err != nil {
		return err
	}
	if err := h.s.repo.Delete(c.Request().Context(), principal(c), h.kind, c.Param("id"), expected); err != nil {
		return h.s.readOnlyIfMirrored(c, h.kind, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// currentVersion reads the record's current version (for If-Match lists of several tags).
func (h recordHandlers) currentVersion(c echo.Context) func() (int, error) {
	return func() (int, error) {
		rec, err := h.s.repo.Get(c.Request().Context(), principal(c), h.kind, c.Param("id"))
		if err != nil {
			return 0, err
		}
		return rec.RecordMeta().Version, nil
	}
}

func (h recordHandlers) publish(c echo.Context) error {
	return h.transition(c, h.s.repo.Publish)
}

func (h recordHandlers) withdraw(c echo.Context) error {
	return h.transition(c, h.s.repo.Withdraw)
}

func (h recordHandlers) transition(c echo.Context, f func(ctx context.Context, p practices.Principal, kind practices.Kind, id string, expected int) (practices.Record, error)) error {
	if !principal(c).Authenticated() {
		return practices.ErrUnauthenticated
	}
	expected, err := ifMatch(c, false, h.currentVersion(c))
	if err != nil {
		return err
	}
	out, err := f(c.Request().Context(), principal(c), h.kind, c.Param("id"), expected)
	if err != nil {
		return h.s.readOnlyIfMirrored(c, h.kind, err)
	}
	return h.respond(c, http.StatusOK, out)
}

// list answers the records of this kind the caller may see, filtered by team and status, paged by id.
func (h recordHandlers) list(c echo.Context) error {
	q := c.QueryParams()
	f := practices.ListFilter{Team: q.Get("team"), Status: practices.Status(q.Get("status"))}
	switch f.Status {
	case "", practices.StatusDraft, practices.StatusPublished, practices.StatusWithdrawn:
	default:
		return fieldProblem(http.StatusBadRequest, "query", "status", "one_of", "must be draft, published or withdrawn")
	}
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return fieldProblem(http.StatusBadRequest, "query", "limit", "range", "must be a whole number from 1 to 200")
		}
		limit = n
	}
	after := q.Get("after")
	if len(after) > 64 {
		return fieldProblem(http.StatusBadRequest, "query", "after", "format", "must be the next value of a previous page")
	}
	recs, next, err := h.s.repo.List(c.Request().Context(), principal(c), h.kind, f, after, limit)
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []practices.Record{}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": recs, "next": next})
}

// uploadArtifact streams a file into the store and attaches it to a practice. The body is either
// multipart/form-data with the file in field "file", or the raw bytes with the name in ?name=.
func (s *Server) uploadArtifact(c echo.Context) error {
	p := principal(c)
	if !p.Authenticated() {
		return practices.ErrUnauthenticated
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	if _, err := s.writable(ctx, p, practices.KindPractice, id); err != nil {
		return err
	}
	limit := s.cfg.Limits.MaxArtifactBytes
	r := c.Request()
	// The multipart envelope may add a little; the file itself is limited exactly while it streams.
	r.Body = http.MaxBytesReader(c.Response(), r.Body, limit+64<<10)
	var (
		name string
		body io.Reader
	)
	mt, params, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil || params["boundary"] == "" {
			return fieldProblem(http.StatusBadRequest, "multipart", "body", "format", "is not a valid multipart/form-data body")
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return fieldProblem(http.StatusUnprocessableEntity, "artifact", "file", "required", `the multipart body has no field named "file"`)
			}
			if err != nil {
				return fieldProblem(http.StatusBadRequest, "multipart", "body", "format", "is not a valid multipart/form-data body")
			}
			if part.FormName() != "file" {
				continue
			}
			// Read the name as sent: Part.FileName() would silently strip a path, hiding a bad name.
			_, dp, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			name, body = dp["filename"], part
			break
		}
	} else {
		name = c.QueryParam("name")
		if name == "" {
			if _, dp, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
				name = dp["filename"]
			}
		}
		body = r.Body
	}
	var (
		ref practices.ArtifactRef
		err error
	)
	if digest := r.Header.Get("Content-Digest"); digest != "" && mt != "multipart/form-data" {
		// The client declared the hash: stream straight to the content-addressed key, verified on the way.
		sum, ok := parseContentDigest(digest)
		if !ok {
			return fieldProblem(http.StatusBadRequest, "artifact", "Content-Digest", "format", "must hold sha-256=:<base64 of the 32-byte digest>: (RFC 9530)")
		}
		if r.ContentLength <= 0 {
			return fieldProblem(http.StatusLengthRequired, "artifact", "Content-Length", "required", "is required with Content-Digest")
		}
		ref, err = s.repo.StoreArtifactDigest(ctx, name, body, r.ContentLength, sum, limit)
	} else {
		ref, err = s.repo.StoreArtifact(ctx, name, body, limit)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fieldProblem(http.StatusRequestEntityTooLarge, "artifact", "file", "too_large", fmt.Sprintf("the file is larger than the limit of %d bytes", limit))
		}
		return err
	}
	if _, err := s.repo.AttachArtifact(ctx, p, id, ref); err != nil {
		return err
	}
	s.logger.Info("artifact stored", append(logAttrs(c), "sha256", ref.SHA256, "size", ref.Size, "media_type", ref.MediaType, "practice", id)...)
	return c.JSON(http.StatusCreated, ref)
}

// parseContentDigest finds the sha-256 member of an RFC 9530 Content-Digest dictionary
// ("sha-256=:<base64>:, sha-512=:…:") and returns it as lower-case hex.
func parseContentDigest(h string) (string, bool) {
	for _, member := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(member), "=")
		if !ok || strings.TrimSpace(k) != "sha-256" {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) < 2 || v[0] != ':' || v[len(v)-1] != ':' {
			return "", false
		}
		raw, err := base64.StdEncoding.DecodeString(v[1 : len(v)-1])
		if err != nil || len(raw) != 32 {
			return "", false
		}
		return hex.EncodeToString(raw), true
	}
	return "", false
}

// writable returns the record if p may see it (else ErrNotFound) and change it (else ErrForbidden or
// ErrUnauthenticated): the check every server-side change of a record starts with.
func (s *Server) writable(ctx context.Context, p practices.Principal, kind practices.Kind, id string) (practices.Record, error) {
	if !p.Authenticated() {
		return nil, practices.ErrUnauthenticated
	}
	rec, err := s.repo.Get(ctx, p, kind, id)
	if err != nil {
		return nil, err
	}
	if err := practices.CanWrite(p, rec.RecordMeta()); err != nil {
		return nil, err
	}
	return rec, nil
}

// writableRecord is writable for the record named by the route's :id, typed: what every page that
// changes a record starts with.
func writableRecord[T practices.Record](s *Server, c echo.Context, kind practices.Kind) (T, error) {
	var zero T
	rec, err := s.writable(c.Request().Context(), principal(c), kind, c.Param("id"))
	if err != nil {
		return zero, err
	}
	return rec.(T), nil
}
