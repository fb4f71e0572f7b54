package practices

import (
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/brightspots-nic/brightspots/practices/evidence"
)

// Network aims and progress (docs/aims.md).
//
// An aim is what a network's coordinators organise the community around: a statement, the outcome
// measure every district reports, a target, and the driver diagram (primary drivers, secondary
// drivers under a primary, change ideas under drivers, each linking practices of any district). It
// is published by one node and mirrored by the others like a collection.
//
// A progress record is one district's report towards an aim: points of the aim's outcome measure,
// with the same shape and privacy rules as a measure's points (see measures.go), notes, and an
// optional phase score.

// Driver levels.
const (
	DriverPrimary   = "primary"
	DriverSecondary = "secondary"
)

// DriverLevels lists the allowed driver levels.
var DriverLevels = []string{DriverPrimary, DriverSecondary}

// Caps on an aim's and a progress record's lists (issue 12: no list grows without bound).
const (
	MaxAimDrivers           = 100
	MaxAimChangeIdeas       = 200
	MaxChangeIdeaPractices  = 500
	MaxAimPractices         = 1000 // distinct practices over all change ideas: each is a reverse reference written on every save
	MaxChangeIdeaDrivers    = 20
	MaxAimCollections       = 50
	MaxProgressPoints       = evidence.MaxMeasurePoints
	MaxProgressNotes        = evidence.MaxMeasureNotes
	MaxProgressPhaseScores  = 100
	PhaseScoreMin           = 0.5
	PhaseScoreMax           = 5.0
	NotReportingDays        = 60 // a district with no point in this many days is listed as not reporting
	maxAimStatement         = 1000
	maxDriverText           = 500
	maxChangeIdeaText       = 1000
	maxOutcomeDefinition    = 1000
	maxOutcomeName          = 120
	maxAimTitle             = 120
	maxProgressNoteText     = 300
	maxDriverOrChangeIdeaID = 64
)

