package federation

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/brightspots-nic/brightspots/practices"
)

// Feed limits (docs/protocol.md, "Change feed" and "Errors and limits").
const (
	defaultPageLimit = 200
	maxPageItems     = 1000
	maxPageBytes     = 16 << 20
	// servePageBytes keeps the pages this node serves well under what any receiver accepts.
	servePageBytes = 12 << 20
	// scanBudget bounds the change-log entries one feed request reads (entries of mirrored records
	// are skipped, and a long run of them must not make one request read the whole log).
	scanBudget = 5000
)

// Handler serves the public discovery documents and the federation endpoints. Mount it at the root
// of the node's public URL for /.well-known/brightspots-node, /.well-known/openid-configuration,
// /.well-known/jwks.json and /federation/; paths are matched in full, so it must not be mounted
// under a stripped prefix (htu is checked against the node URL plus the request path).
func (f *Member) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/brightspots-node", f.serveNodeInfo)
	mux.HandleFunc("GET /.well-known/openid-configuration", f.serveDiscovery)
	mux.HandleFunc("GET /.well-known/jwks.json", f.serveJWKS)
	mux.Handle("GET /federation/v1/changes", f.auth(f.serveChanges))
	mux.Handle("GET /federation/v1/records/{kind}/{id}", f.auth(f.serveRecord))
	mux.Handle("GET /federation/v1/artifacts/{sha256}", f.auth(f.serveArtifact))
	mux.Handle("POST /federation/v1/notify", f.auth(f.serveNotify))
	mux.HandleFunc("/federation/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "Not found", "")
	})
	return mux
}

type authedHandler func(w http.ResponseWriter, r *http.Request, p practices.Principal) error

// auth runs the node-token checks before h (deny by default: every federation endpoint is behind it).
func (f *Member) auth(h authedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := f.Authenticate(r)
		if err != nil {
			var ae *authError
			errors.As(err, &ae)
			f.log.Info("federation request refused", "reason", ae.reason, "err", ae.err,
				"method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeProblem(w, http.StatusUnauthorized, "Unauthorized", "A valid node token is required.")
			return
		}
		if err := h(w, r, p); err != nil {
			var he *httpError
			if errors.As(err, &he) {
				writeProblem(w, he.status, http.StatusText(he.status), he.detail)
				return
			}
			id := fmt.Sprintf("%x", f.now().UnixNano())
			f.log.Error("federation request failed", "error_id", id, "peer", p.PeerID, "path", r.URL.Path, "err", err)
			writeProblem(w, http.StatusInternalServerError, "Internal error", "Error "+id+".")
		}
	})
}

// httpError is an error with a status a client may see.
type httpError struct {
	status int
	detail string
}

func (e *httpError) Error() string { return fmt.Sprintf("%d %s", e.status, e.detail) }

var errNotFound = &httpError{http.StatusNotFound, ""}

func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	body := map[string]any{"type": "about:blank", "title": title, "status": status}
	if detail != "" {
		body["detail"] = detail
	}
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// NodeInfo is /.well-known/brightspots-node.
type NodeInfo struct {
	NodeURL  string   `json:"node_url"`
	NodeID   string   `json:"node_id"`
	Name     string   `json:"name"`
	Protocol []string `json:"protocol"`
	Software string   `json:"software"`
	Contact  string   `json:"contact,omitempty"`
}

func (f *Member) serveNodeInfo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "max-age=300")
	writeJSON(w, http.StatusOK, NodeInfo{
		NodeURL: f.node.URL, NodeID: f.node.ID, Name: f.cfg.Name, Protocol: []string{"1"},
		Software: f.software, Contact: f.cfg.Contact,
	})
}

func (f *Member) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "max-age=300")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                f.node.URL,
		"jwks_uri":                              f.node.URL + "/.well-known/jwks.json",
		"id_token_signing_alg_values_supported": []string{AlgEdDSA, AlgES256},
	})
}

func (f *Member) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if err := f.keys.reloadIfStale(r.Context()); err != nil {
		f.log.Warn("reload node keys", "err", err)
	}
	w.Header().Set("Cache-Control", "max-age=300")
	writeJSON(w, http.StatusOK, f.keys.published())
}

// Cursors are opaque to peers; here they are a change-log sequence number.
func encodeCursor(seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c1:" + strconv.FormatUint(seq, 10)))
}

func decodeCursor(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	if len(s) > 64 {
		return 0, errors.New("cursor too long")
	}
	// Strict: one cursor has one spelling (non-zero trailing bits would give a second one).
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return 0, errors.New("malformed cursor")
	}
	n, ok := strings.CutPrefix(string(b), "c1:")
	if !ok {
		return 0, errors.New("malformed cursor")
	}
	seq, err := strconv.ParseUint(n, 10, 64)
	if err != nil || strconv.FormatUint(seq, 10) != n {
		return 0, errors.New("malformed cursor")
	}
	return seq, nil
}

// Page is a change-feed page.
type Page struct {
	Items []PageItem `json:"items"`
	Next  string     `json:"next"`
	More  bool       `json:"more"`
}

// PageItem is one record's current state in a page.
type PageItem struct {
	Cursor string `json:"cursor"`
	JWS    string `json:"jws"`
}

type recordKey struct {
	kind practices.Kind
	id   string
}

