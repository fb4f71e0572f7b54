package web

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/web/uploads"
)

// Limits on what one request may cost the node, whoever sends it: how large its body may be and how
// slowly it may arrive. Every route gets a cap; the few routes that take files get a larger one.
// docs/security.md ("Limits, timeouts and outages") says what these promise.

// bodyAllowance is the largest body route (a route template) may send.
func (s *Server) bodyAllowance(method, route string) int64 {
	const envelope = 64 << 10 // multipart headers and boundaries around a file
	switch route {
	case "/api/v1/practices/:id/artifacts", "/workspace/practices/:id/artifacts":
		return s.cfg.Limits.MaxArtifactBytes + envelope
	case "/api/v1/tests/:id/results", "/workspace/tests/:id/results":
		return max(evidence.MaxFileBytes, s.cfg.Limits.MaxJSONBytes) + envelope
	}
	return s.cfg.Limits.MaxJSONBytes + envelope
}

// limitBodies caps every request body at its route's allowance (so a form parsed by FormParams, or
// a handler that forgets, never reads more) and makes it arrive at a minimum rate: a read deadline
// that starts at limits.body_timeout and grows with the bytes received at
// limits.body_min_bytes_per_second. A client trickling a body (one byte every few seconds) is cut
// off after the timeout instead of holding a connection and a handler for ever, on every route,
// anonymous ones like POST /idp/login included.
func (s *Server) limitBodies(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		// The resumable upload endpoint keeps its own limits: a body may be as large as what the
		// upload still lacks, and its read deadline is renewed while bytes arrive (web/uploads).
		if strings.HasPrefix(c.Path(), uploads.PathPrefix) {
			return next(c)
		}
		allowed := s.bodyAllowance(r.Method, c.Path())
		if r.ContentLength > allowed {
			c.Response().Header().Set(echo.HeaderConnection, "close")
			return problem(http.StatusRequestEntityTooLarge, "too-large",
				"the request body is larger than the limit of "+strconv.FormatInt(allowed, 10)+" bytes")
		}
		body := &paced{
			body: r.Body, rc: http.NewResponseController(c.Response().Writer), start: time.Now(),
			base: s.cfg.Limits.BodyTimeout, rate: s.cfg.Limits.BodyMinRate,
		}
		// Set before the handler runs, so a body the handler never reads is not waited for either
		// when the server drains it afterwards.
		body.setDeadline()
		r.Body = http.MaxBytesReader(c.Response(), body, allowed)
		return next(c)
	}
}

// paced is a request body that must keep up a minimum rate: before each read, the connection's
// read deadline is set to start + base + received/rate.
type paced struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	start    time.Time
	base     time.Duration
	rate     int64
	received int64
}

func (p *paced) setDeadline() {
	// Not every writer supports deadlines (httptest's recorder does not); then the server's own
	// timeouts are all there is.
	_ = p.rc.SetReadDeadline(p.start.Add(p.base + time.Duration(float64(p.received)/float64(p.rate)*float64(time.Second))))
}

func (p *paced) Read(b []byte) (int, error) {
	p.setDeadline()
	n, err := p.body.Read(b)
	p.received += int64(n)
	switch {
	case err == io.EOF:
		// The whole body is in. Lift the deadline: the server reads on in the background to notice
		// a client that goes away, and a slow handler must not look like a slow client.
		_ = p.rc.SetReadDeadline(time.Time{})
	case err != nil:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return n, errBodyTooSlow
		}
	}
	return n, err
}

// errBodyTooSlow: a request body fell behind the minimum rate (answered 408).
var errBodyTooSlow = errors.New("the request body arrived too slowly")

func (p *paced) Close() error { return p.body.Close() }

// methodLabel is the method as a metrics label: one of the methods the node serves, or "other", so
// a client sending made-up methods cannot grow /metrics without bound.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// routeLabel is the route template as a metrics label ("unmatched" for requests that matched no
// route, whatever their path), so label values are bounded by the routes the node registers.
func routeLabel(c echo.Context) string {
	route := c.Path()
	if route == "" || route == "/*" {
		return "unmatched"
	}
	return route
}

// listUpTo lists up to n records for a page, following the repository's next cursor across its
// per-call scan budget (practices.ListScanBudget): pages show a signed-in team's records whatever
// else the node holds, while each API call stays bounded and hands the cursor to the client.
func (s *Server) listUpTo(ctx context.Context, p practices.Principal, kind practices.Kind, f practices.ListFilter, n int) ([]practices.Record, error) {
	var out []practices.Record
	after := ""
	for len(out) < n {
		recs, next, err := s.repo.List(ctx, p, kind, f, after, n-len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
		if next == "" {
			break
		}
		after = next
	}
	return out, nil
}