// OutcomeMeasure is the measure every district reports towards an aim. Kind and direction are those
// of a measure (evidence.MeasureKinds, evidence.Directions). A mean measure needs its scale
// (score_min, score_max) so points can be checked; a percent measure may name the cut a score file
// is aggregated with.
type OutcomeMeasure struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`      // mean | percent
	Direction  string   `json:"direction"` // up | down
	Definition string   `json:"definition,omitempty"`
	ScoreMin   *float64 `json:"score_min,omitempty"`
	ScoreMax   *float64 `json:"score_max,omitempty"`
	Cut        *float64 `json:"cut,omitempty"`
}

// AimTarget is the value the network means to reach by a date.
type AimTarget struct {
	Value float64 `json:"value"`
	By    string  `json:"by"` // YYYY-MM-DD; in the future when the aim is created
}

// Driver is one box of the driver diagram. A secondary driver names its primary in Parent.
type Driver struct {
	ID     string `json:"id"`
	Level  string `json:"level"` // primary | secondary
	Text   string `json:"text"`
	Parent string `json:"parent,omitempty"` // id of a primary driver (secondary only)
}

// ChangeIdea is what the network is testing under one or more drivers, with the practices (of any
// district, by URI) that carry it out.
type ChangeIdea struct {
	ID        string   `json:"id"`
	Text      string   `json:"text"`
	Drivers   []string `json:"drivers"`             // driver ids
	Practices []string `json:"practices,omitempty"` // practice URIs
}

// Aim is a network aim with its driver diagram.
type Aim struct {
	Meta
	Title          string          `json:"title"`
	Statement      string          `json:"statement"`
	OutcomeMeasure *OutcomeMeasure `json:"outcome_measure,omitempty"`
	Target         *AimTarget      `json:"target,omitempty"`
	Drivers        []Driver        `json:"drivers,omitempty"`
	ChangeIdeas    []ChangeIdea    `json:"change_ideas,omitempty"`
	Collections    []string        `json:"collections,omitempty"` // collection URIs
	Curator        string          `json:"curator,omitempty"`     // display name
}

// AimRef points at a version of a local or mirrored aim.
type AimRef struct {
	URI     string `json:"uri"`
	Version int    `json:"version,omitempty"`
}

// PhaseScore is the IHI assessment scale, 0.5–5 (1 forming, 2 planning, 3 changes tested,
// 4 improvement, 5 outstanding sustainable results).
type PhaseScore struct {
	Date  string  `json:"date"` // YYYY-MM-DD
	Score float64 `json:"score"`
}

// Progress is one district's report towards an aim. In the record, Points are the published view
// (points below the minimum n left out and counted in Withheld, values rounded and coarsened, as
// evidence.PublishMeasure does); the team's exact points stay inside the district.
type Progress struct {
	Meta
	Aim        AimRef                  `json:"aim"`
	Points     []evidence.MeasurePoint `json:"points"`
	Notes      []evidence.MeasureNote  `json:"notes,omitempty"`
	PhaseScore []PhaseScore            `json:"phase_score,omitempty"`
	// Computed by the server from the published points and the aim's outcome measure.
	Withheld int                       `json:"withheld,omitempty"`
	Analysis *evidence.MeasureAnalysis `json:"analysis,omitempty"`
}

func (a *Aim) RecordMeta() *Meta      { return &a.Meta }
func (p *Progress) RecordMeta() *Meta { return &p.Meta }

// DriverByID returns the driver with id, if any.
func (a *Aim) DriverByID(id string) (Driver, bool) {
	for _, d := range a.Drivers {
		if d.ID == id {
			return d, true
		}
	}
	return Driver{}, false
}

var driverIDPattern = measureIDPattern

// validateAim checks an aim: the driver diagram's structure (ids unique across drivers and change
// ideas, a secondary driver's parent a primary, a change idea's drivers known), the outcome measure
// and the target, and the caps. A target date in the past is refused only at creation (see
// CheckAimTarget), since an aim stays valid after its date passes.
func validateAim(c *checker, a *Aim, level Level) {
	pub := level == LevelPublish
	c.text("title", a.Title, maxAimTitle, true)
	c.text("statement", a.Statement, maxAimStatement, pub)
	c.text("curator", a.Curator, maxShort, false)
	if om := a.OutcomeMeasure; om == nil {
		if pub {
			c.add("outcome_measure", "required", "is required: the measure every district reports")
		}
	} else {
		c.text("outcome_measure.name", om.Name, maxOutcomeName, true)
		c.oneOf("outcome_measure.kind", om.Kind, evidence.MeasureKinds, true)
		c.oneOf("outcome_measure.direction", om.Direction, evidence.Directions, true)
		c.text("outcome_measure.definition", om.Definition, maxOutcomeDefinition, false)
		for _, f := range []struct {
			name string
			v    *float64
		}{{"score_min", om.ScoreMin}, {"score_max", om.ScoreMax}, {"cut", om.Cut}} {
			if f.v != nil && !finite(*f.v) {
				c.add("outcome_measure."+f.name, "format", "must be a finite number")
			}
		}
		if (om.ScoreMin == nil) != (om.ScoreMax == nil) {
			c.add("outcome_measure.score_max", "required", "give both score_min and score_max, or neither")
		} else if om.ScoreMin != nil && *om.ScoreMax <= *om.ScoreMin {
			c.add("outcome_measure.score_max", "range", "must be greater than score_min")
		}
		if om.Kind == evidence.MeasureMean && om.ScoreMin == nil {
			c.add("outcome_measure.score_max", "required", "a mean measure needs its scale (score_min and score_max)")
		}
		if om.Cut != nil && om.ScoreMin != nil && om.ScoreMax != nil && (*om.Cut < *om.ScoreMin || *om.Cut > *om.ScoreMax) {
			c.add("outcome_measure.cut", "range", "must lie on the scale %g–%g", *om.ScoreMin, *om.ScoreMax)
		}
	}
	if t := a.Target; t == nil {
		if pub {
			c.add("target", "required", "is required: a value and the date to reach it by")
		}
	} else {
		if t.By == "" {
			c.add("target.by", "required", "is required (YYYY-MM-DD)")
		} else if _, err := parseDate(t.By); err != nil {
			c.add("target.by", "format", "must be a date YYYY-MM-DD")
		}
		switch {
		case !finite(t.Value):
			c.add("target.value", "format", "must be a finite number")
		case a.OutcomeMeasure != nil && a.OutcomeMeasure.Kind == evidence.MeasurePercent && (t.Value < 0 || t.Value > 100):
			c.add("target.value", "range", "a percentage must lie between 0 and 100")
		case a.OutcomeMeasure != nil && a.OutcomeMeasure.ScoreMin != nil && a.OutcomeMeasure.ScoreMax != nil &&
			a.OutcomeMeasure.Kind == evidence.MeasureMean && (t.Value < *a.OutcomeMeasure.ScoreMin || t.Value > *a.OutcomeMeasure.ScoreMax):
			c.add("target.value", "range", "must lie on the outcome measure's scale %g–%g", *a.OutcomeMeasure.ScoreMin, *a.OutcomeMeasure.ScoreMax)
		}
	}

	ids := map[string]string{} // id → what it names ("driver", "change idea")
	level1 := map[string]string{}
	driversOK := c.maxItems("drivers", len(a.Drivers), MaxAimDrivers, "drivers")
	if pub && len(a.Drivers) == 0 {
		c.add("drivers", "required", "must list at least one primary driver")
	}
	if driversOK {
		for i, d := range a.Drivers {
			f := fmt.Sprintf("drivers[%d]", i)
			checkDiagramID(c, f+".id", d.ID, ids, "driver")
			c.oneOf(f+".level", d.Level, DriverLevels, true)
			c.text(f+".text", d.Text, maxDriverText, true)
			level1[d.ID] = d.Level
		}
		for i, d := range a.Drivers {
			f := fmt.Sprintf("drivers[%d].parent", i)
			switch {
			case d.Level == DriverPrimary && d.Parent != "":
				c.add(f, "not_allowed", "a primary driver has no parent")
			case d.Level == DriverSecondary && d.Parent == "":
				c.add(f, "required", "a secondary driver must name its primary driver")
			case d.Level == DriverSecondary && level1[d.Parent] == "":
				c.add(f, "unknown_driver", "names no driver of this aim (%q)", truncateText(d.Parent, 64))
			case d.Level == DriverSecondary && level1[d.Parent] != DriverPrimary:
				c.add(f, "not_primary", "must name a primary driver (%q is %s)", truncateText(d.Parent, 64), level1[d.Parent])
			}
		}
	}
	if c.maxItems("change_ideas", len(a.ChangeIdeas), MaxAimChangeIdeas, "change ideas") {
		for i, ci := range a.ChangeIdeas {
			f := fmt.Sprintf("change_ideas[%d]", i)
			checkDiagramID(c, f+".id", ci.ID, ids, "change idea")
			c.text(f+".text", ci.Text, maxChangeIdeaText, true)
			if len(ci.Drivers) == 0 {
				c.add(f+".drivers", "required", "must name at least one driver")
			}
			if c.maxItems(f+".drivers", len(ci.Drivers), MaxChangeIdeaDrivers, "drivers") && driversOK {
				seen := map[string]bool{}
				for j, d := range ci.Drivers {
					df := fmt.Sprintf("%s.drivers[%d]", f, j)
					switch {
					case level1[d] == "":
						c.add(df, "unknown_driver", "names no driver of this aim (%q)", truncateText(d, 64))
					case seen[d]:
						c.add(df, "duplicate", "is listed twice")
					}
					seen[d] = true
				}
			}
			if c.maxItems(f+".practices", len(ci.Practices), MaxChangeIdeaPractices, "practices") {
				seen := map[string]bool{}
				for j, u := range ci.Practices {
					pf := fmt.Sprintf("%s.practices[%d]", f, j)
					c.url(pf, u, true)
					if u != "" {
						if _, k, _, ok := ParseURI(u); !ok || k != KindPractice {
							c.add(pf, "format", "must be the URI of a practice ({node URL}/practices/{id})")
						}
					}
					if seen[u] {
						c.add(pf, "duplicate", "is listed twice")
					}
					seen[u] = true
				}
			}
		}
	}
	distinct := map[string]bool{}
	for _, ci := range a.ChangeIdeas {
		for _, u := range ci.Practices {
			distinct[u] = true
		}
	}
	if len(distinct) > MaxAimPractices {
		c.add("change_ideas", "max_items", "may link at most %d different practices in all (got %d)", MaxAimPractices, len(distinct))
	}
	if c.maxItems("collections", len(a.Collections), MaxAimCollections, "collections") {
		seen := map[string]bool{}
		for i, u := range a.Collections {
			f := fmt.Sprintf("collections[%d]", i)
			c.url(f, u, true)
			if u != "" {
				if _, k, _, ok := ParseURI(u); !ok || k != KindCollection {
					c.add(f, "format", "must be the URI of a collection ({node URL}/collections/{id})")
				}
			}
			if seen[u] {
				c.add(f, "duplicate", "is listed twice")
			}
			seen[u] = true
		}
	}
}

func checkDiagramID(c *checker, field, id string, ids map[string]string, what string) {
	switch {
	case id == "":
		c.add(field, "required", "is required (a short slug, unique within the aim)")
	case !driverIDPattern.MatchString(id):
		c.add(field, "format", "must be a slug (lower-case letters, digits, - and _; at most %d characters)", maxDriverOrChangeIdeaID-1)
	case ids[id] != "":
		c.add(field, "duplicate", "%q is already the id of a %s of this aim", id, ids[id])
	default:
		ids[id] = what
	}
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func truncateText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// CheckAimTarget refuses a target date before today: what creating an aim requires (an existing
// aim keeps its date when it passes).
func CheckAimTarget(a *Aim, today time.Time) error {
	if a.Target == nil || a.Target.By == "" {
		return nil
	}
	by, err := parseDate(a.Target.By)
	if err != nil {
		return nil // reported by Validate
	}
	if by.Before(today.UTC().Truncate(24 * time.Hour)) {
		return &ValidationError{Problems: []FieldError{{Field: "target.by", Rule: "past",
			Message: "must not be in the past when the aim is created"}}}
	}
	return nil
}

// validateProgress checks the parts of a progress record that do not need the aim: the reference,
// the points' shape (date order, n, finite values), notes and phase scores. The points are checked
// against the aim's outcome measure (scale, percent range) by ValidateProgressPoints.
func validateProgress(c *checker, p *Progress, level Level) {
	c.url("aim.uri", p.Aim.URI, true)
	if p.Aim.URI != "" {
		if _, k, _, ok := ParseURI(p.Aim.URI); !ok || k != KindAim {
			c.add("aim.uri", "format", "must be the URI of an aim ({node URL}/aims/{id})")
		}
	}
	if p.Aim.Version < 0 {
		c.add("aim.version", "range", "must not be negative")
	}
	if level == LevelPublish && len(p.Points) == 0 && p.Withheld == 0 {
		c.add("points", "required", "must report at least one point")
	}
	validateProgressPoints(c, p, nil)
	if c.maxItems("notes", len(p.Notes), MaxProgressNotes, "notes") {
		for j, n := range p.Notes {
			nf := fmt.Sprintf("notes[%d]", j)
			if _, err := parseDate(n.Date); err != nil || n.Date == "" {
				c.add(nf+".date", "format", "must be a date YYYY-MM-DD")
			}
			c.text(nf+".text", n.Text, maxProgressNoteText, true)
		}
	}
	if c.maxItems("phase_score", len(p.PhaseScore), MaxProgressPhaseScores, "phase scores") {
		prev := ""
		for j, s := range p.PhaseScore {
			sf := fmt.Sprintf("phase_score[%d]", j)
			if _, err := parseDate(s.Date); err != nil || s.Date == "" {
				c.add(sf+".date", "format", "must be a date YYYY-MM-DD")
			} else {
				if s.Date <= prev {
					c.add(sf+".date", "order", "phase scores must be in date order, one per date")
				}
				prev = s.Date
			}
			if !finite(s.Score) || s.Score < PhaseScoreMin || s.Score > PhaseScoreMax {
				c.add(sf+".score", "range", "must be on the IHI assessment scale %g–%g", PhaseScoreMin, PhaseScoreMax)
			}
		}
	}
}

// validateProgressPoints applies the measure rules to a progress record's points; om, when known,
// adds the scale and percent range of the aim's outcome measure.
func validateProgressPoints(c *checker, p *Progress, om *OutcomeMeasure) {
	if !c.maxItems("points", len(p.Points), MaxProgressPoints, "points") {
		return
	}
	prev := ""
	for j, pt := range p.Points {
		pf := fmt.Sprintf("points[%d]", j)
		pl := fmt.Sprintf("point %d (%s)", j+1, pt.Date)
		if _, err := parseDate(pt.Date); err != nil || pt.Date == "" {
			c.add(pf+".date", "format", "point %d: the date must be YYYY-MM-DD", j+1)
			continue
		}
		switch {
		case pt.Date == prev:
			c.add(pf+".date", "duplicate", "%s: the date repeats the previous point's", pl)
		case pt.Date < prev:
			c.add(pf+".date", "order", "%s: points must be in date order (this one is before the previous point)", pl)
		}
		prev = pt.Date
		if pt.N <= 0 {
			c.add(pf+".n", "range", "%s: the number of students measured (n) must be at least 1", pl)
		}
		switch {
		case !finite(pt.Value):
			c.add(pf+".value", "format", "%s: the value must be a number", pl)
		case om == nil:
		case om.Kind == evidence.MeasurePercent && (pt.Value < 0 || pt.Value > 100):
			c.add(pf+".value", "range", "%s: a percentage must lie between 0 and 100", pl)
		case om.Kind == evidence.MeasureMean && om.ScoreMin != nil && om.ScoreMax != nil && (pt.Value < *om.ScoreMin || pt.Value > *om.ScoreMax):
			c.add(pf+".value", "range", "%s: the mean must lie on the outcome measure's scale %g–%g", pl, *om.ScoreMin, *om.ScoreMax)
		}
	}
}

// ValidateProgressPoints checks a progress record's points against the aim's outcome measure.
func ValidateProgressPoints(p *Progress, om *OutcomeMeasure) error {
	var c checker
	validateProgressPoints(&c, p, om)
	return c.err()
}
