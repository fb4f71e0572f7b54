// Package relevance measures how well search ranks: a judged query set over the deterministic corpus
// of practices/corpus (testdata/judgments.txt) and the two measures teachers' experience maps to,
// nDCG@10 (are the best practices at the top of the first page) and MRR (how far down is the first
// best one).
//
// Judgments are rules over what a generated practice is — its topic, strategy, grades, standards,
// text and evidence — each with the reasoning for its grade, so they hold for any corpus size; the
// file's header documents the format and the scale. The benchmark (relevance_test.go) indexes the
// corpus once and runs every query through the embedded backend's ranking and through bleve's own
// query path with BM25 scoring on the same index, in the same run:
//
//	go test ./search/relevance -run '^$' -bench Relevance -benchtime 1x
package relevance

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/corpus"
)

// Query is one judged query.
type Query struct {
	Text  string
	Kind  string
	Rules []Rule
	Line  int // where it starts in the file
}

// Rule grades the practices matching all its conditions.
type Rule struct {
	Grade  int  // 0–3
	Plus   bool // "3+": 3 with evidence replicated or stronger, else 2
	Conds  []Cond
	Reason string
}

// Cond is one condition of a rule.
type Cond struct {
	Key  string   // topic, strategy, subject, grade, std, text, title, evidence>=
	Vals []string // any of
}

// Kinds of query, in report order.
var Kinds = []string{"topic", "strategy", "topic+strategy", "grade", "standard", "misspelled", "synonym", "question", "passing"}

// Parse reads a judgments file.
func Parse(r io.Reader) ([]Query, error) {
	var out []Query
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		head, rest, _ := strings.Cut(line, " ")
		switch {
		case head == "q":
			if rest == "" {
				return nil, fmt.Errorf("line %d: empty query", n)
			}
			out = append(out, Query{Text: rest, Line: n})
			continue
		case len(out) == 0:
			return nil, fmt.Errorf("line %d: %q before the first query", n, line)
		}
		q := &out[len(out)-1]
		if head == "kind" {
			if !slices.Contains(Kinds, rest) {
				return nil, fmt.Errorf("line %d: unknown kind %q", n, rest)
			}
			q.Kind = rest
			continue
		}
		rule, err := parseRule(head, rest)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		q.Rules = append(q.Rules, rule)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, q := range out {
		if q.Kind == "" || len(q.Rules) == 0 {
			return nil, fmt.Errorf("line %d: query %q needs a kind and at least one rule", q.Line, q.Text)
		}
	}
	return out, nil
}

func parseRule(grade, rest string) (Rule, error) {
	var r Rule
	switch grade {
	case "1", "2", "3":
		r.Grade = int(grade[0] - '0')
	case "3+":
		r.Grade, r.Plus = 3, true
	default:
		return r, fmt.Errorf("grade %q is not 1, 2, 3 or 3+", grade)
	}
	conds, reason, ok := strings.Cut(rest, " -- ")
	if !ok || strings.TrimSpace(reason) == "" {
		return r, fmt.Errorf("rule %q has no reason after ' -- '", rest)
	}
	r.Reason = strings.TrimSpace(reason)
	for _, c := range strings.Split(conds, " & ") {
		c = strings.TrimSpace(c)
		var key, vals string
		if k, v, ok := strings.Cut(c, ">="); ok {
			key, vals = k+">=", v
			if practices.EvidenceRank(v) < 0 {
				return r, fmt.Errorf("unknown evidence level %q", v)
			}
		} else if k, v, ok := strings.Cut(c, "="); ok {
			key, vals = k, v
		} else {
			return r, fmt.Errorf("condition %q is not key=value", c)
		}
		switch key {
		case "topic", "strategy", "subject", "grade", "std", "text", "title", "evidence>=":
		default:
			return r, fmt.Errorf("unknown condition %q", key)
		}
		r.Conds = append(r.Conds, Cond{Key: key, Vals: strings.Split(vals, "|")})
	}
	return r, nil
}

