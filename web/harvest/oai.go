package harvest

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/brightspots-nic/brightspots/practices"
)

//go:embed lrmi.xsd
var lrmiXSD []byte

// Config configures the harvesting surface of a node.
type Config struct {
	Repo       *practices.Repo
	Name       string // repository name (the district's display name)
	AdminEmail string // Identify's adminEmail; OAI-PMH requires one
	// PageSize is how many records one ListRecords page holds (ListIdentifiers pages hold twice as
	// many headers). Default 200.
	PageSize int
	// TokenTTL is how long a resumption token stays valid. Default 24 hours.
	TokenTTL time.Duration
	// PageKinds are the kinds with a public page at /{kind}s/{id}, listed in the sitemap.
	PageKinds []practices.Kind
	Logger    *slog.Logger
	Now       func() time.Time
}

// Handler serves OAI-PMH (and, in other files, the node's feeds and sitemaps) from the change log.
type Handler struct {
	repo     *practices.Repo
	cfg      Config
	site     site
	host     string
	formats  []format
	tokenKey tokenKey
	log      *slog.Logger
	now      func() time.Time

	groupCache groupCache
	sitemap    sitemap

	neverMu     sync.Mutex
	neverPublic map[string]int // "kind/id" → head version known never to have been public
}

// New returns the harvesting handler of the node that repo belongs to.
func New(cfg Config) *Handler {
	if cfg.PageSize <= 0 {
		cfg.PageSize = 200
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	node := cfg.Repo.Node()
	host := node.URL
	if u, err := url.Parse(node.URL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	name := cfg.Name
	if name == "" {
		name = node.ID
	}
	return &Handler{
		repo: cfg.Repo, cfg: cfg, site: site{url: node.URL, name: name}, host: host,
		formats: formats(node.URL), tokenKey: tokenKey{bucket: cfg.Repo.Bucket()},
		log: cfg.Logger, now: cfg.Now, neverPublic: map[string]int{}, sitemap: sitemap{limit: SitemapLimit},
	}
}

// OAI-PMH error codes (the specification, section 3.6).
const (
	errBadArgument             = "badArgument"
	errBadResumptionToken      = "badResumptionToken"
	errBadVerb                 = "badVerb"
	errCannotDisseminateFormat = "cannotDisseminateFormat"
	errIDDoesNotExist          = "idDoesNotExist"
	errNoRecordsMatch          = "noRecordsMatch"
	errNoMetadataFormats       = "noMetadataFormats"
	errNoSetHierarchy          = "noSetHierarchy"
)

// oaiError is a protocol error: answered with 200 and an <error> element, never a 5xx.
type oaiError struct{ code, msg string }

func (e *oaiError) Error() string { return e.code + ": " + e.msg }

func protoErr(code, format string, args ...any) *oaiError {
	return &oaiError{code, fmt.Sprintf(format, args...)}
}

// Arguments each verb accepts; true means required. A resumptionToken is exclusive (checked apart).
var verbArgs = map[string]map[string]bool{
	"Identify":            {},
	"ListMetadataFormats": {"identifier": false},
	"ListSets":            {"resumptionToken": false},
	"GetRecord":           {"identifier": true, "metadataPrefix": true},
	"ListIdentifiers":     {"metadataPrefix": true, "from": false, "until": false, "set": false, "resumptionToken": false},
	"ListRecords":         {"metadataPrefix": true, "from": false, "until": false, "set": false, "resumptionToken": false},
}

// maxRequestBytes bounds a POSTed request (arguments are short; tokens are ≤ 1 KiB).
const maxRequestBytes = 8 << 10

// ServeOAI answers GET and POST /oai.
func (h *Handler) ServeOAI(w http.ResponseWriter, r *http.Request) {
	var raw string
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		raw = r.URL.RawQuery
	case http.MethodPost:
		mt := strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0])
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
		if err != nil {
			http.Error(w, "could not read the request body", http.StatusBadRequest)
			return
		}
		if len(body) > maxRequestBytes {
			h.write(w, nil, protoErr(errBadArgument, "The request is larger than %d bytes.", maxRequestBytes))
			return
		}
		if mt != "application/x-www-form-urlencoded" {
			h.write(w, nil, protoErr(errBadArgument, "POST requests must be application/x-www-form-urlencoded."))
			return
		}
		raw = string(body)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "OAI-PMH requests use GET or POST", http.StatusMethodNotAllowed)
		return
	}
	args, perr := parseArgs(raw)
	if perr != nil {
		h.write(w, nil, perr)
		return
	}
	body, err := h.dispatch(r.Context(), args)
	var oe *oaiError
	if errors.As(err, &oe) {
		if oe.code == errBadVerb || oe.code == errBadArgument {
			args = nil // the request element then carries no attributes (section 3.2)
		}
		h.write(w, args, oe)
		return
	}
	if err != nil {
		id := fmt.Sprintf("%x", h.now().UnixNano())
		h.log.Error("oai-pmh request failed", "error_id", id, "verb", args["verb"], "err", err)
		http.Error(w, "Internal error "+id+"; try again later.", http.StatusServiceUnavailable)
		return
	}
	h.writeBody(w, args, body)
}

