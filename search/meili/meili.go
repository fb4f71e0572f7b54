// Package meili is the Meilisearch search backend (meilisearch-go), chosen with search.kind:
// meilisearch and configured by search.meilisearch.{url, api_key, index}.
//
// Open applies the index settings idempotently (Settings): searchable, filterable and sortable
// attributes, ranking rules, synonyms, stop words, pagination and faceting limits, and the typo
// tolerance object sent whole — Meilisearch reads a partial typoTolerance object as "enabled: false".
// Every write is a task that is awaited; a task that did not succeed is an error. Filters are built
// from a Query's typed values only (Filter), every string quoted with quotes and backslashes escaped.
//
// Tests: the shared contract suite (search/searchtest) runs against a real Meilisearch whenever
// BRIGHTSPOTS_TEST_MEILI_URL is set. Meilisearch cannot run on the project's machines, so without it
// the suite skips with a message — locally and, by decision, under CI as well; request building,
// settings and task handling are covered by unit tests that need no server.
package meili

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/search"
)

// Config configures the Meilisearch backend.
type Config struct {
	URL    string `yaml:"url"`
	APIKey string `yaml:"api_key"` // from the environment in production
	Index  string `yaml:"index"`   // index uid; default "practices"
	// Synonyms are sent in the settings; nil uses search.DefaultSynonyms().
	Synonyms *search.Synonyms `yaml:"-"`
	// HTTPClient is used for every request; nil uses a client with a 30 s timeout.
	HTTPClient *http.Client `yaml:"-"`
	// TaskPoll is how often an awaited task is polled (default 50 ms).
	TaskPoll time.Duration `yaml:"-"`
}

// Index is a Meilisearch index.
type Index struct {
	cfg    Config
	client meilisearch.ServiceManager
	index  meilisearch.IndexManager
}

var _ search.Index = (*Index)(nil)

// Attributes of the search document (search.Document's JSON names).
//
// Ranking expresses the embedded backend's intent (search/bleve's package doc) with Meilisearch's
// rules: searchableAttributes are in order of strength, so the "attribute" rule puts a title match
// above a passing mention in the description (a new text field such as a test's "learnings" is one
// entry here, after "description"); "typo" puts exact matches above typo matches (typo sizes as
// bleve's: one typo from 5 letters, two from 9, none in standard codes); "proximity" is the phrase
// credit; and "evidence_rank:desc" comes last, so stronger evidence only orders practices whose text
// matches tie on every rule before it — it never lifts a weak text match over a strong one.
var (
	searchableAttributes = []string{"title", "summary", "key_moves", "description", "standards", "tags", "district", "learnings"}
	filterableAttributes = []string{"kind", "uri", "subjects", "grade_levels", "grade_bands", "standards", "district",
		"evidence_rank", "evidence_level", "designs", "decisions", "has_results", "audience"}
	sortableAttributes = []string{"updated_unix", "pooled_effect"}
	// "sort" first: an explicit sort (newest, effect) orders the hits; without one it is skipped.
	rankingRules = []string{"sort", "words", "typo", "proximity", "attribute", "exactness", "evidence_rank:desc"}
	facetAttrs   = map[string]string{
		search.FacetSubject: "subjects", search.FacetGradeBand: "grade_bands",
		search.FacetDistrict: "district", search.FacetEvidence: "evidence_level",
	}
)

// MaxTotalHits bounds the Total Meilisearch counts: far above any network's size, so Total is exact.
const MaxTotalHits = 10_000_000

// questionWords is the number of query words from which a query is a question (as in search/bleve):
// Meilisearch then drops the most frequent words until enough documents match ("frequency")
// instead of requiring every word.
const questionWords = 5

