package web

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/search"
	"github.com/brightspots-nic/brightspots/web/harvest"
)

// Atom feeds of a search, a collection and a team's published work. Feeds are read by feed readers
// that carry no session, so every feed is built as an anonymous visitor sees the node: public
// records only, whoever asks. Pages link their feed with <link rel="alternate"> (feedLinks).

// feedLink is one <link rel="alternate" type="application/atom+xml"> of a page.
type feedLink struct{ Title, Href string }

// feedLinks returns the feeds that follow the page at path: the search page's own query as a feed,
// a collection's items. Practice pages link their team's feed from their own template.
func feedLinks(path string, query url.Values) []feedLink {
	switch {
	case path == "/" || path == "/search":
		q := url.Values{}
		for k, v := range query {
			if k != "page" && slices.Contains(search.Parameters, k) {
				q[k] = v
			}
		}
		href := "/search.atom"
		if len(q) > 0 {
			href += "?" + q.Encode()
		}
		return []feedLink{{"New practices matching this search (Atom)", href}}
	case strings.HasPrefix(path, "/collections/") && strings.Count(path, "/") == 2:
		return []feedLink{{"Practices in this collection (Atom)", path + "/feed.atom"}}
	case strings.HasPrefix(path, "/aims/") && strings.Count(path, "/") == 2:
		return []feedLink{{"Progress and practices of this aim (Atom)", path + "/feed.atom"}}
	}
	return nil
}

// teamFeedHref is the feed of a team's published work.
func teamFeedHref(team string) string { return "/teams/" + url.PathEscape(team) + "/feed.atom" }

func (s *Server) feedBase(title, self, page string) harvest.Feed {
	return harvest.Feed{
		ID: s.cfg.Node.URL + self, Base: s.cfg.Node.URL, Title: title + " · " + s.cfg.Node.Name,
		SelfURL: s.cfg.Node.URL + self, PageURL: s.cfg.Node.URL + page, Author: s.cfg.Node.Name,
		Generator: "Bright Spots",
	}
}

func (s *Server) practiceEntry(p *practices.Practice, districtName string) harvest.Entry {
	e := harvest.Entry{
		ID: p.URI, Title: p.Title, URL: s.cfg.Node.URL + "/practices/" + p.ID, Summary: p.Summary,
		Updated: p.UpdatedAt, Published: p.PublishedAt, Author: districtName, Subjects: p.Subjects,
		EvidenceLevel: practices.LevelDescribed,
	}
	if p.Evidence != nil && p.Evidence.Level != "" {
		e.EvidenceLevel = p.Evidence.Level
	}
	e.EvidenceLabel = evidenceLabel(e.EvidenceLevel)
	return e
}

// testEntry is a test (one cycle) as a feed entry: what was asked, what the team decided and what
// it learned, linked to the test's public page. A test has no evidence level of its own: it is
// evidence for its practice.
func (s *Server) testEntry(t *practices.Test, districtName string) harvest.Entry {
	title := t.Title
	if title == "" {
		title = cycleLabel(t.Cycle)
	}
	var parts []string
	if t.Question != "" {
		parts = append(parts, shorten(t.Question, 200))
	}
	if d := decisionLabel(t.Decision); d != "" {
		parts = append(parts, "Decision: "+d+".")
	}
	if t.Learnings != "" {
		parts = append(parts, shorten(t.Learnings, 300))
	}
	var subjects []string
	if t.Cohort != nil {
		subjects = t.Cohort.Subjects
	}
	return harvest.Entry{
		ID: t.URI, Title: title, URL: s.cfg.Node.URL + "/tests/" + t.ID, Summary: strings.Join(parts, " "),
		Updated: t.UpdatedAt, Published: t.PublishedAt, Author: districtName, Subjects: subjects,
	}
}

