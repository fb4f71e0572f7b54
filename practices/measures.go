package practices

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/storage"
)

// Measures over time live in two places, like results:
//
//   - the published view (evidence.PublishMeasure: points below the minimum n left out, values
//     rounded and coarsened, the analysis of exactly those points) inside the Test record, the only
//     form that ever leaves the district;
//   - the team's view (every point as entered or aggregated, exact values) under
//     node/measures/{test-id}/v{version}.json, read by the team's workspace.
//
// A client sends the team's view (PUT /api/v1/tests/{id} with "measures"); the repository keeps it
// inside and publishes the published view. A PUT without "measures" leaves them as they are; an
// empty list removes them.

func teamMeasuresKey(id string, v int) string {
	return fmt.Sprintf("node/measures/%s/v%08d.json", id, v)
}

// TeamMeasures is the team's own view of a test's measures, as stored inside the district.
type TeamMeasures struct {
	Measures []evidence.Measure `json:"measures"`
	Version  int                `json:"test_version"`
}

var measureIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// MeasureID makes a measure id (a slug) from a name.
func MeasureID(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		s = "measure"
	}
	return s
}

// carryIdentical keeps the server's "identical scores" mark on points an edit sends back
// unchanged (same measure, date, n and value), so a form or a GET–PUT round trip cannot publish a
// mean the score file showed to be every student's score.
func carryIdentical(team, prev []evidence.Measure) {
	for i := range team {
		old, ok := FindMeasure(prev, team[i].ID)
		if !ok {
			continue
		}
		marked := map[evidence.MeasurePoint]bool{}
		for _, p := range old.Points {
			if p.Identical {
				p.Identical, p.Coarse = false, ""
				marked[p] = true
			}
		}
		for j, p := range team[i].Points {
			p.Identical, p.Coarse = false, ""
			if marked[p] {
				team[i].Points[j].Identical = true
			}
		}
	}
}

// normalizeMeasures drops what only the server computes from a client's measures.
func normalizeMeasures(ms []evidence.Measure) []evidence.Measure {
	out := make([]evidence.Measure, len(ms))
	for i, m := range ms {
		m.Analysis, m.Withheld = nil, 0
		m.Points = append([]evidence.MeasurePoint(nil), m.Points...)
		for j := range m.Points {
			m.Points[j].Coarse = ""
		}
		m.ID = strings.TrimSpace(m.ID)
		if m.ID == "" {
			m.ID = MeasureID(m.Name)
		}
		out[i] = m
	}
	return out
}

// measureScale is the scale a measure's means must lie on: its own, else the test's assessment's.
func measureScale(m evidence.Measure, a *Assessment) (lo, hi float64, ok bool) {
	switch {
	case m.ScoreMin != nil && m.ScoreMax != nil:
		return *m.ScoreMin, *m.ScoreMax, true
	case a != nil && a.ScoreMax > a.ScoreMin:
		return a.ScoreMin, a.ScoreMax, true
	}
	return 0, 0, false
}