// Grade is the judgment of q for a generated practice.
func (q *Query) Grade(it *corpus.Item) int { return q.grade(it, true) }

// TextGrade is the judgment with evidence left out ("3+" is always 3): how well the practice's text
// answers the query, whatever its evidence. The benchmark reports both, so that the share of the
// gain that comes from the evidence prior is visible.
func (q *Query) TextGrade(it *corpus.Item) int { return q.grade(it, false) }

func (q *Query) grade(it *corpus.Item, evidence bool) int {
	for _, r := range q.Rules {
		if r.matches(it) {
			if evidence && r.Plus && practices.EvidenceRank(it.Level) < practices.EvidenceRank(practices.LevelReplicated) {
				return 2
			}
			return r.Grade
		}
	}
	return 0
}

func (r *Rule) matches(it *corpus.Item) bool {
	for _, c := range r.Conds {
		if !c.matches(it) {
			return false
		}
	}
	return true
}

func (c *Cond) matches(it *corpus.Item) bool {
	p := &it.Practice
	for _, v := range c.Vals {
		switch c.Key {
		case "topic":
			if it.Topic == v {
				return true
			}
		case "strategy":
			if it.Strategy == v {
				return true
			}
		case "subject":
			if slices.Contains(p.Subjects, v) {
				return true
			}
		case "grade":
			if slices.Contains(p.GradeLevels, v) {
				return true
			}
		case "std":
			for _, s := range p.Standards {
				if strings.HasPrefix(strings.ToUpper(s.Code), strings.ToUpper(v)) {
					return true
				}
			}
		case "title":
			if strings.Contains(strings.ToLower(p.Title), v) {
				return true
			}
		case "text":
			if strings.Contains(strings.ToLower(p.Title+"\n"+p.Summary+"\n"+p.Description+"\n"+strings.Join(p.KeyMoves, "\n")), v) {
				return true
			}
		case "evidence>=":
			if practices.EvidenceRank(it.Level) >= practices.EvidenceRank(v) {
				return true
			}
		}
	}
	return false
}

// Judged is a query with the grade of every practice of the corpus that has one.
type Judged struct {
	Query
	Grades map[string]int // practice id → grade > 0
	ideal  []int          // grades best first
}

// Judge grades the corpus for each query (Grade, or TextGrade when evidence is false).
func Judge(qs []Query, items []corpus.Item, evidence bool) []Judged {
	out := make([]Judged, len(qs))
	for i := range qs {
		j := Judged{Query: qs[i], Grades: map[string]int{}}
		for k := range items {
			if g := qs[i].grade(&items[k], evidence); g > 0 {
				j.Grades[items[k].Practice.ID] = g
				j.ideal = append(j.ideal, g)
			}
		}
		slices.SortFunc(j.ideal, func(a, b int) int { return b - a })
		out[i] = j
	}
	return out
}

// Best is the highest grade any practice has for the query (0 if none).
func (j *Judged) Best() int {
	if len(j.ideal) == 0 {
		return 0
	}
	return j.ideal[0]
}

// NDCG is the normalized discounted cumulative gain of a ranking (practice ids, best first) at k,
// with gain 2^grade − 1.
func (j *Judged) NDCG(ranked []string, k int) float64 {
	dcg, idcg := 0.0, 0.0
	for i := 0; i < k && i < len(ranked); i++ {
		dcg += gain(j.Grades[ranked[i]]) / math.Log2(float64(i+2))
	}
	for i := 0; i < k && i < len(j.ideal); i++ {
		idcg += gain(j.ideal[i]) / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

// RR is the reciprocal rank of the first practice with the best grade the corpus has for the query
// (0 if none is in the ranking).
func (j *Judged) RR(ranked []string) float64 {
	best := j.Best()
	for i, id := range ranked {
		if best > 0 && j.Grades[id] == best {
			return 1 / float64(i+1)
		}
	}
	return 0
}

func gain(g int) float64 { return math.Exp2(float64(g)) - 1 }