func (f *Member) serveChanges(w http.ResponseWriter, r *http.Request, p practices.Principal) error {
	q := r.URL.Query()
	after, err := decodeCursor(q.Get("after"))
	if err != nil {
		return &httpError{http.StatusBadRequest, "The after parameter is not a cursor this node issued."}
	}
	limit := defaultPageLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageItems {
			return &httpError{http.StatusBadRequest, "limit must be an integer from 1 to 1000."}
		}
		limit = n
	}
	page, err := f.buildPage(r, p, after, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// buildPage reads the change log after `after` and returns each of this node's records that changed,
// once, at its current state as peer p may see it.
func (f *Member) buildPage(r *http.Request, p practices.Principal, after uint64, limit int) (Page, error) {
	ctx := r.Context()
	page := Page{Items: []PageItem{}}
	seen := map[recordKey]bool{}
	pos, scanned, size := after, 0, 0
	end, stalled := false, false
scan:
	for len(page.Items) < limit && scanned < scanBudget {
		want := min(1000, limit-len(page.Items)+32)
		entries, err := f.repo.ReadLog(ctx, pos, want)
		if err != nil {
			return Page{}, fmt.Errorf("feed: %w", err)
		}
		for _, e := range entries {
			scanned++
			k := recordKey{e.Kind, e.ID}
			if (e.Origin != "" && e.Origin != f.node.URL) || seen[k] {
				pos = e.Seq
				continue
			}
			jws, settled, err := f.feedItem(r, p, e)
			if err != nil {
				return Page{}, err
			}
			if !settled {
				// The entry's version is committed but the head has not caught up yet (a write in
				// flight, or one the reconciler will finish): stop before it, and come back later.
				stalled = true
				break scan
			}
			if jws != "" {
				if len(jws) > maxJWSBytes {
					f.log.Error("feed: signed document over the size limit, not served", "kind", e.Kind, "id", e.ID, "bytes", len(jws))
				} else {
					if size+len(jws) > servePageBytes && len(page.Items) > 0 {
						break scan
					}
					size += len(jws) + 64
					page.Items = append(page.Items, PageItem{Cursor: encodeCursor(e.Seq), JWS: jws})
				}
			}
			seen[k] = true
			pos = e.Seq
			if len(page.Items) == limit {
				break scan
			}
		}
		if len(entries) < want {
			end = true
			break
		}
	}
	page.Next = encodeCursor(pos)
	page.More = !end && !stalled
	return page, nil
}

// feedItem returns the signed current state of the record e names, "" to leave it out (a draft never
// published has never left the node), or settled false when the record's head is behind e.
func (f *Member) feedItem(r *http.Request, p practices.Principal, e practices.LogEntry) (string, bool, error) {
	rec, gone, err := f.repo.Load(r.Context(), f.node.URL, e.Kind, e.ID)
	if err != nil {
		return "", false, fmt.Errorf("feed: load %s %s: %w", e.Kind, e.ID, err)
	}
	if gone {
		if e.Op == "delete" {
			jws, err := f.signTombstone(e.Kind, e.ID, e.Version, ReasonDeleted, e.At)
			return jws, true, err
		}
		return "", false, nil
	}
	m := rec.RecordMeta()
	if m.Version < e.Version {
		return "", false, nil
	}
	if m.Status == practices.StatusDraft {
		return "", true, nil
	}
	if practices.CanRead(p, m, f.node) {
		jws, err := f.signRecord(rec)
		return jws, true, err
	}
	reason, at := ReasonVisibility, m.UpdatedAt
	if m.Status == practices.StatusWithdrawn {
		reason = ReasonWithdrawn
		if m.WithdrawnAt != nil {
			at = *m.WithdrawnAt
		}
	}
	jws, err := f.signTombstone(m.Kind, m.ID, m.Version, reason, at)
	return jws, true, err
}

func (f *Member) serveRecord(w http.ResponseWriter, r *http.Request, p practices.Principal) error {
	kind := practices.Kind(r.PathValue("kind"))
	if !kind.Valid() {
		return errNotFound
	}
	rec, err := f.repo.Get(r.Context(), p, kind, r.PathValue("id"))
	if errors.Is(err, practices.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return fmt.Errorf("record %s %s: %w", kind, r.PathValue("id"), err)
	}
	jws, err := f.signRecord(rec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"jws": jws})
	return nil
}

func (f *Member) serveArtifact(w http.ResponseWriter, r *http.Request, p practices.Principal) error {
	sum := r.PathValue("sha256")
	if !practices.ValidSHA256(sum) {
		return errNotFound
	}
	if _, err := f.repo.ArtifactVisibleTo(r.Context(), p, sum); err != nil {
		if errors.Is(err, practices.ErrNotFound) {
			return errNotFound
		}
		return fmt.Errorf("artifact %s: %w", sum, err)
	}
	rc, info, err := f.repo.ArtifactBytes(r.Context(), sum, 0, -1)
	if errors.Is(err, practices.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return fmt.Errorf("artifact %s: %w", sum, err)
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	w.Header().Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		f.log.Warn("artifact response cut short", "sha256", sum, "peer", p.PeerID, "err", err)
	}
	return nil
}

func (f *Member) serveNotify(w http.ResponseWriter, r *http.Request, p practices.Principal) error {
	var body struct {
		Cursor string `json:"cursor"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		return &httpError{http.StatusBadRequest, "The body must be {\"cursor\": \"...\"}."}
	}
	if pr, ok := f.byURL[p.Subject]; ok {
		select {
		case pr.wake <- struct{}{}:
		default:
		}
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