// validateMeasures checks a test's measures (docs/measures.md): every message names the measure and,
// for a point, its number and date.
func validateMeasures(c *checker, ms []evidence.Measure, a *Assessment) {
	if len(ms) > evidence.MaxMeasures {
		c.add("measures", "max_items", "a test holds at most %d measures (got %d)", evidence.MaxMeasures, len(ms))
		return
	}
	ids := map[string]bool{}
	for i, m := range ms {
		f := fmt.Sprintf("measures[%d]", i)
		label := fmt.Sprintf("measure %q", m.ID)
		if !measureIDPattern.MatchString(m.ID) {
			c.add(f+".id", "format", "%s: the id must be a slug (lower-case letters, digits, - and _)", label)
		} else if ids[m.ID] {
			c.add(f+".id", "duplicate", "%s: another measure of this test has the same id", label)
		}
		ids[m.ID] = true
		before := len(c.problems)
		c.text(f+".name", m.Name, 120, true)
		c.oneOf(f+".type", m.Type, evidence.MeasureTypes, true)
		c.oneOf(f+".kind", m.Kind, evidence.MeasureKinds, true)
		c.oneOf(f+".direction", m.Direction, evidence.Directions, true)
		c.text(f+".definition", m.Definition, 1000, false)
		for j := before; j < len(c.problems); j++ {
			c.problems[j].Message = label + ": " + c.problems[j].Message
		}
		for _, v := range []*float64{m.ScoreMin, m.ScoreMax, m.Cut, m.Target} {
			if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
				c.add(f, "format", "%s: numbers must be finite", label)
			}
		}
		if (m.ScoreMin == nil) != (m.ScoreMax == nil) {
			c.add(f+".score_max", "required", "%s: give both score_min and score_max, or neither", label)
		} else if m.ScoreMin != nil && *m.ScoreMax <= *m.ScoreMin {
			c.add(f+".score_max", "range", "%s: score_max must be greater than score_min", label)
		}
		lo, hi, scaled := measureScale(m, a)
		if m.Cut != nil && scaled && (*m.Cut < lo || *m.Cut > hi) {
			c.add(f+".cut", "range", "%s: the cut must lie on the scale %g–%g", label, lo, hi)
		}
		if m.Kind == evidence.MeasureMean && !scaled && len(m.Points) > 0 {
			c.add(f+".score_max", "required", "%s: a mean measure needs its scale (score_min and score_max, or the test's assessment)", label)
		}
		if m.Baseline != nil {
			switch {
			case *m.Baseline < 1:
				c.add(f+".baseline", "range", "%s: the baseline must be at least 1 point", label)
			case len(m.Points) > 0 && *m.Baseline > len(m.Points):
				c.add(f+".baseline", "range", "%s: the baseline (%d points) is longer than the series (%d points)", label, *m.Baseline, len(m.Points))
			}
		}
		if len(m.Points) > evidence.MaxMeasurePoints {
			c.add(f+".points", "max_items", "%s: a measure holds at most %d points (got %d)", label, evidence.MaxMeasurePoints, len(m.Points))
			continue
		}
		prev := ""
		for j, p := range m.Points {
			pf := fmt.Sprintf("%s.points[%d]", f, j)
			pl := fmt.Sprintf("%s, point %d (%s)", label, j+1, p.Date)
			if _, err := parseDate(p.Date); err != nil || p.Date == "" {
				c.add(pf+".date", "format", "%s: the date must be YYYY-MM-DD", fmt.Sprintf("%s, point %d", label, j+1))
				continue
			}
			switch {
			case p.Date == prev:
				c.add(pf+".date", "duplicate", "%s: the date repeats the previous point's", pl)
			case p.Date < prev:
				c.add(pf+".date", "order", "%s: points must be in date order (this one is before the previous point)", pl)
			}
			prev = p.Date
			if p.N <= 0 {
				c.add(pf+".n", "range", "%s: the number of students measured (n) must be at least 1", pl)
			}
			switch {
			case math.IsNaN(p.Value) || math.IsInf(p.Value, 0):
				c.add(pf+".value", "format", "%s: the value must be a number", pl)
			case m.Kind == evidence.MeasurePercent && (p.Value < 0 || p.Value > 100):
				c.add(pf+".value", "range", "%s: a percentage must lie between 0 and 100", pl)
			case m.Kind == evidence.MeasureMean && scaled && (p.Value < lo || p.Value > hi):
				c.add(pf+".value", "range", "%s: the mean must lie on the measure's scale %g–%g", pl, lo, hi)
			}
		}
		if len(m.Notes) > evidence.MaxMeasureNotes {
			c.add(f+".notes", "max_items", "%s: at most %d notes", label, evidence.MaxMeasureNotes)
			continue
		}
		for j, n := range m.Notes {
			nf := fmt.Sprintf("%s.notes[%d]", f, j)
			if _, err := parseDate(n.Date); err != nil || n.Date == "" {
				c.add(nf+".date", "format", "%s, note %d: the date must be YYYY-MM-DD", label, j+1)
			}
			before := len(c.problems)
			c.text(nf+".text", n.Text, 300, true)
			for k := before; k < len(c.problems); k++ {
				c.problems[k].Message = fmt.Sprintf("%s, note %d: %s", label, j+1, c.problems[k].Message)
			}
		}
	}
}

// ValidateMeasures checks a team's measures against the rules of docs/measures.md.
func ValidateMeasures(ms []evidence.Measure, a *Assessment) error {
	var c checker
	validateMeasures(&c, ms, a)
	return c.err()
}

// publishMeasures turns the team's measures into the published view.
func (r *Repo) publishMeasures(team []evidence.Measure) []evidence.Measure {
	out := make([]evidence.Measure, len(team))
	for i, m := range team {
		out[i] = evidence.PublishMeasure(m, r.minimumN)
	}
	return out
}

// prepareMeasures validates incoming team measures and replaces them in t by the published view.
// It returns the team's view to keep inside the district, or nil when t carries no measures (the
// edit leaves them alone).
func (r *Repo) prepareMeasures(t *Test, prev []evidence.Measure) ([]evidence.Measure, error) {
	if t.Measures == nil {
		return nil, nil
	}
	team := normalizeMeasures(t.Measures)
	carryIdentical(team, prev)
	if err := ValidateMeasures(team, t.Assessment); err != nil {
		return nil, err
	}
	t.Measures = r.publishMeasures(team)
	return team, nil
}

