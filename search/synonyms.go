package search

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

//go:embed synonyms.txt
var defaultSynonyms string

// Synonyms are groups of equivalent terms; each term of a group finds the others. A term is one or more
// words, stored lower-cased and joined by single spaces.
type Synonyms struct {
	groups   [][]string
	group    map[string]int // term → index in groups
	maxWords int
}

// DefaultSynonyms returns the embedded list (search/synonyms.txt).
func DefaultSynonyms() *Synonyms {
	s, err := ParseSynonyms(strings.NewReader(defaultSynonyms), "embedded synonyms.txt")
	if err != nil {
		panic(err) // the embedded file is checked by a test
	}
	return s
}

// LoadSynonyms returns the embedded list extended with the groups in the file at path ("" for none).
// Groups that share a term are merged.
func LoadSynonyms(path string) (*Synonyms, error) {
	s := DefaultSynonyms()
	if path == "" {
		return s, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("synonyms file: %w", err)
	}
	defer f.Close()
	extra, err := ParseSynonyms(f, path)
	if err != nil {
		return nil, err
	}
	return s.Merge(extra), nil
}

// ParseSynonyms reads one group a line, terms separated by commas; # starts a comment line.
func ParseSynonyms(r io.Reader, name string) (*Synonyms, error) {
	var groups [][]string
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var g []string
		for _, t := range strings.Split(line, ",") {
			w := Words(t)
			if len(w) == 0 {
				continue
			}
			if len(w) > 8 {
				return nil, fmt.Errorf("%s line %d: a term has at most 8 words", name, n)
			}
			g = append(g, strings.Join(w, " "))
		}
		if len(g) < 2 {
			return nil, fmt.Errorf("%s line %d: a group needs at least two terms separated by commas", name, n)
		}
		groups = append(groups, g)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return newSynonyms(groups), nil
}

// Merge returns the union of s and o; groups sharing a term become one.
func (s *Synonyms) Merge(o *Synonyms) *Synonyms {
	return newSynonyms(append(slices.Clone(s.groups), o.groups...))
}

func newSynonyms(in [][]string) *Synonyms {
	// Merge groups that share a term, until stable.
	var groups [][]string
	for _, g := range in {
		merged := slices.Clone(g)
		var keep [][]string
		for _, h := range groups {
			shares := false
			for _, t := range h {
				if slices.Contains(merged, t) {
					shares = true
					break
				}
			}
			if shares {
				merged = append(merged, h...)
			} else {
				keep = append(keep, h)
			}
		}
		slices.Sort(merged)
		groups = append(keep, slices.Compact(merged))
	}
	s := &Synonyms{groups: groups, group: map[string]int{}}
	for i, g := range groups {
		for _, t := range g {
			s.group[t] = i
			s.maxWords = max(s.maxWords, strings.Count(t, " ")+1)
		}
	}
	return s
}

// Groups returns the groups, each sorted.
func (s *Synonyms) Groups() [][]string {
	out := make([][]string, len(s.groups))
	for i, g := range s.groups {
		out[i] = slices.Clone(g)
	}
	return out
}

// Map returns, for every term, the other terms of its group: Meilisearch's synonyms setting, which
// needs both directions spelled out.
func (s *Synonyms) Map() map[string][]string {
	m := make(map[string][]string, len(s.group))
	for _, g := range s.groups {
		for _, t := range g {
			for _, o := range g {
				if o != t {
					m[t] = append(m[t], o)
				}
			}
		}
	}
	return m
}

// Clause is one unit of a query: the words the user typed and, when they form a synonym term, the
// other terms of its group. A document matches the clause if it matches any alternative.
type Clause struct {
	Words        []string   // as typed (lower-cased)
	Alternatives [][]string // synonym terms other than Words, each as words; nil without synonyms
}

// Expand groups query words into clauses, matching the longest synonym term at each position.
func (s *Synonyms) Expand(words []string) []Clause {
	var out []Clause
	for i := 0; i < len(words); {
		matched := false
		for n := min(s.maxWords, len(words)-i); n >= 1; n-- {
			term := strings.Join(words[i:i+n], " ")
			g, ok := s.group[term]
			if !ok {
				continue
			}
			c := Clause{Words: words[i : i+n]}
			for _, t := range s.groups[g] {
				if t != term {
					c.Alternatives = append(c.Alternatives, strings.Fields(t))
				}
			}
			out = append(out, c)
			i += n
			matched = true
			break
		}
		if !matched {
			out = append(out, Clause{Words: words[i : i+1]})
			i++
		}
	}
	return out
}

// StopWords are left out of matching by both backends: words too common to tell practices apart.
var StopWords = []string{"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "how", "in", "into",
	"is", "it", "of", "on", "or", "our", "that", "the", "their", "this", "to", "we", "with"}
