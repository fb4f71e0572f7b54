package harvest

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
)

// The sitemap (sitemaps.org protocol 0.9) lists the pages of the node's public local records with
// their lastmod. It is kept as a map of public records, brought up to date on each request by the
// same change-log scan OAI-PMH uses, from where the last request stopped: so it is exact (a withdrawal
// drops a page at once) and a request costs only the changes since the previous one. Past
// SitemapLimit URLs, /sitemap.xml becomes a sitemap index of /sitemap-{n}.xml files.

// SitemapLimit is the most URLs one sitemap file may hold (sitemaps.org).
const SitemapLimit = 50_000

type sitemapEntry struct {
	path    string // "/practices/{id}"
	lastmod time.Time
}

type sitemap struct {
	limit   int // URLs per file: SitemapLimit (tests make it small)
	mu      sync.Mutex
	pos     uint64
	entries map[string]sitemapEntry // "kind/id" → page
	sorted  []sitemapEntry          // entries by path; nil when stale
}

// pagePath is the public page of a record, "" for kinds without one.
func (h *Handler) pagePath(kind practices.Kind, id string) string {
	if !slices.Contains(h.cfg.PageKinds, kind) {
		return ""
	}
	return "/" + kind.Plural() + "/" + id
}

// sitemapEntries brings the map up to date with the change log and returns the pages in order.
func (h *Handler) sitemapEntries(ctx context.Context) ([]sitemapEntry, error) {
	sm := &h.sitemap
	sm.mu.Lock()
	defer sm.mu.Unlock()
	if sm.entries == nil {
		sm.entries = map[string]sitemapEntry{}
	}
	g := &groups{of: map[string][]string{}} // sets do not matter here
	for {
		items, last, more, err := h.scan(ctx, token{From: minTime, Until: maxTime, After: sm.pos}, g, 1000)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			m := it.x.Head.RecordMeta()
			key := string(m.Kind) + "/" + m.ID
			path := h.pagePath(m.Kind, m.ID)
			if it.deleted || path == "" {
				if _, ok := sm.entries[key]; ok {
					delete(sm.entries, key)
					sm.sorted = nil
				}
				continue
			}
			sm.entries[key] = sitemapEntry{path: path, lastmod: m.UpdatedAt}
			sm.sorted = nil
		}
		if len(items) > 0 || last > sm.pos {
			sm.pos = max(sm.pos, last)
		}
		if !more {
			break
		}
	}
	if sm.sorted == nil {
		sm.sorted = make([]sitemapEntry, 0, len(sm.entries))
		for _, e := range sm.entries {
			sm.sorted = append(sm.sorted, e)
		}
		slices.SortFunc(sm.sorted, func(a, b sitemapEntry) int { return strings.Compare(a.path, b.path) })
	}
	return sm.sorted, nil
}

// ServeSitemap answers /sitemap.xml: the URL set, or an index of parts past SitemapLimit URLs.
func (h *Handler) ServeSitemap(w http.ResponseWriter, r *http.Request) {
	entries, err := h.sitemapEntries(r.Context())
	if err != nil {
		h.internalError(w, "sitemap", err)
		return
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if len(entries) <= h.sitemap.limit {
		writeURLSet(&b, h.site.url, entries)
	} else {
		b.WriteString(`<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
		for part := 0; part*h.sitemap.limit < len(entries); part++ {
			chunk := entries[part*h.sitemap.limit : min(len(entries), (part+1)*h.sitemap.limit)]
			newest := time.Time{}
			for _, e := range chunk {
				if e.lastmod.After(newest) {
					newest = e.lastmod
				}
			}
			b.WriteString("<sitemap><loc>")
			esc(&b, h.site.url+"/sitemap-"+strconv.Itoa(part+1)+".xml")
			b.WriteString("</loc><lastmod>" + datestamp(newest) + "</lastmod></sitemap>\n")
		}
		b.WriteString("</sitemapindex>\n")
	}
	writeXML(w, b.Bytes())
}

// ServeSitemapPart answers /sitemap-{n}.xml (n from 1) when the sitemap is split.
func (h *Handler) ServeSitemapPart(w http.ResponseWriter, r *http.Request, part string) {
	n, err := strconv.Atoi(part)
	if err != nil || n < 1 || strconv.Itoa(n) != part {
		http.NotFound(w, r)
		return
	}
	entries, err := h.sitemapEntries(r.Context())
	if err != nil {
		h.internalError(w, "sitemap", err)
		return
	}
	if len(entries) <= h.sitemap.limit || (n-1)*h.sitemap.limit >= len(entries) {
		http.NotFound(w, r)
		return
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	writeURLSet(&b, h.site.url, entries[(n-1)*h.sitemap.limit:min(len(entries), n*h.sitemap.limit)])
	writeXML(w, b.Bytes())
}

func writeURLSet(b *bytes.Buffer, base string, entries []sitemapEntry) {
	b.WriteString(`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	for _, e := range entries {
		b.WriteString("<url><loc>")
		esc(b, base+e.path)
		b.WriteString("</loc><lastmod>" + datestamp(e.lastmod) + "</lastmod></url>\n")
	}
	b.WriteString("</urlset>\n")
}

func writeXML(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (h *Handler) internalError(w http.ResponseWriter, what string, err error) {
	id := strconv.FormatInt(h.now().UnixNano(), 16)
	h.log.Error(what+" failed", "error_id", id, "err", err)
	http.Error(w, "Internal error "+id+"; try again later.", http.StatusServiceUnavailable)
}

// ServeRobots answers /robots.txt: crawl the public pages, feeds and the sitemap; keep out of the
// workspace, the admin pages, sign-in, the API and the federation endpoints.
func (h *Handler) ServeRobots(w http.ResponseWriter, r *http.Request) {
	body := "# Bright Spots: public practices are open to crawlers; workspaces and APIs are not.\n" +
		"User-agent: *\n" +
		"Disallow: /workspace\n" +
		"Disallow: /admin\n" +
		"Disallow: /network\n" +
		"Disallow: /login\n" +
		"Disallow: /logout\n" +
		"Disallow: /auth/\n" +
		"Disallow: /idp/\n" +
		"Disallow: /api/\n" +
		"Disallow: /federation/\n" +
		"Disallow: /oai\n" +
		"Allow: /\n" +
		"\n" +
		"Sitemap: " + h.site.url + "/sitemap.xml\n"
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write([]byte(body))
}
