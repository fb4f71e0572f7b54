package uploads

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	xslog "golang.org/x/exp/slog"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/web/auth"
)

// PathPrefix is where the tus endpoint is mounted. Middleware that limits request bodies or their
// read time for ordinary requests must skip it: a PATCH here may stream a gigabyte for an hour, and
// the handler sets its own limits (see the package doc).
const PathPrefix = "/api/v1/uploads/"

// DefaultExpiry is how long an unfinished upload is kept.
const DefaultExpiry = 24 * time.Hour

// Config is what the service needs from the node.
type Config struct {
	Bucket  storage.Bucket // must implement storage.Multipart
	Repo    *practices.Repo
	MaxSize int64         // limits.max_artifact_bytes
	Expiry  time.Duration // 0 means DefaultExpiry
	// Authorize returns nil if p may add materials to the practice (a publisher of its team), or the
	// error the API answers otherwise (practices.ErrNotFound, ErrForbidden …).
	Authorize func(ctx context.Context, p practices.Principal, practiceID string) error
	// Problem turns an error Authorize returned into the status, problem type slug and detail.
	Problem  func(err error) (status int, slug, detail string)
	Logger   *slog.Logger
	Registry prometheus.Registerer
	Now      func() time.Time // for tests; nil means time.Now
	// PublicURL is the node's URL as browsers reach it (node.url); upload URLs are made from it, not
	// from the request's Host.
	PublicURL string
	// MaxWriters is how many chunks are written at once (0 means 8); each holds two parts (32 MiB
	// with the default part size) in memory, and further chunks wait for a slot.
	MaxWriters int
}

// Service serves tus uploads and cleans up expired ones.
type Service struct {
	store   *store
	tus     *tusd.UnroutedHandler
	handler http.Handler
	problem func(err error) (int, string, string)
	log     *slog.Logger
}

// New builds the service. The bucket must support multipart uploads (both node backends do).
func New(cfg Config) (*Service, error) {
	mp, ok := cfg.Bucket.(storage.Multipart)
	if !ok {
		return nil, fmt.Errorf("resumable uploads: the %T store cannot take multipart uploads", cfg.Bucket)
	}
	if cfg.Expiry <= 0 {
		cfg.Expiry = DefaultExpiry
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxWriters <= 0 {
		cfg.MaxWriters = 8
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	held := &heldBytes{g: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "brightspots_uploads_incomplete_bytes",
		Help: "Bytes held by resumable uploads that are not finished (parts and tails in the store).",
	})}
	if cfg.Registry != nil {
		if err := cfg.Registry.Register(held.g); err != nil {
			return nil, err
		}
	}
	s := &store{
		bucket: cfg.Bucket, mp: mp, repo: cfg.Repo, partSize: mp.MultipartPartSize(),
		expiry: cfg.Expiry, now: cfg.Now, log: cfg.Logger, authz: cfg.Authorize, held: held,
		writers: make(chan struct{}, cfg.MaxWriters),
	}
	svc := &Service{store: s, problem: cfg.Problem, log: cfg.Logger}
	composer := tusd.NewStoreComposer()
	composer.UseCore(s)
	composer.UseTerminater(s)
	memorylocker.New().UseIn(composer)
	h, err := tusd.NewUnroutedHandler(tusd.Config{
		StoreComposer:        composer,
		MaxSize:              cfg.MaxSize,
		BasePath:             PathPrefix,
		DisableDownload:      true,
		DisableConcatenation: true,
		Cors:                 &tusd.CorsConfig{Disable: true}, // same-origin only
		// tusd logs every request at info; the node logs requests itself and problemWriter logs
		// failures, so tusd's own log is dropped.
		Logger:                  xslog.New(xslog.NewTextHandler(io.Discard, nil)),
		PreUploadCreateCallback: svc.beforeCreate,
		// A whole part is read before it is stored; between two reads the client may be silent
		// (a laptop asleep) for this long before the request is given up and its bytes saved.
		NetworkTimeout: time.Minute,
	})
	if err != nil {
		return nil, err
	}
	svc.tus = h
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathPrefix+"{$}", h.PostFile)
	// tusd reads the upload id from a path without the base path.
	mux.Handle("HEAD "+PathPrefix+"{id}", http.StripPrefix(PathPrefix, http.HandlerFunc(h.HeadFile)))
	mux.Handle("PATCH "+PathPrefix+"{id}", http.StripPrefix(PathPrefix, http.HandlerFunc(h.PatchFile)))
	mux.Handle("DELETE "+PathPrefix+"{id}", http.StripPrefix(PathPrefix, http.HandlerFunc(h.DelFile)))
	svc.handler = h.Middleware(mux)
	return svc, nil
}

