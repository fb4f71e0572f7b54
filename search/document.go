package search

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/brightspots-nic/brightspots/practices"
)

// Audiences a document may have.
const (
	AudiencePublic  = "public"  // anyone, anonymous callers included
	AudienceMembers = "members" // authenticated members of this district
)

// Audience is the visibility filter of a search: which documents the caller may see. The zero value is
// the anonymous caller (public documents only).
type Audience struct {
	members bool
}

// AudienceOf returns the audience of a caller. Authenticated members of the district see every indexed
// document (all of them published); anonymous callers and peer nodes see public ones only.
func AudienceOf(p practices.Principal) Audience {
	return Audience{members: p.Authenticated()}
}

// MembersAudience is the audience of an authenticated member of the district.
func MembersAudience() Audience { return Audience{members: true} }

// Audiences lists the document audiences a caller may see, in a stable order.
func (a Audience) Audiences() []string {
	if a.members {
		return []string{AudiencePublic, AudienceMembers}
	}
	return []string{AudiencePublic}
}

// Sees reports whether the caller may see a document of audience aud.
func (a Audience) Sees(aud string) bool {
	return aud == AudiencePublic || (a.members && aud == AudienceMembers)
}

// Members reports whether this is a member's audience (every document visible).
func (a Audience) Members() bool { return a.members }

// DocumentAudience is the audience of a published record with visibility v.
func DocumentAudience(v practices.Visibility) string {
	if v == practices.VisibilityPublic {
		return AudiencePublic
	}
	return AudienceMembers
}

// Document is the flat projection of a record that backends index. Field names are the Meilisearch
// attribute names.
type Document struct {
	ID       string         `json:"id"` // DocID(origin, kind, record id)
	Kind     practices.Kind `json:"kind"`
	RecordID string         `json:"record_id"`
	URI      string         `json:"uri,omitempty"`
	Origin   string         `json:"origin"`   // origin node URL
	District string         `json:"district"` // origin node id: the district facet and filter

	Title       string   `json:"title"`
	Summary     string   `json:"summary,omitempty"`
	Description string   `json:"description,omitempty"`
	KeyMoves    []string `json:"key_moves,omitempty"`
	Standards   []string `json:"standards,omitempty"` // upper-cased codes
	// Tags is searchable text derived from the codes: subject and grade labels, so that "4th grade" or
	// "mathematics" match a practice whose codes say so.
	Tags string `json:"tags,omitempty"`

	Subjects    []string `json:"subjects,omitempty"`
	GradeLevels []string `json:"grade_levels,omitempty"`
	GradeBands  []string `json:"grade_bands,omitempty"`

	EvidenceLevel string   `json:"evidence_level"`
	EvidenceRank  int      `json:"evidence_rank"`
	PooledEffect  *float64 `json:"pooled_effect,omitempty"`
	// PooledTests and PooledFamily say what PooledEffect pools: how many tests, of which design
	// family ("comparison" or "single_group"). A card must not credit the pool with every test.
	PooledTests   int      `json:"pooled_tests,omitempty"`
	PooledFamily  string   `json:"pooled_family,omitempty"`
	TestCount     int      `json:"test_count"`
	DistrictCount int      `json:"district_count"`
	HasResults    bool     `json:"has_results"`
	Designs       []string `json:"designs,omitempty"`
	Decisions     []string `json:"decisions,omitempty"`
	// Learnings is what teams wrote about their published tests of the practice (what they learned
	// and what they adapted), so a search finds a practice by what its testers learned.
	Learnings []string `json:"learnings,omitempty"`

	UpdatedAt   time.Time `json:"updated_at"`
	UpdatedUnix int64     `json:"updated_unix"` // for sorting
	Audience    string    `json:"audience"`     // AudiencePublic or AudienceMembers
}

// Evidence is what a practice's document says about its tests. The indexer fills it from the practice's
// evidence summary (SummaryEvidence) or from a function the caller supplies.
type Evidence struct {
	Level         string   // evidence level (practices.EvidenceLevels); "" means described
	PooledEffect  *float64 // pooled random-effects estimate, when there is one
	PooledTests   int      // tests in that pool
	PooledFamily  string   // design family of that pool: "comparison" or "single_group"
	TestCount     int      // published tests of the practice
	DistrictCount int      // districts those tests come from
	Designs       []string // designs of those tests
	Decisions     []string // decisions of those tests
	// Learnings are the learnings and adaptations of the practice's published tests that every
	// reader of the practice's document may see (plain text, one entry per test and field).
	Learnings []string
}

// SummaryEvidence reads what the practice's own evidence summary holds.
func SummaryEvidence(p *practices.Practice) Evidence {
	var ev Evidence
	if p.Evidence != nil {
		ev.Level = p.Evidence.Level
	}
	return ev
}

