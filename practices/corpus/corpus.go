// Package corpus generates realistic practices with tests and results, at any size, deterministically
// from a seed: real subjects and grade levels, CCSS and NGSS codes, plausible titles and descriptions,
// and effect sizes around what PLC tests show (single-group pre/post g_RM around 0.45, comparison
// designs around 0.25). Benchmarks, relevance tests and the demo use it.
//
// Item i of a Generator depends only on the seed and i, so a corpus can be produced in pieces, in
// parallel, or one item at a time without holding it all in memory.
package corpus

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/brightspots-nic/brightspots/practices"
	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// District is a node whose practices the corpus holds.
type District struct {
	URL string // node URL: Meta.Origin
	ID  string // node id: Meta.OriginID
}

// Districts returns n plausible districts on example.org.
func Districts(n int) []District {
	names := []string{"maplewood", "riverside", "cedar-falls", "lakeview", "north-valley", "pinecrest",
		"harbor-city", "east-ridge", "westbrook", "sunnyvale-usd", "granite-hills", "oak-park"}
	out := make([]District, n)
	for i := range out {
		name := names[i%len(names)]
		if i >= len(names) {
			name = fmt.Sprintf("%s-%d", name, i/len(names)+1)
		}
		out[i] = District{URL: "https://" + name + ".example.org", ID: name}
	}
	return out
}

// Config chooses a corpus.
type Config struct {
	Seed      uint64
	Districts []District // at least one; Districts(4) when empty
	// Start is the earliest creation time; items spread over the two years after it. Zero means
	// 2024-08-01 UTC.
	Start time.Time
	// PublicShare and DistrictShare are the shares of practices with visibility public and district
	// (default 0.10 each); the rest have visibility network.
	PublicShare, DistrictShare float64
}

// Generator produces the items of one corpus.
type Generator struct {
	cfg Config
	ns  uuid.UUID
}

// New returns the generator of cfg.
func New(cfg Config) *Generator {
	if len(cfg.Districts) == 0 {
		cfg.Districts = Districts(4)
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	}
	if cfg.PublicShare == 0 {
		cfg.PublicShare = 0.10
	}
	if cfg.DistrictShare == 0 {
		cfg.DistrictShare = 0.10
	}
	return &Generator{cfg: cfg, ns: uuid.NewSHA1(uuid.NameSpaceURL, fmt.Appendf(nil, "brightspots-corpus/%d", cfg.Seed))}
}

// TestResult is the effect a generated test found, with what pooling needs.
type TestResult struct {
	TestID   string
	District string // node id of the district that ran it
	Design   string
	N        int
	G, V     float64 // effect size and its sampling variance
}

// Item is one generated practice, its published tests and the evidence they add up to.
type Item struct {
	Practice practices.Practice
	// Topic and Strategy say what the practice was generated from (a topic name such as "equivalent
	// fractions" and a strategy such as "Worked examples"): relevance judgments are written against them.
	Topic, Strategy string
	Tests           []practices.Test
	Results         []TestResult

	Level         string   // evidence level (practices.EvidenceLevels)
	PooledEffect  *float64 // DerSimonian–Laird random-effects estimate; nil without tests
	TestCount     int
	DistrictCount int
	Designs       []string
	Decisions     []string
}

// Generate returns items 0 … n−1.
func (g *Generator) Generate(n int) []Item {
	out := make([]Item, n)
	for i := range out {
		out[i] = g.Item(i)
	}
	return out
}

func (g *Generator) id(kind string, i, j int) string {
	return uuid.NewSHA1(g.ns, fmt.Appendf(nil, "%s/%d/%d", kind, i, j)).String()
}

// origin is the district of item j: the same first draws Item makes, without building the item.
func (g *Generator) origin(j int) District {
	rng := rand.New(rand.NewPCG(g.cfg.Seed, uint64(j)*0x9E3779B97F4A7C15+1))
	_ = rng.IntN(len(topics))
	return g.cfg.Districts[rng.IntN(len(g.cfg.Districts))]
}

var adaptations = []string{
	"Shortened to fit a 15-minute intervention block.",
	"Added sentence frames and visuals for English learners.",
	"Moved from whole class to small groups.",
	"Replaced the worksheet with manipulatives.",
}