// ServeHTTP serves the tus endpoint; every refusal becomes an RFC 9457 problem.
func (svc *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.Header.Get("X-HTTP-Method-Override") != "" {
		// The override would let a POST (checked as a POST by the middleware before) act as a DELETE.
		writeProblem(w, r, http.StatusBadRequest, "upload", "X-HTTP-Method-Override", "unsupported", "is not supported: send PATCH, HEAD or DELETE")
		return
	}
	note := &requestNote{}
	r = r.WithContext(context.WithValue(r.Context(), noteKey{}, note))
	pw := &problemWriter{ResponseWriter: w, req: r, log: svc.log, note: note}
	svc.handler.ServeHTTP(pw, r)
	pw.finish()
}

// beforeCreate checks a new upload as strictly as a single-request upload.
func (svc *Service) beforeCreate(hook tusd.HookEvent) (tusd.HTTPResponse, tusd.FileInfoChanges, error) {
	ctx := hook.Context
	p := auth.PrincipalFrom(ctx)
	info := hook.Upload
	none := tusd.HTTPResponse{}
	if !p.Authenticated() {
		return none, tusd.FileInfoChanges{}, refuse(http.StatusUnauthorized, "Authorization", "required", "sign in or send an API token as Authorization: Bearer")
	}
	practiceID := info.MetaData["practice"]
	if practiceID == "" {
		return none, tusd.FileInfoChanges{}, refuse(http.StatusBadRequest, "Upload-Metadata", "required", "must name the practice: practice <base64 of its id>")
	}
	if err := svc.store.authz(ctx, p, practiceID); err != nil {
		status, slug, detail := http.StatusInternalServerError, "internal", "something went wrong on the server"
		if svc.problem != nil {
			status, slug, detail = svc.problem(err)
		}
		return none, tusd.FileInfoChanges{}, problemError(status, slug, detail, nil)
	}
	name := info.MetaData["filename"]
	if err := practices.CheckFileName(name); err != nil {
		var ae *practices.ArtifactError
		errors.As(err, &ae)
		return none, tusd.FileInfoChanges{}, refuse(http.StatusUnprocessableEntity, "filename", ae.Rule, ae.Msg)
	}
	if info.SizeIsDeferred {
		return none, tusd.FileInfoChanges{}, refuse(http.StatusBadRequest, "Upload-Length", "required", "is required: the size must be declared when the upload starts")
	}
	if info.Size == 0 {
		return none, tusd.FileInfoChanges{}, refuse(http.StatusUnprocessableEntity, "Upload-Length", "empty", "the file is empty")
	}
	if d := info.MetaData["sha256"]; d != "" && !practices.ValidSHA256(d) {
		return none, tusd.FileInfoChanges{}, refuse(http.StatusBadRequest, "sha256", "format", "must be the file's SHA-256 as 64 lower-case hex digits")
	}
	// Keep only what the store uses: nothing else a client sends is stored or echoed.
	meta := tusd.MetaData{"practice": practiceID, "filename": name}
	if d := info.MetaData["sha256"]; d != "" {
		meta["sha256"] = d
	}
	expires := svc.store.now().Add(svc.store.expiry).UTC().Format(http.TimeFormat)
	return tusd.HTTPResponse{Header: tusd.HTTPHeader{"Upload-Expires": expires}}, tusd.FileInfoChanges{MetaData: meta}, nil
}