// indexPrincipal is the view the index is built with: a member of the district, who sees every
// published record (the search filter then narrows by the caller's audience).
var indexPrincipal = practices.Principal{Kind: "session", Subject: "system:indexer"}

// PooledEvidence gives the indexer each practice's pooled evidence from repo: the evidence level,
// the counts, the designs and decisions of its tests, and the pooled effect. Groups smaller than
// minN stay out of the pool (docs/records.md).
func PooledEvidence(repo *practices.Repo, minN int) func(ctx context.Context, p *practices.Practice) (Evidence, error) {
	return func(ctx context.Context, p *practices.Practice) (Evidence, error) {
		sum, tests, err := repo.EvidenceWithTests(ctx, indexPrincipal, p.URI, minN)
		if err != nil {
			return Evidence{}, err
		}
		ev := Evidence{Level: sum.Level, TestCount: sum.Tests, DistrictCount: sum.Districts}
		// The pooled effect shown and sorted on is the strongest design family's: comparison designs
		// when there are any, otherwise single-group pre/post.
		for _, pool := range sum.Pools {
			est := pool.Result.Estimate
			if ev.PooledEffect == nil || pool.Family != "single_group" {
				ev.PooledEffect = &est
				ev.PooledTests, ev.PooledFamily = pool.Result.K, string(pool.Family)
			}
		}
		seenD, seenDec := map[string]bool{}, map[string]bool{}
		for _, t := range tests {
			if !seenD[t.Design] {
				seenD[t.Design] = true
				ev.Designs = append(ev.Designs, t.Design)
			}
			if t.Decision != "" && !seenDec[t.Decision] {
				seenDec[t.Decision] = true
				ev.Decisions = append(ev.Decisions, t.Decision)
			}
		}
		if ev.Learnings, err = practiceLearnings(ctx, repo, p); err != nil {
			return Evidence{}, err
		}
		return ev, nil
	}
}

// practiceLearnings is what teams learned and adapted in the practice's published tests (and its
// adaptations' tests), for its search document. A test reaches the document only if everyone who
// may see the document may see the test: a public practice's document carries public tests only.
func practiceLearnings(ctx context.Context, repo *practices.Repo, p *practices.Practice) ([]string, error) {
	tests, err := repo.TestsOf(ctx, indexPrincipal, p.URI)
	if err != nil {
		return nil, err
	}
	audience := DocumentAudience(p.Visibility)
	var out []string
	for _, t := range tests {
		if t.Test.Status != practices.StatusPublished {
			continue
		}
		if audience == AudiencePublic && DocumentAudience(t.Test.Visibility) != AudiencePublic {
			continue
		}
		for _, text := range []string{t.Test.Learnings, t.Test.Adaptations} {
			if strings.TrimSpace(text) != "" {
				out = append(out, text)
			}
		}
	}
	return out, nil
}

// DocID is the document id of a record: its kind, a digest of its origin (two districts may use the
// same record id) and the record id, in the characters Meilisearch allows (a–z A–Z 0–9 - _, at most
// 511 bytes). A record id with other characters is replaced by its digest.
func DocID(origin string, kind practices.Kind, id string) string {
	o := sha256.Sum256([]byte(origin))
	if !safeID(id) || len(id) > 400 {
		h := sha256.Sum256([]byte(id))
		id = "h" + hex.EncodeToString(h[:16])
	}
	return string(kind) + "_" + hex.EncodeToString(o[:6]) + "_" + id
}

func safeID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// FromPractice projects a published practice and its evidence into a document.
func FromPractice(p *practices.Practice, ev Evidence) Document {
	level := ev.Level
	if practices.EvidenceRank(level) < 0 {
		level = practices.LevelDescribed
	}
	d := Document{
		ID:            DocID(p.Origin, practices.KindPractice, p.ID),
		Kind:          practices.KindPractice,
		RecordID:      p.ID,
		URI:           p.URI,
		Origin:        p.Origin,
		District:      p.OriginID,
		Title:         clean(p.Title),
		Summary:       clean(p.Summary),
		Description:   clean(p.Description),
		Subjects:      sortedUnique(p.Subjects),
		GradeLevels:   sortedUnique(p.GradeLevels),
		EvidenceLevel: level,
		EvidenceRank:  practices.EvidenceRank(level),
		PooledEffect:  ev.PooledEffect,
		PooledTests:   ev.PooledTests,
		PooledFamily:  ev.PooledFamily,
		TestCount:     ev.TestCount,
		DistrictCount: ev.DistrictCount,
		HasResults:    ev.TestCount > 0,
		Designs:       sortedUnique(ev.Designs),
		Decisions:     sortedUnique(ev.Decisions),
		UpdatedAt:     p.UpdatedAt.UTC(),
		UpdatedUnix:   p.UpdatedAt.Unix(),
		Audience:      DocumentAudience(p.Visibility),
	}
	for _, m := range p.KeyMoves {
		d.KeyMoves = append(d.KeyMoves, clean(m))
	}
	for _, l := range ev.Learnings {
		if l = strings.TrimSpace(clean(l)); l != "" {
			d.Learnings = append(d.Learnings, l)
		}
	}
	var std []string
	for _, s := range p.Standards {
		if c := strings.ToUpper(strings.TrimSpace(s.Code)); c != "" {
			std = append(std, c)
		}
	}
	d.Standards = sortedUnique(std)
	bands := make([]string, 0, len(d.GradeLevels))
	for _, g := range d.GradeLevels {
		if b := practices.GradeBand(g); b != "" {
			bands = append(bands, b)
		}
	}
	d.GradeBands = sortedUnique(bands)
	d.Tags = tags(d.Subjects, d.GradeLevels)
	// A standard from an imported CASE framework is found by its statement's words and its CFItem URI
	// too, not only by its code.
	for _, s := range p.Standards {
		if st := clean(s.Statement); st != "" {
			d.Tags += "\n" + st
		}
		if s.URI != "" {
			d.Tags += "\n" + s.URI
		}
	}
	return d
}