// Settings returns the index settings the backend applies at start.
func Settings(syn *search.Synonyms) *meilisearch.Settings {
	return &meilisearch.Settings{
		SearchableAttributes: searchableAttributes,
		FilterableAttributes: filterableAttributes,
		SortableAttributes:   sortableAttributes,
		RankingRules:         rankingRules,
		Synonyms:             syn.Map(),
		StopWords:            search.StopWords,
		TypoTolerance: &meilisearch.TypoTolerance{
			Enabled:             true,
			MinWordSizeForTypos: meilisearch.MinWordSizeForTypos{OneTypo: 5, TwoTypos: 9},
			DisableOnWords:      []string{},
			DisableOnAttributes: []string{"standards"},
			DisableOnNumbers:    false,
		},
		// Total counts every match up to MaxTotalHits (paging stays within search.MaxWindow): the
		// default 1,000 would cap Total, and so would 10,000 on a network of more practices.
		Pagination: &meilisearch.Pagination{MaxTotalHits: MaxTotalHits},
		Faceting: &meilisearch.Faceting{MaxValuesPerFacet: 1000,
			SortFacetValuesBy: map[string]meilisearch.SortFacetType{"*": meilisearch.SortFacetTypeCount}},
	}
}

// Open connects, creates the index if it is missing and applies Settings, awaiting each task.
func Open(ctx context.Context, cfg Config) (*Index, error) {
	if cfg.URL == "" {
		return nil, errors.New("search/meili: search.meilisearch.url is required")
	}
	if cfg.Index == "" {
		cfg.Index = "practices"
	}
	if cfg.Synonyms == nil {
		cfg.Synonyms = search.DefaultSynonyms()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.TaskPoll <= 0 {
		cfg.TaskPoll = 50 * time.Millisecond
	}
	opts := []meilisearch.Option{meilisearch.WithCustomClient(cfg.HTTPClient)}
	if cfg.APIKey != "" {
		opts = append(opts, meilisearch.WithAPIKey(cfg.APIKey))
	}
	x := &Index{cfg: cfg, client: meilisearch.New(cfg.URL, opts...)}
	x.index = x.client.Index(cfg.Index)
	if err := x.ensure(ctx); err != nil {
		return nil, err
	}
	return x, nil
}

func (x *Index) ensure(ctx context.Context) error {
	info, err := x.client.CreateIndexWithContext(ctx, &meilisearch.IndexConfig{Uid: x.cfg.Index, PrimaryKey: "id"})
	if err != nil {
		return fmt.Errorf("search/meili: create index %s: %w", x.cfg.Index, err)
	}
	if err := x.await(ctx, info, "create index"); err != nil && !strings.Contains(err.Error(), "index_already_exists") {
		return err
	}
	info, err = x.index.UpdateSettingsWithContext(ctx, Settings(x.cfg.Synonyms))
	if err != nil {
		return fmt.Errorf("search/meili: update settings of %s: %w", x.cfg.Index, err)
	}
	return x.await(ctx, info, "update settings")
}

// await waits for a task and turns anything but success into an error.
func (x *Index) await(ctx context.Context, info *meilisearch.TaskInfo, what string) error {
	task, err := x.client.WaitForTaskWithContext(ctx, info.TaskUID, x.cfg.TaskPoll)
	if err != nil {
		return fmt.Errorf("search/meili: %s: wait for task %d: %w", what, info.TaskUID, err)
	}
	if task.Status != meilisearch.TaskStatusSucceeded {
		return fmt.Errorf("search/meili: %s: task %d %s: %s (%s)", what, info.TaskUID, task.Status, task.Error.Message, task.Error.Code)
	}
	return nil
}

// InstanceID identifies the index's contents: its creation time, which changes when the index is
// deleted and created again (search.Instancer).
func (x *Index) InstanceID(ctx context.Context) (string, error) {
	r, err := x.client.GetIndexWithContext(ctx, x.cfg.Index)
	if err != nil {
		return "", fmt.Errorf("search/meili: get index %s: %w", x.cfg.Index, err)
	}
	return x.cfg.Index + "@" + r.CreatedAt.UTC().Format(time.RFC3339Nano), nil
}

// Upsert implements search.Index.
func (x *Index) Upsert(ctx context.Context, docs []search.Document) error {
	if len(docs) == 0 {
		return nil
	}
	pk := "id"
	info, err := x.index.AddDocumentsWithContext(ctx, docs, &meilisearch.DocumentOptions{PrimaryKey: &pk})
	if err != nil {
		return fmt.Errorf("search/meili: add %d documents: %w", len(docs), err)
	}
	return x.await(ctx, info, "add documents")
}

// Delete implements search.Index.
func (x *Index) Delete(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	info, err := x.index.DeleteDocumentsWithContext(ctx, ids, nil)
	if err != nil {
		return fmt.Errorf("search/meili: delete %d documents: %w", len(ids), err)
	}
	return x.await(ctx, info, "delete documents")
}

// Clear implements search.Index.
func (x *Index) Clear(ctx context.Context) error {
	info, err := x.index.DeleteAllDocumentsWithContext(ctx, nil)
	if err != nil {
		return fmt.Errorf("search/meili: delete all documents: %w", err)
	}
	return x.await(ctx, info, "delete all documents")
}

// Close implements search.Index; the HTTP client needs no closing.
func (x *Index) Close() error { return nil }

// Search implements search.Index.
func (x *Index) Search(ctx context.Context, q search.Query) (search.Result, error) {
	start := time.Now()
	if err := q.Validate(); err != nil {
		return search.Result{}, err
	}
	req := Request(&q)
	resp, err := x.index.SearchWithContext(ctx, q.Text, req)
	if err != nil {
		return search.Result{}, fmt.Errorf("search/meili: search: %w", err)
	}
	res, err := decode(&q, resp)
	if err != nil {
		return search.Result{}, err
	}
	res.TookMS = time.Since(start).Milliseconds()
	return res, nil
}

// Request builds the search request of a validated query.
func Request(q *search.Query) *meilisearch.SearchRequest {
	per := int64(q.Limit())
	if q.CountOnly {
		per = 0 // Meilisearch then returns no documents, and the exhaustive totalHits and facets
	}
	req := &meilisearch.SearchRequest{
		Filter:                Filter(q),
		Facets:                []string{"subjects", "grade_bands", "district", "evidence_level"},
		Page:                  int64(q.PageNumber()),
		HitsPerPage:           &per,
		MatchingStrategy:      matchingStrategy(q.Text),
		AttributesToHighlight: []string{"title", "summary"},
		HighlightPreTag:       search.HighlightPre,
		HighlightPostTag:      search.HighlightPost,
		AttributesToRetrieve: []string{"id", "kind", "record_id", "uri", "origin", "district", "title", "summary",
			"subjects", "grade_levels", "evidence_level", "pooled_effect", "pooled_tests", "pooled_family", "test_count", "district_count", "updated_at"},
	}
	switch q.SortOrder() {
	case search.SortNewest:
		req.Sort = []string{"updated_unix:desc"}
	case search.SortEffect:
		req.Sort = []string{"pooled_effect:desc", "updated_unix:desc"}
	}
	return req
}

func matchingStrategy(text string) meilisearch.MatchingStrategy {
	n := 0
	for _, w := range search.Words(text) {
		if !slices.Contains(search.StopWords, w) {
			n++
		}
	}
	if n >= questionWords {
		return meilisearch.Frequency
	}
	return meilisearch.All
}

// Quote returns s as a Meilisearch filter string: in double quotes, with backslashes and double
// quotes escaped.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

func in(attr string, vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = Quote(v)
	}
	return attr + " IN [" + strings.Join(q, ", ") + "]"
}