// Run sweeps expired uploads at start and every interval until ctx ends.
func (svc *Service) Run(ctx context.Context, interval time.Duration) {
	for {
		if _, err := svc.Sweep(ctx); err != nil && ctx.Err() == nil {
			svc.log.Warn("sweep uploads", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// Sweep finishes uploads a crash left finishing, removes expired ones (aborting their multipart
// uploads), and recounts the bytes unfinished uploads hold. It returns how many it removed.
func (svc *Service) Sweep(ctx context.Context) (removed int, err error) {
	s := svc.store
	var held int64
	after := ""
	for {
		objs, err := s.bucket.List(ctx, storage.ListOptions{Prefix: "uploads/", StartAfter: after, Limit: 1000})
		if err != nil {
			return removed, err
		}
		for _, o := range objs {
			after = o.Key
			id, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, "uploads/"), "/state.json")
			if !ok || !validID(id) {
				continue
			}
			st, err := loadState(ctx, s.bucket, id)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return removed, err
			}
			expired := s.now().After(st.Expires)
			if st.Finishing && !st.Done && !expired {
				if err := s.finish(ctx, st); err != nil {
					svc.log.Warn("finish interrupted upload", "upload", id, "err", err)
				}
			}
			switch {
			case expired:
				if err := s.discard(ctx, st); err != nil {
					return removed, err
				}
				removed++
				if !st.Done {
					svc.log.Info("expired upload removed", "upload", id, "held_bytes", st.Offset)
				}
			case !st.Done:
				held += st.Offset
			}
		}
		if len(objs) < 1000 {
			break
		}
	}
	s.held.set(held)
	return removed, nil
}

// heldBytes is the gauge of bytes held by unfinished uploads: adjusted as they change, recounted
// by every sweep (other replicas change it too).
type heldBytes struct {
	mu sync.Mutex
	v  int64
	g  prometheus.Gauge
}

func (h *heldBytes) add(d int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.v = max(0, h.v+d)
	h.g.Set(float64(h.v))
}

func (h *heldBytes) set(v int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.v = v
	h.g.Set(float64(v))
}

// SetNow replaces the service's clock (for tests of expiry).
func (svc *Service) SetNow(now func() time.Time) { svc.store.now = now }

// Held is the current value of the gauge (for tests).
func (svc *Service) Held() int64 {
	svc.store.held.mu.Lock()
	defer svc.store.held.mu.Unlock()
	return svc.store.held.v
}

// Problems.

// statusChecksumMismatch is tus's status for bytes that do not match their declared checksum.
const statusChecksumMismatch = 460

// codeRefused marks errors whose upload is discarded (a refused type, a wrong digest).
const codeRefused = "BS_REFUSED"

var (
	errExpired = problemError(http.StatusGone, "upload-expired", "the upload expired (unfinished uploads are kept 24 hours) and its bytes were removed; start a new upload",
		&practices.FieldError{Field: "upload", Rule: "expired", Message: "unfinished uploads are kept 24 hours"})
	errLost = problemError(http.StatusGone, "upload-expired", "the upload's parts are no longer in the store; start a new upload",
		&practices.FieldError{Field: "upload", Rule: "expired", Message: "the parts are gone"})
)

type problemBody struct {
	Type      string                 `json:"type"`
	Title     string                 `json:"title"`
	Status    int                    `json:"status"`
	Detail    string                 `json:"detail,omitempty"`
	Instance  string                 `json:"instance,omitempty"`
	RequestID string                 `json:"request_id,omitempty"`
	Errors    []practices.FieldError `json:"errors,omitempty"`
}

func statusText(status int) string {
	if status == statusChecksumMismatch {
		return "Checksum Mismatch"
	}
	return http.StatusText(status)
}

// problemError is a tusd error whose body is already a problem document.
func problemError(status int, slug, detail string, fe *practices.FieldError) tusd.Error {
	p := problemBody{Type: "/problems/" + slug, Title: statusText(status), Status: status, Detail: detail}
	if fe != nil {
		p.Errors = []practices.FieldError{*fe}
	}
	body, _ := json.Marshal(p)
	code := "BS_PROBLEM"
	if slug == "artifact" || (fe != nil && fe.Field == "sha256" && fe.Rule == "mismatch") {
		code = codeRefused
	}
	return tusd.Error{ErrorCode: code, Message: detail, HTTPResponse: tusd.HTTPResponse{
		StatusCode: status, Body: string(body), Header: tusd.HTTPHeader{"Content-Type": "application/problem+json"},
	}}
}

// refuse is a problem naming the field and the rule broken.
func refuse(status int, field, rule, msg string) tusd.Error {
	slug := "upload"
	if field == "file" || field == "sha256" {
		slug = "artifact"
	}
	return problemError(status, slug, field+": "+msg, &practices.FieldError{Field: field, Rule: rule, Message: msg})
}

// tusProblems names the rule behind each of tusd's own refusals.
var tusProblems = map[string]practices.FieldError{
	"ERR_MISMATCHED_OFFSET":         {Field: "Upload-Offset", Rule: "offset", Message: "does not match the bytes the node holds for this upload; ask with HEAD and continue from the offset it reports"},
	"ERR_INVALID_OFFSET":            {Field: "Upload-Offset", Rule: "format", Message: "must be a non-negative integer"},
	"ERR_UPLOAD_NOT_FOUND":          {Field: "upload", Rule: "not_found", Message: "no such upload, or it is not yours"},
	"ERR_MAX_SIZE_EXCEEDED":         {Field: "Upload-Length", Rule: "too_large", Message: "is larger than the node's limit for a file"},
	"ERR_UPLOAD_SIZE_EXCEEDED":      {Field: "Content-Length", Rule: "length", Message: "the chunk goes past the upload's declared Upload-Length"},
	"ERR_INVALID_UPLOAD_LENGTH":     {Field: "Upload-Length", Rule: "format", Message: "must be the file's size in bytes"},
	"ERR_AMBIGUOUS_UPLOAD_LENGTH":   {Field: "Upload-Length", Rule: "format", Message: "send Upload-Length, not Upload-Defer-Length"},
	"ERR_UNSUPPORTED_VERSION":       {Field: "Tus-Resumable", Rule: "required", Message: "must be 1.0.0"},
	"ERR_INVALID_CONTENT_TYPE":      {Field: "Content-Type", Rule: "format", Message: "a chunk must be sent as application/offset+octet-stream"},
	"ERR_UNEXPECTED_EOF":            {Field: "body", Rule: "length", Message: "the body ended before its Content-Length; the bytes that arrived are kept: ask with HEAD and continue"},
	"ERR_CONNECTION_RESET":          {Field: "body", Rule: "length", Message: "the connection was reset; the bytes that arrived are kept: ask with HEAD and continue"},
	"ERR_READ_TIMEOUT":              {Field: "body", Rule: "timeout", Message: "no bytes arrived for a minute; the bytes that arrived are kept: ask with HEAD and continue"},
	"ERR_UPLOAD_LOCKED":             {Field: "upload", Rule: "busy", Message: "another request is writing this upload"},
	"ERR_LOCK_TIMEOUT":              {Field: "upload", Rule: "busy", Message: "another request is writing this upload"},
	"ERR_UPLOAD_INTERRUPTED":        {Field: "upload", Rule: "busy", Message: "another request for this upload took over"},
	"ERR_NOT_IMPLEMENTED":           {Field: "request", Rule: "unsupported", Message: "this tus feature is not offered"},
	"ERR_CONCATENATION_UNSUPPORTED": {Field: "Upload-Concat", Rule: "unsupported", Message: "concatenation is not offered"},
	"ERR_SERVER_SHUTDOWN":           {Field: "request", Rule: "unavailable", Message: "the node is restarting; the bytes that arrived are kept: ask with HEAD and continue"},
}

// problemWriter rewrites tusd's plain-text errors into problem documents. Success responses pass
// through untouched.
type problemWriter struct {
	http.ResponseWriter
	req    *http.Request
	log    *slog.Logger
	status int // an error status being held back
	body   bytes.Buffer
	note   *requestNote
}

// requestNote carries what the data store learned during a request to the response: the hash of
// a finished upload, sent as Artifact-Sha256 on every response about it (HEAD included, so that a
// client whose final PATCH response was lost still learns it).
type requestNote struct{ sha256 string }

type noteKey struct{}

func noteFrom(ctx context.Context) *requestNote {
	n, _ := ctx.Value(noteKey{}).(*requestNote)
	return n
}

func (pw *problemWriter) Unwrap() http.ResponseWriter { return pw.ResponseWriter }

func (pw *problemWriter) WriteHeader(code int) {
	if code < 300 && pw.note.sha256 != "" {
		pw.Header().Set("Artifact-Sha256", pw.note.sha256)
	}
	if code >= 400 && !strings.HasPrefix(pw.Header().Get("Content-Type"), "application/problem+json") {
		pw.status = code
		return
	}
	pw.ResponseWriter.WriteHeader(code)
}

func (pw *problemWriter) Write(b []byte) (int, error) {
	if pw.status != 0 {
		if pw.body.Len() < 4096 {
			pw.body.Write(b)
		}
		return len(b), nil
	}
	return pw.ResponseWriter.Write(b)
}

func (pw *problemWriter) finish() {
	if pw.status == 0 {
		return
	}
	code, _, _ := strings.Cut(pw.body.String(), ":")
	fe, known := tusProblems[code]
	status := pw.status
	var p problemBody
	switch {
	case known:
		p = problemBody{Type: "/problems/upload", Detail: fe.Field + ": " + fe.Message, Errors: []practices.FieldError{fe}}
		if code == "ERR_UPLOAD_NOT_FOUND" {
			p.Type = "/problems/not-found"
		}
	case status >= 500:
		pw.log.Error("upload request failed", "method", pw.req.Method, "path", pw.req.URL.Path, "status", status, "err", strings.TrimSpace(pw.body.String()))
		p = problemBody{Type: "/problems/internal", Detail: "something went wrong on the server; the bytes that arrived are kept: ask with HEAD and continue, or quote the request id to your IT team"}
	default:
		p = problemBody{Type: "/problems/upload", Detail: strings.TrimSpace(pw.body.String())}
	}
	writeProblemBody(pw.ResponseWriter, pw.req, status, p)
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, slug, field, rule, msg string) {
	writeProblemBody(w, r, status, problemBody{Type: "/problems/" + slug, Detail: field + ": " + msg,
		Errors: []practices.FieldError{{Field: field, Rule: rule, Message: msg}}})
}

func writeProblemBody(w http.ResponseWriter, r *http.Request, status int, p problemBody) {
	p.Status, p.Title, p.Instance = status, statusText(status), r.URL.Path
	p.RequestID = w.Header().Get("X-Request-Id")
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