// parseArgs decodes the query and enforces OAI-PMH's argument rules that do not depend on the verb:
// a verb present once, no argument repeated.
func parseArgs(raw string) (map[string]string, *oaiError) {
	if len(raw) > maxRequestBytes {
		return nil, protoErr(errBadArgument, "The request is longer than %d bytes.", maxRequestBytes)
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, protoErr(errBadArgument, "The request's arguments are not well-formed URL encoding.")
	}
	if len(vals["verb"]) != 1 {
		if len(vals["verb"]) == 0 {
			return nil, protoErr(errBadVerb, "The verb argument is missing.")
		}
		return nil, protoErr(errBadVerb, "The verb argument is repeated.")
	}
	verb := vals.Get("verb")
	allowed, ok := verbArgs[verb]
	if !ok {
		return nil, protoErr(errBadVerb, "%q is not an OAI-PMH verb.", truncate(verb))
	}
	args := map[string]string{"verb": verb}
	for k, v := range vals {
		if k == "verb" {
			continue
		}
		if _, ok := allowed[k]; !ok {
			return nil, protoErr(errBadArgument, "%s does not take the argument %q.", verb, truncate(k))
		}
		if len(v) != 1 {
			return nil, protoErr(errBadArgument, "The argument %s is repeated.", k)
		}
		args[k] = v[0]
	}
	if _, ok := args["resumptionToken"]; ok {
		if len(args) != 2 {
			return nil, protoErr(errBadArgument, "resumptionToken is an exclusive argument: send it alone with the verb.")
		}
		return args, nil
	}
	for k, required := range allowed {
		if _, has := args[k]; required && !has {
			return nil, protoErr(errBadArgument, "%s requires the argument %s.", verb, k)
		}
	}
	return args, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func (h *Handler) dispatch(ctx context.Context, args map[string]string) ([]byte, error) {
	switch args["verb"] {
	case "Identify":
		return h.identify(ctx)
	case "ListMetadataFormats":
		return h.listMetadataFormats(ctx, args["identifier"])
	case "ListSets":
		if _, ok := args["resumptionToken"]; ok {
			return nil, protoErr(errBadResumptionToken, "ListSets answers in one response; this repository issued no ListSets token.")
		}
		return h.listSets(ctx)
	case "GetRecord":
		return h.getRecord(ctx, args["identifier"], args["metadataPrefix"])
	case "ListIdentifiers", "ListRecords":
		return h.list(ctx, args)
	}
	return nil, protoErr(errBadVerb, "unknown verb")
}

// write answers a protocol error.
func (h *Handler) write(w http.ResponseWriter, args map[string]string, e *oaiError) {
	var b bytes.Buffer
	b.WriteString(`<error code="` + e.code + `">`)
	esc(&b, e.msg)
	b.WriteString(`</error>`)
	h.writeBody(w, args, b.Bytes())
}

// writeBody wraps body in the OAI-PMH envelope.
func (h *Handler) writeBody(w http.ResponseWriter, args map[string]string, body []byte) {
	var b bytes.Buffer
	b.Grow(len(body) + 1024)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" xmlns:xsi="` + nsXSI +
		`" xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">` + "\n")
	b.WriteString("<responseDate>" + datestamp(h.now()) + "</responseDate>\n<request")
	for _, k := range []string{"verb", "identifier", "metadataPrefix", "from", "until", "set", "resumptionToken"} {
		if v, ok := args[k]; ok {
			b.WriteString(" " + k + `="`)
			_ = escAttr(&b, v)
			b.WriteString(`"`)
		}
	}
	b.WriteString(">")
	esc(&b, h.site.url+"/oai")
	b.WriteString("</request>\n")
	b.Write(body)
	b.WriteString("\n</OAI-PMH>\n")
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