func (r *Repo) putTeamMeasures(ctx context.Context, id string, version int, team []evidence.Measure) error {
	return putJSON(ctx, r.bucket, teamMeasuresKey(id, version), TeamMeasures{Measures: team, Version: version}, storage.PutOptions{})
}

// TeamMeasures returns the team's view of a local test's measures: every point, exact values.
// Callers must have checked that the principal may edit the test: this view never leaves the team.
// A test whose measures were never stored separately (or whose last store was lost to a crash
// after the record's commit) falls back to the published view.
func (r *Repo) TeamMeasures(ctx context.Context, t *Test) ([]evidence.Measure, error) {
	if !validID(t.ID) || t.Origin != r.node.URL {
		return t.Measures, nil
	}
	objs, err := r.bucket.List(ctx, storage.ListOptions{Prefix: "node/measures/" + t.ID + "/"})
	if err != nil {
		return nil, err
	}
	var tm TeamMeasures
	for i := len(objs) - 1; i >= 0; i-- {
		if err := getJSON(ctx, r.bucket, objs[i].Key, &tm); err != nil {
			return nil, err
		}
		if tm.Version <= t.Version {
			if !sameMeasureSet(tm.Measures, t.Measures) {
				break
			}
			return tm.Measures, nil
		}
	}
	return normalizeMeasures(t.Measures), nil
}

// sameMeasureSet reports whether the team's view and the published view name the same measures:
// a team view left behind by an edit that later failed is not used.
func sameMeasureSet(team, published []evidence.Measure) bool {
	if len(team) != len(published) {
		return false
	}
	for i := range team {
		if team[i].ID != published[i].ID {
			return false
		}
	}
	return true
}

// RecordMeasurePoints merges aggregated points (from a score file) into one measure of a test as a
// new version: a date already in the series takes the new aggregate.
func (r *Repo) RecordMeasurePoints(ctx context.Context, p Principal, id, measureID string, points []evidence.MeasurePoint) (*Test, error) {
	var team []evidence.Measure
	rec, err := r.Mutate(ctx, p, KindTest, id, func(cur Record) error {
		t := cur.(*Test)
		if t.Status == StatusWithdrawn {
			return &StateError{Msg: "a withdrawn test cannot take new points"}
		}
		ms, err := r.TeamMeasures(ctx, t)
		if err != nil {
			return err
		}
		ms = normalizeMeasures(ms)
		found := false
		for i := range ms {
			if ms[i].ID == measureID {
				ms[i].Points = evidence.MergePoints(ms[i].Points, points)
				found = true
			}
		}
		if !found {
			return ErrNotFound
		}
		t.Measures = ms
		team, err = r.prepareMeasures(t, ms)
		return err
	})
	if err != nil {
		return nil, err
	}
	t := rec.(*Test)
	if err := r.putTeamMeasures(ctx, id, t.Version, team); err != nil {
		return nil, err
	}
	return t, nil
}

// FindMeasure returns the measure with id among ms.
func FindMeasure(ms []evidence.Measure, id string) (*evidence.Measure, bool) {
	for i := range ms {
		if ms[i].ID == id {
			return &ms[i], true
		}
	}
	return nil, false
}

// MeasureUploadAudit records a score file that produced points: who, when, the file's SHA-256, how
// many rows and dates, the minimum n applied — never a row (docs/records.md, rule 9).
type MeasureUploadAudit struct {
	Test     string    `json:"test,omitempty"`
	Progress string    `json:"progress,omitempty"` // a progress record's points (aims_repo.go)
	Measure  string    `json:"measure"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	SHA256   string    `json:"sha256"`
	Bytes    int64     `json:"bytes"`
	Rows     int       `json:"rows"`
	Blank    int       `json:"blank_rows"`
	Dates    int       `json:"dates"`
	Withheld int       `json:"dates_below_minimum_n"`
	MinimumN int       `json:"minimum_n"`
}

// AuditMeasureUpload stores the audit entry of a score file.
func (r *Repo) AuditMeasureUpload(ctx context.Context, p Principal, id, measureID string, ms *evidence.MeasureScores) error {
	now := r.now().UTC()
	a := MeasureUploadAudit{Test: id, Measure: measureID, By: p.Subject, At: now, SHA256: ms.SHA256, Bytes: ms.Bytes,
		Rows: ms.Read, Blank: ms.Blank, Dates: len(ms.Points), MinimumN: r.minimumN}
	for _, pt := range ms.Points {
		if pt.N < r.minimumN || pt.Identical {
			a.Withheld++
		}
	}
	key := fmt.Sprintf("node/audit/measures/%s/%s-%s.json", id, now.Format("20060102T150405.000Z"), measureID)
	return putJSON(ctx, r.bucket, key, a, storage.PutOptions{})
}

// MinimumN is the privacy minimum n the repository applies to measures.
func (r *Repo) MinimumN() int { return r.minimumN }