// FromCollection projects a published collection into a document. A collection has no subjects or
// evidence of its own: it is found by its title, description and aim.
func FromCollection(c *practices.Collection) Document {
	return Document{
		ID:            DocID(c.Origin, practices.KindCollection, c.ID),
		Kind:          practices.KindCollection,
		RecordID:      c.ID,
		URI:           c.URI,
		Origin:        c.Origin,
		District:      c.OriginID,
		Title:         clean(c.Title),
		Summary:       clean(c.Aim),
		Description:   clean(c.Description),
		EvidenceLevel: practices.LevelDescribed,
		EvidenceRank:  0,
		UpdatedAt:     c.UpdatedAt.UTC(),
		UpdatedUnix:   c.UpdatedAt.Unix(),
		Audience:      DocumentAudience(c.Visibility),
	}
}

// FromAim projects a published aim into a document: found by its title and statement (the
// summary), its outcome measure, and the words of its drivers and change ideas (the description).
func FromAim(a *practices.Aim) Document {
	var b strings.Builder
	if a.OutcomeMeasure != nil {
		b.WriteString(a.OutcomeMeasure.Name)
		b.WriteByte('\n')
	}
	for _, d := range a.Drivers {
		b.WriteString(d.Text)
		b.WriteByte('\n')
	}
	for _, ci := range a.ChangeIdeas {
		b.WriteString(ci.Text)
		b.WriteByte('\n')
	}
	return Document{
		ID:            DocID(a.Origin, practices.KindAim, a.ID),
		Kind:          practices.KindAim,
		RecordID:      a.ID,
		URI:           a.URI,
		Origin:        a.Origin,
		District:      a.OriginID,
		Title:         clean(a.Title),
		Summary:       clean(a.Statement),
		Description:   clean(strings.TrimSpace(b.String())),
		EvidenceLevel: practices.LevelDescribed,
		EvidenceRank:  0,
		UpdatedAt:     a.UpdatedAt.UTC(),
		UpdatedUnix:   a.UpdatedAt.Unix(),
		Audience:      DocumentAudience(a.Visibility),
	}
}

// tags is the searchable text of subject and grade codes.
func tags(subjects, grades []string) string {
	var b strings.Builder
	for _, s := range subjects {
		b.WriteString(practices.Subjects[s])
		b.WriteByte(' ')
		b.WriteString(strings.ReplaceAll(s, "_", " "))
		b.WriteByte(' ')
	}
	for _, g := range grades {
		switch l := practices.GradeLabel(g); l {
		case "PK":
			b.WriteString("prek pre-k preschool ")
		case "K":
			b.WriteString("kindergarten ")
		default:
			b.WriteString("grade " + l + " " + ordinal(l) + " ")
		}
	}
	return strings.TrimSpace(b.String())
}

func ordinal(n string) string {
	switch n {
	case "1":
		return "1st"
	case "2":
		return "2nd"
	case "3":
		return "3rd"
	}
	return n + "th"
}

// Highlight markers: private-use characters that never survive into a document (clean removes them),
// so a backend can mark matches with them and MarkHighlights can turn them into markup after escaping.
const (
	HighlightPre  = "\uE000"
	HighlightPost = "\uE001"
)

// clean removes the highlight markers and control characters from indexed text.
func clean(s string) string {
	if !strings.ContainsAny(s, HighlightPre+HighlightPost) && !hasControl(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\uE000' || r == '\uE001':
			return -1
		case r == '\n' || r == '\t' || r == '\r':
			return r
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7f {
			return true
		}
	}
	return false
}

func sortedUnique(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