// Filter builds the filter expressions of a validated query, AND-ed (one array element each). The
// audience clause is always present.
func Filter(q *search.Query) []string {
	f := []string{in("audience", q.Audience.Audiences())}
	if len(q.Subjects) > 0 {
		f = append(f, in("subjects", q.Subjects))
	}
	switch {
	case len(q.Grades) > 0 && len(q.GradeBands) > 0:
		f = append(f, "("+in("grade_levels", q.Grades)+" OR "+in("grade_bands", q.GradeBands)+")")
	case len(q.Grades) > 0:
		f = append(f, in("grade_levels", q.Grades))
	case len(q.GradeBands) > 0:
		f = append(f, in("grade_bands", q.GradeBands))
	}
	if len(q.Standards) > 0 {
		f = append(f, in("standards", q.Standards))
	}
	if len(q.Districts) > 0 {
		f = append(f, in("district", q.Districts))
	}
	if q.MinEvidence != "" {
		f = append(f, "evidence_rank >= "+strconv.Itoa(practices.EvidenceRank(q.MinEvidence)))
	}
	if len(q.Designs) > 0 {
		f = append(f, in("designs", q.Designs))
	}
	if len(q.Decisions) > 0 {
		f = append(f, in("decisions", q.Decisions))
	}
	if len(q.Kinds) > 0 {
		ks := make([]string, len(q.Kinds))
		for i, k := range q.Kinds {
			ks[i] = string(k)
		}
		f = append(f, in("kind", ks))
	}
	if q.HasResults != nil {
		f = append(f, "has_results = "+strconv.FormatBool(*q.HasResults))
	}
	if q.Aim != "" {
		uris := q.AimPractices
		if len(uris) == 0 {
			uris = []string{""} // an aim that links nothing matches nothing: no document has an empty uri
		}
		f = append(f, in("uri", uris))
	}
	return f
}

