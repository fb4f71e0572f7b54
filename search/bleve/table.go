package bleve

import (
	"math"
	"math/bits"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/search"
)

// The table keeps, for every document, what filters, facets, sorting and hits need, as small integers
// in memory. bleve only matches text; everything after the match is array lookups here. A document's
// ordinal never changes while the process runs (a deleted document keeps its ordinal, dead), so
// per-segment maps from bleve's document numbers to ordinals never go stale.

// dict assigns small integers to the values of one field.
type dict struct {
	ids  map[string]int
	vals []string
}

func newDict(seed []string) *dict {
	d := &dict{ids: map[string]int{}}
	for _, s := range seed {
		d.id(s)
	}
	return d
}

func (d *dict) id(s string) int {
	if i, ok := d.ids[s]; ok {
		return i
	}
	d.ids[s] = len(d.vals)
	d.vals = append(d.vals, s)
	return len(d.vals) - 1
}

func (d *dict) lookup(s string) (int, bool) { i, ok := d.ids[s]; return i, ok }

// mask sets the bit of each value; values past the 64th distinct one are not filterable (the
// vocabularies have at most 14).
func (d *dict) mask(vals []string) uint64 {
	var m uint64
	for _, v := range vals {
		if i := d.id(v); i < 64 {
			m |= 1 << uint(i)
		}
	}
	return m
}

type row struct {
	live       bool
	members    bool // audience members (else public)
	hasResults bool
	kind       uint8 // 0 practice, 1 collection, 2 aim, 3 other
	rank       int8
	district   int32
	subjects   uint64
	grades     uint64
	bands      uint64
	designs    uint64
	decisions  uint64
	updated    int64
	effect     float64 // NaN without a pooled effect
	standards  []int32
	lens       [maxTextFields]uint16 // words per text field (textFields), for length normalisation
	doc        *search.Document      // title, summary and the hit fields; Description and KeyMoves dropped
}

type table struct {
	ids                                         map[string]int32
	rows                                        []row
	live                                        int
	sumLen                                      [maxTextFields]int64 // over live rows
	subjects, grades, bands, designs, decisions *dict
	districts, standards                        *dict
}

func newTable() *table {
	return &table{
		ids:       map[string]int32{},
		subjects:  newDict(practices.SubjectCodes),
		grades:    newDict(practices.GradeCodes),
		bands:     newDict(practices.GradeBands),
		designs:   newDict(practices.Designs),
		decisions: newDict(practices.Decisions),
		districts: newDict(nil),
		standards: newDict(nil),
	}
}

// ordinal returns the document's ordinal, assigning one if it has none.
func (t *table) ordinal(id string) int32 {
	if o, ok := t.ids[id]; ok {
		return o
	}
	o := int32(len(t.rows))
	t.ids[id] = o
	t.rows = append(t.rows, row{})
	return o
}

func (t *table) put(d *search.Document) {
	o := t.ordinal(d.ID)
	r := &t.rows[o]
	if !r.live {
		t.live++
	} else {
		t.subLens(r)
	}
	keep := *d
	keep.Description, keep.KeyMoves, keep.Tags = "", nil, ""
	*r = row{
		live:       true,
		members:    d.Audience != search.AudiencePublic,
		hasResults: d.HasResults,
		rank:       int8(max(0, d.EvidenceRank)),
		district:   int32(t.districts.id(d.District)),
		subjects:   t.subjects.mask(d.Subjects),
		grades:     t.grades.mask(d.GradeLevels),
		bands:      t.bands.mask(d.GradeBands),
		designs:    t.designs.mask(d.Designs),
		decisions:  t.decisions.mask(d.Decisions),
		updated:    d.UpdatedAt.UnixNano(),
		effect:     math.NaN(),
		doc:        &keep,
	}
	switch d.Kind {
	case practices.KindPractice:
		r.kind = 0
	case practices.KindCollection:
		r.kind = 1
	case practices.KindAim:
		r.kind = 2
	default:
		r.kind = 3
	}
	if d.PooledEffect != nil && !math.IsNaN(*d.PooledEffect) {
		r.effect = *d.PooledEffect
	}
	for _, s := range d.Standards {
		r.standards = append(r.standards, int32(t.standards.id(s)))
	}
	for i, f := range textFields {
		r.lens[i] = fieldLen(f.text(d))
		t.sumLen[i] += int64(r.lens[i])
	}
}

func (t *table) subLens(r *row) {
	for i := range r.lens {
		t.sumLen[i] -= int64(r.lens[i])
	}
}

func (r *row) bodyLen() int {
	n := 0
	for _, l := range r.lens {
		n += int(l)
	}
	return n
}

// avgBody is the mean length of the body (all text fields) over live documents (at least 1).
func (t *table) avgBody() float64 {
	n := int64(0)
	for _, s := range t.sumLen {
		n += s
	}
	if t.live == 0 || n <= 0 {
		return 1
	}
	return max(1, float64(n)/float64(t.live))
}

// avgLen is the mean length of text field i over live documents (at least 1).
func (t *table) avgLen(i int) float64 {
	if t.live == 0 || t.sumLen[i] <= 0 {
		return 1
	}
	return max(1, float64(t.sumLen[i])/float64(t.live))
}

func (t *table) remove(id string) {
	if o, ok := t.ids[id]; ok && t.rows[o].live {
		t.subLens(&t.rows[o])
		t.rows[o] = row{}
		t.live--
	}
}