// Item returns item i.
func (g *Generator) Item(i int) Item {
	rng := rand.New(rand.NewPCG(g.cfg.Seed, uint64(i)*0x9E3779B97F4A7C15+1))
	tp := topics[rng.IntN(len(topics))]
	dist := g.cfg.Districts[rng.IntN(len(g.cfg.Districts))]
	grade := tp.grades[rng.IntN(len(tp.grades))]
	grades := []string{grade}
	if rng.IntN(3) == 0 {
		if j := slices.Index(practices.GradeCodes, grade); j+1 < len(practices.GradeCodes) &&
			practices.GradeBand(practices.GradeCodes[j+1]) == practices.GradeBand(grade) {
			grades = append(grades, practices.GradeCodes[j+1])
		}
	}
	strat := strategies[rng.IntN(len(strategies))]
	created := g.cfg.Start.Add(time.Duration(rng.Int64N(int64(2 * 365 * 24 * time.Hour))))
	updated := created.Add(time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
	vis := practices.VisibilityNetwork
	switch v := rng.Float64(); {
	case v < g.cfg.PublicShare:
		vis = practices.VisibilityPublic
	case v < g.cfg.PublicShare+g.cfg.DistrictShare:
		vis = practices.VisibilityDistrict
	}
	gl := gradeWords(grade)
	title := fmt.Sprintf(strat.title, tp.name)
	if rng.IntN(2) == 0 {
		title += " in " + gl
	}
	moves := make([]string, 0, 4)
	for _, m := range pick(rng, strat.moves, 2+rng.IntN(2)) {
		moves = append(moves, strings.ReplaceAll(m, "%s", tp.name))
	}
	moves = append(moves, pick(rng, tp.moves, 1+rng.IntN(2))...)
	published := updated
	id := g.id("practice", i, 0)
	p := practices.Practice{
		Meta: practices.Meta{
			ID: id, Kind: practices.KindPractice, URI: dist.URL + "/practices/" + id, Version: 1 + rng.IntN(3),
			Origin: dist.URL, OriginID: dist.ID, Status: practices.StatusPublished,
			CreatedAt: created, UpdatedAt: updated, PublishedAt: &published,
			Team: pickTeam(rng, tp.subject) + " " + gl + " PLC", Visibility: vis,
		},
		Title: title,
		Summary: fmt.Sprintf("%s %s students %s. %s", strat.summary, gl, tp.goal,
			contexts[rng.IntN(len(contexts))]),
		Description: fmt.Sprintf("%s\n\n1. %s.\n2. %s.\n3. %s.\n\n%s", fmt.Sprintf(strat.desc, tp.name),
			moves[0], moves[1], tp.detail, closing[rng.IntN(len(closing))]),
		KeyMoves:     moves,
		Subjects:     []string{tp.subject},
		GradeLevels:  grades,
		OriginKind:   []string{"bright_spot", "research_based", "adapted", "team_designed"}[rng.IntN(4)],
		TimeRequired: fmt.Sprintf("PT%dM", 10+5*rng.IntN(7)),
		License:      "https://creativecommons.org/licenses/by/4.0/",
	}
	if tp.subject != "sel" && rng.IntN(5) == 0 {
		p.Subjects = append(p.Subjects, "sel")
	}
	// Publishing needs lineage for an adaptation and the finding for a bright spot.
	switch p.OriginKind {
	case "adapted":
		if i == 0 {
			p.OriginKind = "team_designed"
			break
		}
		j := i - 1 - rng.IntN(min(i, 20))
		p.BasedOn = []practices.BasedOn{{
			URI: g.origin(j).URL + "/practices/" + g.id("practice", j, 0), Relation: "adaptation_of",
			Changes: adaptations[rng.IntN(len(adaptations))],
		}}
	case "bright_spot":
		p.BrightSpotEvidence = &practices.BrightSpotEvidence{
			Method:             "Compared classroom growth on the common assessment",
			MeasureName:        tp.assessment,
			ClassroomsCompared: 4 + rng.IntN(9),
			Narrative:          "One classroom's students grew well above the others' on the same measure; the team observed that teacher to find out what she does differently.",
		}
	}
	for _, code := range pick(rng, tp.standards(grade), 1+rng.IntN(2)) {
		p.Standards = append(p.Standards, practices.Standard{Code: code, Framework: framework(code), Alignment: "teaches"})
	}

	it := Item{Practice: p, Topic: tp.name, Strategy: strings.TrimSuffix(strat.title, " for %s")}
	nTests := [...]int{0, 1, 1, 1, 2, 2, 3, 4}[rng.IntN(8)]
	districts := map[string]bool{}
	cycles := map[string]int{}
	for j := 0; j < nTests; j++ {
		td := dist
		if j > 0 && rng.IntN(3) > 0 {
			td = g.cfg.Districts[rng.IntN(len(g.cfg.Districts))]
		}
		t, r := g.test(rng, &p, i, j, td, tp, grade)
		cycles[td.ID]++ // each district numbers its own cycles of the practice
		t.Title = practices.DefaultTestTitle(&t, cycles[td.ID], time.Time{})
		it.Tests = append(it.Tests, t)
		it.Results = append(it.Results, r)
		districts[td.ID] = true
		it.Designs = append(it.Designs, t.Design)
		it.Decisions = append(it.Decisions, t.Decision)
	}
	slices.Sort(it.Designs)
	it.Designs = slices.Compact(it.Designs)
	slices.Sort(it.Decisions)
	it.Decisions = slices.Compact(it.Decisions)
	it.TestCount = nTests
	it.DistrictCount = len(districts)
	it.Level, it.PooledEffect = level(it.Results, len(districts))
	it.Practice.Evidence = &evidence.Summary{Level: it.Level}
	return it
}

func (g *Generator) test(rng *rand.Rand, p *practices.Practice, i, j int, d District, tp topic, grade string) (practices.Test, TestResult) {
	design := practices.Designs[0]
	if rng.IntN(4) == 0 {
		design = practices.Designs[1+rng.IntN(2)]
	}
	n := 12 + rng.IntN(60)
	var gv, v float64
	if design == practices.Designs[0] {
		gv = 0.45 + 0.25*rng.NormFloat64()
		r := 0.6 + 0.3*rng.Float64()
		v = 2*(1-r)/float64(n) + gv*gv/(2*float64(n))
	} else {
		gv = 0.25 + 0.2*rng.NormFloat64()
		n2 := 12 + rng.IntN(60)
		v = 1/float64(n) + 1/float64(n2) + gv*gv/(2*float64(n+n2))
	}
	gv = math.Round(gv*10000) / 10000
	decision := "adopt"
	switch {
	case gv < 0.1:
		decision = "abandon"
	case gv < 0.35:
		decision = "adapt"
	}
	start := p.CreatedAt.AddDate(0, 0, 7+rng.IntN(30))
	end := start.AddDate(0, 0, 28+rng.IntN(56))
	cut := 65.0
	id := g.id("test", i, j)
	t := practices.Test{
		Meta: practices.Meta{
			ID: id, Kind: practices.KindTest, URI: d.URL + "/tests/" + id, Version: 1,
			Origin: d.URL, OriginID: d.ID, Status: practices.StatusPublished,
			CreatedAt: start, UpdatedAt: end, PublishedAt: &end,
			Team: p.Team, Visibility: practices.VisibilityNetwork,
		},
		Practice: practices.PracticeRef{URI: p.URI, Version: p.Version},
		Cycle:    []string{"step", "pdsa"}[rng.IntN(2)],
		Design:   design,
		Question: fmt.Sprintf("Will %s students %s when we use %s for six weeks?", gradeWords(grade), tp.goal, strings.ToLower(p.Title)),
		Prediction: &practices.Prediction{Text: "Students' mean scores will rise by at least 5 points.",
			Metric: "mean_gain", Operator: ">=", Value: 5},
		Assessment: &practices.Assessment{Name: tp.assessment, Kind: "common formative assessment",
			ScoreMin: 0, ScoreMax: 100, ProficiencyCut: &cut, Form: "parallel"},
		Cohort: &practices.Cohort{GradeLevels: []string{grade}, Subjects: p.Subjects,
			Classrooms: 1 + rng.IntN(5), StudentsPlanned: n},
		StartDate: start.Format("2006-01-02"), EndDate: end.Format("2006-01-02"),
		Dosage:    &practices.Dosage{SessionsPlanned: 18, SessionsDelivered: 12 + rng.IntN(7), MinutesPerSession: 15 + 5*rng.IntN(4)},
		Learnings: learnings[rng.IntN(len(learnings))],
		Results:   &evidence.Results{Design: design},
		Decision:  decision,
	}
	switch {
	case gv >= 0.35:
		t.PredictionMet = "yes"
	case gv >= 0.15:
		t.PredictionMet = "partly"
	default:
		t.PredictionMet = "no"
	}
	return t, TestResult{TestID: id, District: d.ID, Design: design, N: n, G: gv, V: v}
}

// level computes the evidence level (docs/records.md) and the DerSimonian–Laird pooled effect.
func level(rs []TestResult, districts int) (string, *float64) {
	if len(rs) == 0 {
		return practices.LevelDescribed, nil
	}
	var sw, swy, sw2 float64
	for _, r := range rs {
		w := 1 / r.V
		sw += w
		swy += w * r.G
		sw2 += w * w
	}
	fe := swy / sw
	var q float64
	for _, r := range rs {
		q += (r.G - fe) * (r.G - fe) / r.V
	}
	df := float64(len(rs) - 1)
	tau2 := 0.0
	if c := sw - sw2/sw; df > 0 && c > 0 {
		tau2 = max(0, (q-df)/c)
	}
	i2 := 0.0
	if q > 0 && df > 0 {
		i2 = max(0, (q-df)/q) * 100
	}
	var ws, wsy float64
	for _, r := range rs {
		w := 1 / (r.V + tau2)
		ws += w
		wsy += w * r.G
	}
	mu := wsy / ws
	lo := mu - 1.959964/math.Sqrt(ws)
	mu = math.Round(mu*10000) / 10000
	comparedOK := false
	for _, r := range rs {
		if r.Design != practices.Designs[0] && r.G-1.959964*math.Sqrt(r.V) > 0 {
			comparedOK = true
		}
	}
	lvl := practices.LevelTested
	switch {
	case districts >= 3 && lo > 0 && i2 < 50:
		lvl = practices.LevelNetworkConfirmed
	case comparedOK:
		lvl = practices.LevelCompared
	case districts >= 2 && lo > 0:
		lvl = practices.LevelReplicated
	}
	return lvl, &mu
}

func pick(rng *rand.Rand, from []string, n int) []string {
	idx := rng.Perm(len(from))
	out := make([]string, 0, n)
	for _, j := range idx[:min(n, len(idx))] {
		out = append(out, from[j])
	}
	return out
}

func gradeWords(code string) string {
	switch l := practices.GradeLabel(code); l {
	case "PK":
		return "pre-K"
	case "K":
		return "kindergarten"
	case "1":
		return "1st grade"
	case "2":
		return "2nd grade"
	case "3":
		return "3rd grade"
	default:
		return l + "th grade"
	}
}

func framework(code string) string {
	switch {
	case strings.HasPrefix(code, "CCSS.MATH"):
		return "CCSS.MATH"
	case strings.HasPrefix(code, "CCSS.ELA-LITERACY"):
		return "CCSS.ELA-LITERACY"
	case strings.Contains(code, "-") && !strings.Contains(code, "."):
		return "NGSS"
	case strings.HasPrefix(code, "CASEL."):
		return "CASEL"
	}
	return ""
}

// Vocabulary returns the distinct lower-cased words of the corpus's titles, summaries and key moves:
// what query mixes draw from.
func Vocabulary() []string {
	seen := map[string]bool{}
	add := func(s string) {
		for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
		}) {
			if len(w) >= 3 && !stop[w] {
				seen[w] = true
			}
		}
	}
	for _, t := range topics {
		add(t.name)
		add(t.goal)
		add(t.detail)
		for _, m := range t.moves {
			add(m)
		}
	}
	for _, s := range strategies {
		add(s.title)
		add(s.summary)
		for _, m := range s.moves {
			add(m)
		}
	}
	out := make([]string, 0, len(seen))
	for w := range seen {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

var stop = map[string]bool{"the": true, "and": true, "for": true, "with": true, "their": true, "them": true,
	"each": true, "that": true, "they": true, "then": true, "from": true, "into": true, "what": true,
	"when": true, "who": true, "use": true, "one": true, "two": true, "are": true, "before": true}

// Topics returns the names of the corpus's topics, with their subject codes.
func Topics() map[string]string {
	m := map[string]string{}
	for _, t := range topics {
		m[t.name] = t.subject
	}
	return m
}

// pickTeam names a PLC that fits the subject (one draw from rng, as before teams fitted subjects).
func pickTeam(rng *rand.Rand, subject string) string {
	ts := teamsFor(subject)
	return ts[rng.IntN(len(ts))]
}