func escAttr(b *bytes.Buffer, s string) error {
	esc(b, s) // EscapeText also escapes quotes
	return nil
}

func (h *Handler) identify(ctx context.Context) ([]byte, error) {
	earliest := h.now()
	if entries, err := h.repo.ReadLog(ctx, 0, 1); err != nil {
		return nil, err
	} else if len(entries) == 1 {
		earliest = entries[0].At
	}
	var b bytes.Buffer
	b.WriteString("<Identify>")
	elem(&b, "repositoryName", h.site.name)
	elem(&b, "baseURL", h.site.url+"/oai")
	elem(&b, "protocolVersion", "2.0")
	admin := strings.TrimPrefix(h.cfg.AdminEmail, "mailto:")
	if !strings.Contains(admin, "@") || strings.ContainsAny(admin, " /") {
		admin = "admin@" + h.host
	}
	elem(&b, "adminEmail", admin)
	elem(&b, "earliestDatestamp", datestamp(earliest.Add(-time.Second)))
	elem(&b, "deletedRecord", "persistent")
	elem(&b, "granularity", "YYYY-MM-DDThh:mm:ssZ")
	b.WriteString(`<description><oai-identifier xmlns="http://www.openarchives.org/OAI/2.0/oai-identifier" xmlns:xsi="` + nsXSI +
		`" xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai-identifier http://www.openarchives.org/OAI/2.0/oai-identifier.xsd">`)
	elem(&b, "scheme", "oai")
	elem(&b, "repositoryIdentifier", h.host)
	elem(&b, "delimiter", ":")
	elem(&b, "sampleIdentifier", h.identifier(practices.KindPractice, "0190d0a4-9c4e-7c3a-8a51-1f2e3d4c5b6a"))
	b.WriteString("</oai-identifier></description>")
	b.WriteString("</Identify>")
	return b.Bytes(), nil
}

// identifier is the OAI identifier of a local record: oai:{host}:{kind}/{uuid}.
func (h *Handler) identifier(kind practices.Kind, id string) string {
	return "oai:" + h.host + ":" + string(kind) + "/" + id
}

// parseIdentifier returns the kind and id an identifier names, or false when it is not one of this
// repository's identifiers.
func (h *Handler) parseIdentifier(s string) (practices.Kind, string, bool) {
	rest, ok := strings.CutPrefix(s, "oai:"+h.host+":")
	if !ok {
		return "", "", false
	}
	k, id, ok := strings.Cut(rest, "/")
	kind := practices.Kind(k)
	if !ok || !kind.Valid() {
		return "", "", false
	}
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return "", "", false
	}
	return kind, id, true
}

func (h *Handler) format(prefix string) (format, bool) {
	for _, f := range h.formats {
		if f.prefix == prefix {
			return f, true
		}
	}
	return format{}, false
}