type hitDoc struct {
	search.Document
	Formatted *struct {
		Title   string `json:"title"`
		Summary string `json:"summary"`
	} `json:"_formatted"`
}

func decode(q *search.Query, resp *meilisearch.SearchResponse) (search.Result, error) {
	res := search.Result{Hits: []search.Hit{}, Facets: search.Facets{}, Total: int(resp.TotalHits),
		Page: q.PageNumber(), PerPage: q.Limit()}
	for _, h := range resp.Hits {
		var d hitDoc
		if err := h.DecodeInto(&d); err != nil {
			return search.Result{}, fmt.Errorf("search/meili: decode hit: %w", err)
		}
		hit := search.Hit{ID: d.ID, Kind: d.Kind, RecordID: d.RecordID, URI: d.URI, Origin: d.Origin,
			District: d.District, Title: d.Title, Summary: d.Summary, Subjects: d.Subjects,
			GradeLevels: d.GradeLevels, EvidenceLevel: d.EvidenceLevel, PooledEffect: d.PooledEffect,
			TestCount: d.TestCount, DistrictCount: d.DistrictCount, UpdatedAt: d.UpdatedAt,
			PooledTests: d.PooledTests, PooledFamily: d.PooledFamily}
		title, summary := d.Title, d.Summary
		if d.Formatted != nil {
			title, summary = d.Formatted.Title, d.Formatted.Summary
		}
		hit.TitleHTML = search.MarkHighlights(title)
		hit.SummaryHTML = search.MarkHighlights(summary)
		words := map[string]bool{}
		for _, w := range search.Words(q.Text) {
			words[w] = true
		}
		hit.LearningHTML = search.LearningSnippet(d.Learnings, func(w string) bool { return words[w] })
		res.Hits = append(res.Hits, hit)
	}
	var dist map[string]map[string]int
	if len(resp.FacetDistribution) > 0 {
		if err := json.Unmarshal(resp.FacetDistribution, &dist); err != nil {
			return search.Result{}, fmt.Errorf("search/meili: decode facets: %w", err)
		}
	}
	for name, attr := range facetAttrs {
		vals := []search.FacetValue{}
		for v, n := range dist[attr] {
			if n > 0 {
				vals = append(vals, search.FacetValue{Value: v, Count: n})
			}
		}
		search.SortFacetValues(vals)
		res.Facets[name] = vals
	}
	return res, nil
}