// filter is a Query's filters compiled against the table's dictionaries.
type filter struct {
	members                      bool
	subjects, designs, decisions uint64
	useSubjects, useDesigns      bool
	useDecisions                 bool
	grades, bands                uint64
	useGrades                    bool
	districts                    []bool // by district id; nil: any
	standards                    map[int32]bool
	useStandards                 bool
	minRank                      int8
	kinds                        uint8           // bit per kind; 0: any
	hasResults                   int8            // -1 false, 1 true, 0 any
	empty                        bool            // some filter names only values no document has
	uris                         map[string]bool // Query.Aim: the aim's practices; nil: any
}

func maskOf(d *dict, vals []string) (uint64, bool) {
	var m uint64
	for _, v := range vals {
		if i, ok := d.lookup(v); ok && i < 64 {
			m |= 1 << uint(i)
		}
	}
	return m, len(vals) > 0
}

func (t *table) compile(q *search.Query) filter {
	f := filter{members: q.Audience.Members()}
	f.subjects, f.useSubjects = maskOf(t.subjects, q.Subjects)
	f.designs, f.useDesigns = maskOf(t.designs, q.Designs)
	f.decisions, f.useDecisions = maskOf(t.decisions, q.Decisions)
	var g, b bool
	f.grades, g = maskOf(t.grades, q.Grades)
	f.bands, b = maskOf(t.bands, q.GradeBands)
	f.useGrades = g || b
	if len(q.Districts) > 0 {
		f.districts = make([]bool, len(t.districts.vals))
		for _, d := range q.Districts {
			if i, ok := t.districts.lookup(d); ok {
				f.districts[i] = true
			}
		}
	}
	if len(q.Standards) > 0 {
		f.useStandards = true
		f.standards = map[int32]bool{}
		for _, s := range q.Standards {
			if i, ok := t.standards.lookup(s); ok {
				f.standards[int32(i)] = true
			}
		}
		if len(f.standards) == 0 {
			f.empty = true
		}
	}
	if q.MinEvidence != "" {
		f.minRank = int8(practices.EvidenceRank(q.MinEvidence))
	}
	for _, k := range q.Kinds {
		switch k {
		case practices.KindPractice:
			f.kinds |= 1
		case practices.KindCollection:
			f.kinds |= 2
		case practices.KindAim:
			f.kinds |= 4
		}
	}
	if q.Aim != "" {
		f.uris = make(map[string]bool, len(q.AimPractices))
		for _, u := range q.AimPractices {
			f.uris[u] = true
		}
		if len(f.uris) == 0 {
			f.empty = true
		}
	}
	if q.HasResults != nil {
		f.hasResults = -1
		if *q.HasResults {
			f.hasResults = 1
		}
	}
	if (f.useSubjects && f.subjects == 0) || (f.useDesigns && f.designs == 0) ||
		(f.useDecisions && f.decisions == 0) || (f.useGrades && f.grades|f.bands == 0) {
		f.empty = true
	}
	return f
}

func (f *filter) match(r *row) bool {
	if !r.live || (r.members && !f.members) || r.rank < f.minRank {
		return false
	}
	if f.useSubjects && r.subjects&f.subjects == 0 {
		return false
	}
	if f.useGrades && r.grades&f.grades == 0 && r.bands&f.bands == 0 {
		return false
	}
	if f.districts != nil && (int(r.district) >= len(f.districts) || !f.districts[r.district]) {
		return false
	}
	if f.kinds != 0 && f.kinds&(1<<r.kind) == 0 {
		return false
	}
	if f.uris != nil && !f.uris[r.doc.URI] {
		return false
	}
	if f.hasResults != 0 && r.hasResults != (f.hasResults > 0) {
		return false
	}
	if f.useDesigns && r.designs&f.designs == 0 {
		return false
	}
	if f.useDecisions && r.decisions&f.decisions == 0 {
		return false
	}
	if f.useStandards {
		ok := false
		for _, s := range r.standards {
			if f.standards[s] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// counts accumulates facet counts over matching rows.
type counts struct {
	subjects  [64]int
	bands     [64]int
	levels    [8]int
	districts []int
}

func (c *counts) add(r *row) {
	for m := r.subjects; m != 0; m &= m - 1 {
		c.subjects[bits.TrailingZeros64(m)]++
	}
	for m := r.bands; m != 0; m &= m - 1 {
		c.bands[bits.TrailingZeros64(m)]++
	}
	c.levels[r.rank]++
	c.districts[r.district]++
}

func (t *table) facets(c *counts) search.Facets {
	f := search.Facets{}
	fv := func(vals []string, n []int) []search.FacetValue {
		out := []search.FacetValue{}
		for i, v := range vals {
			if i < len(n) && n[i] > 0 {
				out = append(out, search.FacetValue{Value: v, Count: n[i]})
			}
		}
		search.SortFacetValues(out)
		return out
	}
	f[search.FacetSubject] = fv(t.subjects.vals, c.subjects[:])
	f[search.FacetGradeBand] = fv(t.bands.vals, c.bands[:])
	f[search.FacetDistrict] = fv(t.districts.vals, c.districts)
	f[search.FacetEvidence] = fv(practices.EvidenceLevels, c.levels[:])
	return f
}