// searchFeed: GET /search.atom with the search page's parameters, newest first unless a sort is
// given.
func (s *Server) searchFeed(c echo.Context) error {
	params := s.standardURIQuery(c.Request().Context(), c.QueryParams())
	q, err := search.ParseQuery(params)
	if err != nil {
		return searchProblem(err)
	}
	if params.Get("sort") == "" {
		q.Sort = search.SortNewest
	}
	q.Audience = search.AudienceOf(practices.Anonymous)
	if err := s.resolveAimFilter(c.Request().Context(), practices.Anonymous, &q); err != nil {
		return err
	}
	res, err := s.index.Search(c.Request().Context(), q)
	if err != nil {
		return searchProblem(err)
	}
	canonical := url.Values{}
	for k, v := range params {
		if slices.Contains(search.Parameters, k) {
			canonical[k] = v
		}
	}
	self, page, title := "/search.atom", "/search", "Practices"
	if enc := canonical.Encode(); enc != "" {
		self += "?" + enc
		page += "?" + enc
	}
	if q.Text != "" {
		title = "Practices matching “" + q.Text + "”"
	}
	f := s.feedBase(title, self, page)
	names := s.districtNames()
	for _, h := range res.Hits {
		name := names[h.District]
		if name == "" {
			name = h.District
		}
		e := harvest.Entry{
			ID: h.URI, Title: h.Title, URL: s.cfg.Node.URL + "/" + h.Kind.Plural() + "/" + url.PathEscape(h.RecordID),
			Summary: h.Summary, Updated: h.UpdatedAt, Author: name, Subjects: h.Subjects,
		}
		if e.ID == "" {
			e.ID = e.URL
		}
		if h.Kind == practices.KindPractice {
			e.EvidenceLevel = h.EvidenceLevel
			if e.EvidenceLevel == "" {
				e.EvidenceLevel = practices.LevelDescribed
			}
			e.EvidenceLabel = evidenceLabel(e.EvidenceLevel)
		}
		f.Entries = append(f.Entries, e)
	}
	harvest.WriteFeed(c.Response(), f, time.Now())
	return nil
}

// collectionFeed: GET /collections/{id}/feed.atom, the collection's public practices in its order.
func (s *Server) collectionFeed(c echo.Context) error {
	ctx := c.Request().Context()
	rec, err := s.findRecord(ctx, practices.Anonymous, practices.KindCollection, c.Param("id"))
	if err != nil {
		return err
	}
	col := rec.(*practices.Collection)
	f := s.feedBase(col.Title, "/collections/"+col.ID+"/feed.atom", "/collections/"+col.ID)
	f.ID = col.URI
	f.Subtitle = col.Aim
	uris := make([]string, len(col.Items))
	for i, it := range col.Items {
		uris[i] = it.PracticeURI
	}
	f.Entries = s.publicPracticeEntries(ctx, uris)
	harvest.WriteFeed(c.Response(), f, time.Now())
	return nil
}

// publicPracticeEntries are the feed entries of the practices at uris that an anonymous visitor may
// see, in the order given, each once.
func (s *Server) publicPracticeEntries(ctx context.Context, uris []string) []harvest.Entry {
	names := s.districtNames()
	seen := map[string]bool{}
	var out []harvest.Entry
	for _, u := range uris {
		if seen[u] {
			continue
		}
		seen[u] = true
		pr, ok := s.loadURI(ctx, practices.Anonymous, u).(*practices.Practice)
		if !ok {
			continue
		}
		name := names[pr.OriginID]
		if name == "" {
			name = pr.OriginID
		}
		out = append(out, s.practiceEntry(pr, name))
	}
	return out
}

// aimFeed: GET /aims/{id}/feed.atom, a public aim's public progress reports (newest first) and
// the public practices its change ideas link, as an anonymous visitor sees them.
func (s *Server) aimFeed(c echo.Context) error {
	ctx := c.Request().Context()
	rec, err := s.findRecord(ctx, practices.Anonymous, practices.KindAim, c.Param("id"))
	if err != nil {
		return err
	}
	aim := rec.(*practices.Aim)
	if aim.Status != practices.StatusPublished {
		return practices.ErrNotFound
	}
	f := s.feedBase(aim.Title, "/aims/"+aim.ID+"/feed.atom", "/aims/"+aim.ID)
	f.ID = aim.URI
	f.Subtitle = aim.Statement
	progress, err := s.repo.ProgressOf(ctx, practices.Anonymous, aim.URI)
	if err != nil {
		return err
	}
	var entries []harvest.Entry
	for _, pr := range progress {
		entries = append(entries, s.progressEntry(aim, pr))
	}
	slices.SortStableFunc(entries, func(a, b harvest.Entry) int { return b.Updated.Compare(a.Updated) })
	var linked []string
	for _, ci := range aim.ChangeIdeas {
		linked = append(linked, ci.Practices...)
	}
	f.Entries = append(entries, s.publicPracticeEntries(ctx, linked)...)
	harvest.WriteFeed(c.Response(), f, time.Now())
	return nil
}

