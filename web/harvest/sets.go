package harvest

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/brightspots-nic/brightspots/practices"
)

// Sets. A setSpec is "family:value"; each family is also a set of its own (OAI-PMH's ':' hierarchy),
// so "subject" holds every record with any subject.
//
//	kind:practice | kind:test | kind:collection |
//	kind:aim | kind:progress                        what the record is
//	subject:{code}                                  docs/records.md subject codes (a test: its cohort's)
//	grade:{band}                                    grade bands PK, K-2, 3-5, 6-8, 9-12
//	collection:{uuid}                               the practices a public collection gathers
//	aim:{uuid}                                      the practices a public aim's change ideas link
//
// Two kinds of family: vocabulary families (fixed values, membership read from the record) and group
// families (one set per public local record that gathers practices by URI): collections, and aims
// (docs/aims.md) whose change ideas link practices. ListSets, set filters and setSpecs in headers
// follow groupFamilies.

// setSpecPattern is the setSpec syntax of the OAI-PMH schema.
var setSpecPattern = regexp.MustCompile(`^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$`)

type setInfo struct {
	spec, name string
}

// vocabFamily is a family with a fixed list of values.
type vocabFamily struct {
	spec, name string
	values     []setInfo // value (without "family:") and display name
	of         func(rec practices.Record) []string
}

var vocabFamilies = []vocabFamily{
	{
		spec: "kind", name: "Record kind",
		values: []setInfo{{"practice", "Practices"}, {"test", "Tests with results"}, {"collection", "Collections"},
			{"aim", "Network aims"}, {"progress", "Progress towards network aims"}},
		of: func(rec practices.Record) []string { return []string{string(rec.RecordMeta().Kind)} },
	},
	{
		spec: "subject", name: "Subject",
		values: func() []setInfo {
			var out []setInfo
			for _, c := range practices.SubjectCodes {
				out = append(out, setInfo{c, practices.Subjects[c]})
			}
			return out
		}(),
		of: func(rec practices.Record) []string {
			switch r := rec.(type) {
			case *practices.Practice:
				return r.Subjects
			case *practices.Test:
				if r.Cohort != nil {
					return r.Cohort.Subjects
				}
			}
			return nil
		},
	},
	{
		spec: "grade", name: "Grade band",
		values: func() []setInfo {
			var out []setInfo
			for _, b := range practices.GradeBands {
				out = append(out, setInfo{b, "Grades " + b})
			}
			return out
		}(),
		of: func(rec practices.Record) []string {
			var grades []string
			switch r := rec.(type) {
			case *practices.Practice:
				grades = r.GradeLevels
			case *practices.Test:
				if r.Cohort != nil {
					grades = r.Cohort.GradeLevels
				}
			}
			var bands []string
			for _, g := range grades {
				if b := practices.GradeBand(g); b != "" && !slices.Contains(bands, b) {
					bands = append(bands, b)
				}
			}
			return bands
		},
	},
}

// groupFamily has one set per public local record of kind, gathering practices by URI.
type groupFamily struct {
	spec, name string
	kind       practices.Kind
	members    func(rec practices.Record) (title string, practiceURIs []string)
}

var groupFamilies = []groupFamily{
	{
		spec: "collection", name: "Collection", kind: practices.KindCollection,
		members: func(rec practices.Record) (string, []string) {
			c := rec.(*practices.Collection)
			uris := make([]string, 0, len(c.Items))
			for _, it := range c.Items {
				uris = append(uris, it.PracticeURI)
			}
			return c.Title, uris
		},
	},
	{
		spec: "aim", name: "Network aim", kind: practices.KindAim,
		members: func(rec practices.Record) (string, []string) {
			a := rec.(*practices.Aim)
			var uris []string
			for _, ci := range a.ChangeIdeas {
				for _, u := range ci.Practices {
					if !slices.Contains(uris, u) {
						uris = append(uris, u)
					}
				}
			}
			return a.Title, uris
		},
	},
}

// groups is a snapshot of the group sets: their names, and which sets each practice URI is in.
type groups struct {
	logEnd uint64
	sets   []setInfo           // full specs ("collection:{id}") in listing order
	of     map[string][]string // practice URI → full specs
}

// groupCache rebuilds the snapshot when the change log has moved since it was built, so set
// membership follows curation at once and a harvest of an unchanging node reads the groups once.
type groupCache struct {
	mu  sync.Mutex
	cur *groups
}

func (h *Handler) groups(ctx context.Context) (*groups, error) {
	end := h.repo.LogEnd()
	h.groupCache.mu.Lock()
	defer h.groupCache.mu.Unlock()
	if g := h.groupCache.cur; g != nil && g.logEnd == end {
		return g, nil
	}
	g := &groups{logEnd: end, of: map[string][]string{}}
	for _, fam := range groupFamilies {
		after := ""
		for {
			recs, next, err := h.repo.List(ctx, practices.Anonymous, fam.kind, practices.ListFilter{Status: practices.StatusPublished}, after, 200)
			if err != nil {
				return nil, err
			}
			for _, rec := range recs {
				title, uris := fam.members(rec)
				spec := fam.spec + ":" + rec.RecordMeta().ID
				g.sets = append(g.sets, setInfo{spec, title})
				for _, u := range uris {
					if !slices.Contains(g.of[u], spec) {
						g.of[u] = append(g.of[u], spec)
					}
				}
			}
			if next == "" {
				break
			}
			after = next
		}
	}
	h.groupCache.cur = g
	return g, nil
}

// setSpecs lists every set rec belongs to, families included.
func setSpecs(rec practices.Record, g *groups) []string {
	var out []string
	for _, fam := range vocabFamilies {
		vals := fam.of(rec)
		if len(vals) > 0 {
			out = append(out, fam.spec)
		}
		for _, v := range vals {
			out = append(out, fam.spec+":"+v)
		}
	}
	m := rec.RecordMeta()
	if m.Kind == practices.KindPractice {
		specs := g.of[m.URI]
		seen := map[string]bool{}
		for _, s := range specs {
			fam, _, _ := strings.Cut(s, ":")
			if !seen[fam] {
				seen[fam] = true
				out = append(out, fam)
			}
		}
		out = append(out, specs...)
	}
	return out
}

// knownSet reports whether spec names a set this repository has (now). Syntax is checked before.
func knownSet(spec string, g *groups) bool {
	fam, val, hasVal := strings.Cut(spec, ":")
	for _, f := range vocabFamilies {
		if f.spec != fam {
			continue
		}
		if !hasVal {
			return true
		}
		for _, v := range f.values {
			if v.spec == val {
				return true
			}
		}
		return false
	}
	for _, f := range groupFamilies {
		if f.spec != fam {
			continue
		}
		if !hasVal {
			return true
		}
		return slices.ContainsFunc(g.sets, func(s setInfo) bool { return s.spec == spec })
	}
	return false
}

// allSets lists every set for ListSets: each family, then its values.
func allSets(g *groups) []setInfo {
	var out []setInfo
	for _, f := range vocabFamilies {
		out = append(out, setInfo{f.spec, f.name})
		for _, v := range f.values {
			out = append(out, setInfo{f.spec + ":" + v.spec, v.name})
		}
	}
	for _, f := range groupFamilies {
		out = append(out, setInfo{f.spec, f.name + "s"})
		for _, s := range g.sets {
			if strings.HasPrefix(s.spec, f.spec+":") {
				out = append(out, s)
			}
		}
	}
	return out
}