func (h *Handler) listMetadataFormats(ctx context.Context, identifier string) ([]byte, error) {
	if identifier != "" {
		if _, err := h.lookup(ctx, identifier); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	b.WriteString("<ListMetadataFormats>")
	for _, f := range h.formats {
		b.WriteString("<metadataFormat>")
		elem(&b, "metadataPrefix", f.prefix)
		elem(&b, "schema", f.schema)
		elem(&b, "metadataNamespace", f.namespace)
		b.WriteString("</metadataFormat>")
	}
	b.WriteString("</ListMetadataFormats>")
	return b.Bytes(), nil
}

func (h *Handler) listSets(ctx context.Context) ([]byte, error) {
	g, err := h.groups(ctx)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("<ListSets>")
	for _, s := range allSets(g) {
		b.WriteString("<set>")
		elem(&b, "setSpec", s.spec)
		name := s.name
		if name == "" {
			name = s.spec
		}
		elem(&b, "setName", name)
		b.WriteString("</set>")
	}
	b.WriteString("</ListSets>")
	return b.Bytes(), nil
}

// item is one record of a list: its exposure, and whether it now reads as deleted.
type item struct {
	x       practices.Exposure
	deleted bool
}

// lookup finds a harvestable record by identifier: public now, or public once (then deleted).
func (h *Handler) lookup(ctx context.Context, identifier string) (item, error) {
	kind, id, ok := h.parseIdentifier(identifier)
	if !ok {
		return item{}, protoErr(errIDDoesNotExist, "%q is not an identifier of this repository.", truncate(identifier))
	}
	x, err := h.repo.Exposure(ctx, kind, id)
	if errors.Is(err, practices.ErrNotFound) || (err == nil && x.LastPublic == nil) {
		return item{}, protoErr(errIDDoesNotExist, "No record has the identifier %q.", truncate(identifier))
	}
	if err != nil {
		return item{}, err
	}
	return item{x: x, deleted: !x.Public()}, nil
}

func (h *Handler) getRecord(ctx context.Context, identifier, prefix string) ([]byte, error) {
	f, ok := h.format(prefix)
	if !ok {
		return nil, protoErr(errCannotDisseminateFormat, "This repository has no metadata format %q; see ListMetadataFormats.", truncate(prefix))
	}
	it, err := h.lookup(ctx, identifier)
	if err != nil {
		return nil, err
	}
	g, err := h.groups(ctx)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("<GetRecord>")
	h.writeRecord(&b, it, f, g, true)
	b.WriteString("</GetRecord>")
	return b.Bytes(), nil
}

// writeRecord writes <record> (withMetadata) or <header> alone.
func (h *Handler) writeRecord(b *bytes.Buffer, it item, f format, g *groups, withMetadata bool) {
	head := it.x.Head.RecordMeta()
	if withMetadata {
		b.WriteString("<record>")
	}
	if it.deleted {
		b.WriteString(`<header status="deleted">`)
	} else {
		b.WriteString("<header>")
	}
	elem(b, "identifier", h.identifier(head.Kind, head.ID))
	elem(b, "datestamp", datestamp(head.UpdatedAt))
	// A deleted record keeps the sets of its last public version, so a set's harvesters learn of it.
	for _, s := range setSpecs(it.x.LastPublic, g) {
		elem(b, "setSpec", s)
	}
	b.WriteString("</header>")
	if withMetadata {
		if !it.deleted {
			b.WriteString("<metadata>")
			f.write(b, it.x.Head, h.site)
			b.WriteString("</metadata>")
		}
		b.WriteString("</record>")
	}
}

// parseDate reads an OAI-PMH date at day or second granularity. until at day granularity means the
// whole day.
func parseDate(s string, until bool) (t time.Time, seconds bool, ok bool) {
	switch len(s) {
	case len("2006-01-02"):
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return time.Time{}, false, false
		}
		if until {
			t = t.Add(24*time.Hour - time.Second)
		}
		return t, false, true
	case len("2006-01-02T15:04:05Z"):
		t, err := time.Parse("2006-01-02T15:04:05Z", s)
		if err != nil || t.Format("2006-01-02T15:04:05Z") != s {
			return time.Time{}, false, false
		}
		return t, true, true
	}
	return time.Time{}, false, false
}

// listRequest turns the arguments of a first ListRecords/ListIdentifiers request into a token.
func (h *Handler) listRequest(ctx context.Context, args map[string]string) (token, error) {
	t := token{Verb: args["verb"], Prefix: args["metadataPrefix"], Set: args["set"]}
	var fromSec, untilSec bool
	var from, until time.Time
	if s, ok := args["from"]; ok {
		var valid bool
		if from, fromSec, valid = parseDate(s, false); !valid {
			return token{}, protoErr(errBadArgument, "from must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC).")
		}
		t.From = from.Unix()
	}
	if s, ok := args["until"]; ok {
		var valid bool
		if until, untilSec, valid = parseDate(s, true); !valid {
			return token{}, protoErr(errBadArgument, "until must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC).")
		}
		t.Until = until.Unix()
	}
	_, hasFrom := args["from"]
	_, hasUntil := args["until"]
	if hasFrom && hasUntil {
		if fromSec != untilSec {
			return token{}, protoErr(errBadArgument, "from and until must have the same granularity.")
		}
		if from.After(until) {
			return token{}, protoErr(errBadArgument, "from is later than until.")
		}
	}
	if !hasFrom {
		t.From = minTime
	}
	if !hasUntil {
		t.Until = maxTime
	}
	if _, ok := h.format(t.Prefix); !ok {
		return token{}, protoErr(errCannotDisseminateFormat, "This repository has no metadata format %q; see ListMetadataFormats.", truncate(t.Prefix))
	}
	if t.Set != "" {
		if !setSpecPattern.MatchString(t.Set) || len(t.Set) > 128 {
			return token{}, protoErr(errBadArgument, "%q is not a setSpec.", truncate(t.Set))
		}
		g, err := h.groups(ctx)
		if err != nil {
			return token{}, err
		}
		if !knownSet(t.Set, g) {
			return token{}, protoErr(errNoRecordsMatch, "This repository has no set %q; see ListSets.", t.Set)
		}
	}
	if hasFrom {
		after, err := h.seekFrom(ctx, from)
		if err != nil {
			return token{}, err
		}
		t.After = after
	}
	return t, nil
}