// progressEntry is a district's progress report as a feed entry: its latest published point.
func (s *Server) progressEntry(aim *practices.Aim, pr *practices.Progress) harvest.Entry {
	district := s.districtLabel(pr.Origin)
	name := district.Name
	if name == "" {
		name = pr.OriginID
	}
	e := harvest.Entry{ID: pr.URI, Title: "Progress from " + name, URL: s.cfg.Node.URL + "/aims/" + aim.ID,
		Updated: pr.UpdatedAt, Published: pr.PublishedAt, Author: name}
	if n := len(pr.Points); n > 0 && aim.OutcomeMeasure != nil {
		last := pr.Points[n-1]
		e.Summary = fmt.Sprintf("%s: %s on %s (%d students).", aim.OutcomeMeasure.Name,
			evidence.FormatValue(aim.OutcomeMeasure.Kind, last), last.Date, last.N)
	}
	return e
}

// teamFeedEntries is how many of a team's newest records its feed carries.
const teamFeedEntries = 50

// teamFeeds caches team feeds for a minute: building one lists every local practice.
type teamFeeds struct {
	mu sync.Mutex
	m  map[string]teamFeedCache
}

type teamFeedCache struct {
	at      time.Time
	entries []harvest.Entry
}

// teamFeed: GET /teams/{team}/feed.atom, the team's public published practices and tests, newest
// first. An unknown team is an empty feed: whether a team exists is not public.
func (s *Server) teamFeed(c echo.Context, cache *teamFeeds) error {
	team := c.Param("team")
	if team == "" || len(team) > 100 || strings.ContainsAny(team, "/\x00") {
		return echo.ErrNotFound
	}
	entries, err := s.teamEntries(c.Request().Context(), cache, team)
	if err != nil {
		return err
	}
	f := s.feedBase("Published by "+team, teamFeedHref(team), "/search")
	f.Entries = entries
	harvest.WriteFeed(c.Response(), f, time.Now())
	return nil
}

func (s *Server) teamEntries(ctx context.Context, cache *teamFeeds, team string) ([]harvest.Entry, error) {
	cache.mu.Lock()
	if c, ok := cache.m[team]; ok && time.Since(c.at) < time.Minute {
		cache.mu.Unlock()
		return c.entries, nil
	}
	cache.mu.Unlock()
	var entries []harvest.Entry
	// The team's published practices and its tests (each one STEP or PDSA cycle), public ones only:
	// the list reads that team's entries of the listing index, nothing of other teams.
	for _, kind := range []practices.Kind{practices.KindPractice, practices.KindTest} {
		after := ""
		for {
			recs, next, err := s.repo.List(ctx, practices.Anonymous, kind, practices.ListFilter{Team: team, Status: practices.StatusPublished}, after, 200)
			if err != nil {
				return nil, err
			}
			for _, rec := range recs {
				switch r := rec.(type) {
				case *practices.Practice:
					entries = append(entries, s.practiceEntry(r, s.cfg.Node.Name))
				case *practices.Test:
					entries = append(entries, s.testEntry(r, s.cfg.Node.Name))
				}
			}
			if next == "" {
				break
			}
			after = next
		}
	}
	slices.SortFunc(entries, func(a, b harvest.Entry) int { return b.Updated.Compare(a.Updated) })
	if len(entries) > teamFeedEntries {
		entries = entries[:teamFeedEntries]
	}
	cache.mu.Lock()
	if cache.m == nil || len(cache.m) > 1000 {
		cache.m = map[string]teamFeedCache{}
	}
	cache.m[team] = teamFeedCache{at: time.Now(), entries: entries}
	cache.mu.Unlock()
	return entries, nil
}
