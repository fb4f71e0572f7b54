package search

import (
	"context"
	"errors"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
)

// Index is a search index. Implementations are safe for concurrent use. Writes return once the change is
// visible to searches (a Meilisearch task is awaited; a failed task is an error).
type Index interface {
	// Upsert adds or replaces documents by ID.
	Upsert(ctx context.Context, docs []Document) error
	// Delete removes documents by ID. Deleting a missing ID is not an error.
	Delete(ctx context.Context, ids []string) error
	// Search runs q. q is validated first (Query.Validate); an invalid query is a *QueryError.
	Search(ctx context.Context, q Query) (Result, error)
	// Clear removes every document (the first step of a reindex).
	Clear(ctx context.Context) error
	// Close releases the index.
	Close() error
}

// ErrClosed is returned by an index used after Close.
var ErrClosed = errors.New("search: index closed")

// Sort orders hits.
type Sort string

const (
	SortRelevance Sort = "relevance" // best match first; the default when there is query text
	SortNewest    Sort = "newest"    // most recently updated first; the default without query text
	SortEffect    Sort = "effect"    // largest pooled effect first; records without one last
)

// Facet names, as they appear in Result.Facets.
const (
	FacetSubject   = "subject"
	FacetGradeBand = "grade_band"
	FacetDistrict  = "district"
	FacetEvidence  = "evidence_level"
)

// FacetNames lists the facets every search returns, in display order.
var FacetNames = []string{FacetSubject, FacetGradeBand, FacetDistrict, FacetEvidence}

// Limits of a query.
const (
	DefaultPerPage = 20
	MaxPerPage     = 100
	// MaxWindow bounds page × per_page: deep paging is what filters are for.
	MaxWindow = 10000
	// MaxQueryLen is the longest query text accepted, in characters.
	MaxQueryLen = 256
	// MaxQueryWords is the most words a query text may have.
	MaxQueryWords = 32
	// MaxValues is the most values one filter parameter may have.
	MaxValues = 20
)

// Query is a typed search. Filters of one kind are OR-ed (subject=math&subject=science is either);
// filters of different kinds are AND-ed. Empty filters do not restrict.
type Query struct {
	Text        string           // free text; "" lists everything the filters and audience allow
	Subjects    []string         // subject codes (practices.SubjectCodes)
	Grades      []string         // grade codes (practices.GradeCodes)
	GradeBands  []string         // grade bands (practices.GradeBands)
	Standards   []string         // standard codes, upper-cased
	Districts   []string         // origin node ids
	MinEvidence string           // evidence level at or above (practices.EvidenceLevels); "" for any
	Designs     []string         // test designs (practices.Designs)
	Decisions   []string         // test decisions (practices.Decisions)
	Kinds       []practices.Kind // practice, collection and/or aim
	// Aim, when set, keeps only the documents whose URI is in AimPractices: the practices linked by
	// a change idea of the aim with that URI. The caller resolves them from the aim as the caller
	// may see it (an aim it may not see, or a withdrawn one, links nothing), so the filter is never
	// staler than the aim. With Aim set and AimPractices empty nothing matches.
	Aim          string
	AimPractices []string
	HasResults   *bool // nil: either
	Sort         Sort  // "" picks relevance with text, newest without
	Page         int   // 1-based; 0 means 1
	PerPage      int   // 0 means DefaultPerPage
	// CountOnly asks for the total and the facets without hits: nothing is scored or sorted. The
	// search page's facet recounts use it. Not a URL parameter.
	CountOnly bool
	// Audience is who is asking. Its zero value sees only public documents, so a forgotten audience
	// fails closed.
	Audience Audience
}

// Result is one page of hits with the facet counts of the whole result set.
type Result struct {
	Hits    []Hit  `json:"hits"`
	Facets  Facets `json:"facets"`
	Total   int    `json:"total"`
	Page    int    `json:"page"`
	PerPage int    `json:"per_page"`
	TookMS  int64  `json:"took_ms"`
}

// Facets maps a facet name (FacetNames) to its values, most frequent first (ties by value).
type Facets map[string][]FacetValue

// FacetValue is one value of a facet with the number of hits carrying it.
type FacetValue struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Count returns the count of value in facet name, or 0.
func (f Facets) Count(name, value string) int {
	for _, v := range f[name] {
		if v.Value == value {
			return v.Count
		}
	}
	return 0
}

// Hit is one search hit: what a result list shows. The HTML fields are escaped text with the matched
// words wrapped in <mark>…</mark>; they are safe to put in a page as they are.
type Hit struct {
	ID          string         `json:"id"` // document id (DocID)
	Kind        practices.Kind `json:"kind"`
	RecordID    string         `json:"record_id"`
	URI         string         `json:"uri,omitempty"`
	Origin      string         `json:"origin"`
	District    string         `json:"district"`
	Title       string         `json:"title"`
	Summary     string         `json:"summary,omitempty"`
	TitleHTML   template.HTML  `json:"title_html"`
	SummaryHTML template.HTML  `json:"summary_html,omitempty"`
	// LearningHTML is a short escaped snippet of what a team learned testing the practice, with the
	// matched words marked, when the query matched there ("What a team learned").
	LearningHTML  template.HTML `json:"learning_html,omitempty"`
	Subjects      []string      `json:"subjects,omitempty"`
	GradeLevels   []string      `json:"grade_levels,omitempty"`
	EvidenceLevel string        `json:"evidence_level,omitempty"`
	PooledEffect  *float64      `json:"pooled_effect,omitempty"`
	PooledTests   int           `json:"pooled_tests,omitempty"`  // tests pooled into PooledEffect
	PooledFamily  string        `json:"pooled_family,omitempty"` // "comparison" or "single_group"
	TestCount     int           `json:"test_count"`
	DistrictCount int           `json:"district_count"`
	UpdatedAt     time.Time     `json:"updated_at"`
	Score         float64       `json:"score,omitempty"`
}

// SortFacetValues orders facet values most frequent first, ties by value.
func SortFacetValues(v []FacetValue) {
	slices.SortFunc(v, func(a, b FacetValue) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Value, b.Value)
	})
}