// Unbounded from/until, as unix seconds (years 0001 and 9999).
const (
	minTime int64 = -62135596800
	maxTime int64 = 253402300799
)

// logSlack covers how far a change-log entry's time may trail the record time it announces (a write
// in flight, clocks of replicas): the scan starts this much before `from` and filters exactly.
const logSlack = 10 * time.Minute

// seekFrom returns the change-log position to scan after for records changed at or after from: a
// binary search over the gap-free log (entry times rise with sequence numbers, up to logSlack).
func (h *Handler) seekFrom(ctx context.Context, from time.Time) (uint64, error) {
	target := from.Add(-logSlack)
	lo, hi := uint64(1), h.repo.LogEnd()+1 // find the first seq in [lo, hi) with At ≥ target
	for lo < hi {
		mid := lo + (hi-lo)/2
		entries, err := h.repo.ReadLog(ctx, mid-1, 1)
		if err != nil {
			return 0, err
		}
		if len(entries) == 0 || !entries[0].At.Before(target) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo - 1, nil
}

func (h *Handler) list(ctx context.Context, args map[string]string) ([]byte, error) {
	key, err := h.tokenKey.get(ctx)
	if err != nil {
		return nil, err
	}
	var t token
	first := true
	if s, ok := args["resumptionToken"]; ok {
		first = false
		if t, err = decodeToken(key, s, h.now()); err != nil {
			return nil, protoErr(errBadResumptionToken, "The resumption token is not valid: it was altered, was not issued here, or has expired. Start the list again.")
		}
		if t.Verb != args["verb"] {
			return nil, protoErr(errBadResumptionToken, "This resumption token belongs to %s, not %s.", t.Verb, args["verb"])
		}
	} else if t, err = h.listRequest(ctx, args); err != nil {
		return nil, err
	}
	f, ok := h.format(t.Prefix)
	if !ok {
		return nil, protoErr(errBadResumptionToken, "The resumption token names a format this repository no longer has.")
	}
	g, err := h.groups(ctx)
	if err != nil {
		return nil, err
	}
	size := h.cfg.PageSize
	withMetadata := t.Verb == "ListRecords"
	if !withMetadata {
		size *= 2
	}
	items, last, more, err := h.scan(ctx, t, g, size)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 && first {
		return nil, protoErr(errNoRecordsMatch, "No records match the request.")
	}
	var b bytes.Buffer
	b.WriteString("<" + t.Verb + ">")
	for _, it := range items {
		h.writeRecord(&b, it, f, g, withMetadata)
	}
	switch {
	case more:
		next := t
		next.After, next.Cursor = last, t.Cursor+len(items)
		expires := h.now().Add(h.cfg.TokenTTL).UTC().Truncate(time.Second)
		next.Expires = expires.Unix()
		b.WriteString(`<resumptionToken expirationDate="` + datestamp(expires) + `" cursor="` + strconv.Itoa(t.Cursor) + `">`)
		esc(&b, encodeToken(key, next))
		b.WriteString("</resumptionToken>")
	case !first:
		// The last page of a resumed list carries an empty token (section 3.5).
		b.WriteString(`<resumptionToken cursor="` + strconv.Itoa(t.Cursor) + `"/>`)
	}
	b.WriteString("</" + t.Verb + ">")
	return b.Bytes(), nil
}

// scanBudget bounds the change-log entries one page reads once it has at least one record, so a
// selective harvest of a rare set over a long log answers in pieces.
const scanBudget = 50_000

// scan reads the change log after t.After and returns up to size records matching t, each once, at
// the log entry of its current version; last is the position to resume after and more whether
// another matching record may follow. One record past the page is looked for, so a list never ends
// with an empty page.
//
// Entries are read a batch at a time: an entry followed in the same batch by another for the same
// record is skipped without reading the record (the later one announces a newer version), and the
// records the rest name are read in parallel.
func (h *Handler) scan(ctx context.Context, t token, g *groups, size int) (items []item, last uint64, more bool, err error) {
	local := h.repo.Node().URL
	pos, scanned := t.After, 0
	seen := map[string]bool{}
	stopAfter := time.Unix(t.Until, 0).Add(logSlack)
	for {
		want := min(1000, 2*(size+1-len(items))+16)
		entries, err := h.repo.ReadLogConcurrent(ctx, pos, want, readWorkers)
		if err != nil {
			return nil, 0, false, err
		}
		found, err := h.batchItems(ctx, entries, local)
		if err != nil {
			return nil, 0, false, err
		}
		for i, e := range entries {
			if t.Until != maxTime && e.At.After(stopAfter) {
				return items, pos, false, nil // every later entry announces a change after until
			}
			scanned++
			if it := found[i]; it != nil && h.matches(*it, t, g) {
				k := string(e.Kind) + "/" + e.ID
				if !seen[k] {
					if len(items) == size {
						return items, pos, true, nil // a record follows: resume before it
					}
					seen[k] = true
					items = append(items, *it)
				}
			}
			pos = e.Seq
			if len(items) > 0 && scanned >= scanBudget {
				return items, pos, true, nil
			}
		}
		if len(entries) < want {
			return items, pos, false, nil
		}
	}
}

// readWorkers is how many records (and log entries) a scan reads at once.
const readWorkers = 8

// batchItems returns, for each entry of a batch, the item it announces or nil.
func (h *Handler) batchItems(ctx context.Context, entries []practices.LogEntry, local string) ([]*item, error) {
	lastOf := make(map[string]int, len(entries))
	for i, e := range entries {
		lastOf[string(e.Kind)+"/"+e.ID] = i
	}
	out := make([]*item, len(entries))
	errs := make([]error, len(entries))
	var wg sync.WaitGroup
	next := make(chan int)
	for range readWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				it, ok, err := h.entryItem(ctx, entries[i])
				if ok {
					out[i] = &it
				}
				errs[i] = err
			}
		}()
	}
	for i, e := range entries {
		if (e.Origin != "" && e.Origin != local) || lastOf[string(e.Kind)+"/"+e.ID] != i {
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// entryItem returns the record a log entry names when the entry is the one of the record's current
// version and the record is or was public.
func (h *Handler) entryItem(ctx context.Context, e practices.LogEntry) (item, bool, error) {
	key := string(e.Kind) + "/" + e.ID
	h.neverMu.Lock()
	v, never := h.neverPublic[key]
	h.neverMu.Unlock()
	if never && v >= e.Version {
		return item{}, false, nil
	}
	x, err := h.repo.Exposure(ctx, e.Kind, e.ID)
	if errors.Is(err, practices.ErrNotFound) {
		return item{}, false, nil
	}
	if err != nil {
		return item{}, false, fmt.Errorf("oai: %s %s: %w", e.Kind, e.ID, err)
	}
	head := x.Head.RecordMeta()
	if x.LastPublic == nil {
		h.neverMu.Lock()
		if len(h.neverPublic) > 100_000 {
			clear(h.neverPublic)
		}
		h.neverPublic[key] = head.Version
		h.neverMu.Unlock()
		return item{}, false, nil
	}
	if head.Version != e.Version {
		return item{}, false, nil // a later entry (or the reconciler's) announces the current version
	}
	return item{x: x, deleted: !x.Public()}, true, nil
}

func (h *Handler) matches(it item, t token, g *groups) bool {
	ts := it.x.Head.RecordMeta().UpdatedAt.Unix()
	if ts < t.From || ts > t.Until {
		return false
	}
	if t.Set == "" {
		return true
	}
	for _, s := range setSpecs(it.x.LastPublic, g) {
		if s == t.Set {
			return true
		}
	}
	return false
}

// ServeLRMISchema serves the XML schema of the lrmi metadata format.
func (h *Handler) ServeLRMISchema(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=86400")
	_, _ = w.Write(lrmiXSD)
}
