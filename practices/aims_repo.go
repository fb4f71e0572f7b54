package practices

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/brightspots-nic/brightspots/practices/evidence"
	"github.com/brightspots-nic/brightspots/storage"
)

// Progress points live in two places, exactly as a measure's do (measures.go): the published view
// in the Progress record (points below the minimum n left out, values rounded and coarsened, the
// analysis of exactly those points), the only form that leaves the district, and the district's own
// view (every point, exact values) under node/progress/{id}/v{version}.json.

func teamProgressKey(id string, v int) string {
	return fmt.Sprintf("node/progress/%s/v%08d.json", id, v)
}

// TeamProgress is a district's own view of a progress record's points, as stored inside the district.
type TeamProgress struct {
	Points  []evidence.MeasurePoint `json:"points"`
	Version int                     `json:"progress_version"`
}

// outcomeMeasureID is the id the outcome measure takes when progress points go through the
// measure code.
const outcomeMeasureID = "outcome"

// ProgressMeasure is a district's progress points seen as a measure of the aim's outcome measure:
// what the run-chart code, the publishing rules and the charts take.
func ProgressMeasure(om *OutcomeMeasure, points []evidence.MeasurePoint, notes []evidence.MeasureNote) evidence.Measure {
	m := evidence.Measure{ID: outcomeMeasureID, Type: "outcome", Points: points, Notes: notes}
	if om != nil {
		m.Name, m.Kind, m.Direction, m.Definition = om.Name, om.Kind, om.Direction, om.Definition
		m.ScoreMin, m.ScoreMax, m.Cut = om.ScoreMin, om.ScoreMax, om.Cut
	}
	return m
}

// Now is the repository's clock (a test may set it): what "today" is for the dashboard.
func (r *Repo) Now() time.Time { return r.now() }

// LoadAim returns the aim a URI names (local or mirrored) if p may see it.
func (r *Repo) LoadAim(ctx context.Context, p Principal, uri string) (*Aim, error) {
	return loadVisibleAs[*Aim](ctx, r, p, uri)
}

// prepareAim applies what creating an aim needs beyond Validate: a target date not in the past.
func (r *Repo) prepareAim(a *Aim, creating bool) error {
	if !creating {
		return nil
	}
	return CheckAimTarget(a, r.now())
}

func aimProblem(field, rule, format string, args ...any) error {
	return &ValidationError{Problems: []FieldError{{Field: field, Rule: rule, Message: fmt.Sprintf(format, args...)}}}
}

// prepareProgress checks a progress record against its aim — one p can see, published, with an
// outcome measure whose rules the points keep — and replaces its points by the published view. It
// returns the district's own points to keep inside, or nil when pr carries no points (an edit that
// leaves them alone; prev are then carried over by the caller).
func (r *Repo) prepareProgress(ctx context.Context, p Principal, pr *Progress, prev []evidence.MeasurePoint) ([]evidence.MeasurePoint, error) {
	aim, err := r.LoadAim(ctx, p, pr.Aim.URI)
	if errors.Is(err, ErrNotFound) {
		return nil, aimProblem("aim.uri", "not_found", "names no aim you can see")
	}
	if err != nil {
		return nil, err
	}
	if aim.Status != StatusPublished {
		return nil, aimProblem("aim.uri", "not_published", "names an aim that is not published")
	}
	if aim.OutcomeMeasure == nil {
		return nil, aimProblem("aim.uri", "no_outcome_measure", "names an aim without an outcome measure")
	}
	pr.Aim.Version = aim.Version
	team := make([]evidence.MeasurePoint, len(pr.Points))
	for i, pt := range pr.Points {
		pt.Coarse = ""
		team[i] = pt
	}
	if prev != nil {
		// The server's "identical scores" mark survives a round trip of the same point (measures.go).
		ms := []evidence.Measure{{ID: outcomeMeasureID, Points: team}}
		carryIdentical(ms, []evidence.Measure{{ID: outcomeMeasureID, Points: prev}})
	} else {
		for i := range team {
			team[i].Identical = false
		}
	}
	if err := ValidateProgressPoints(&Progress{Points: team}, aim.OutcomeMeasure); err != nil {
		return nil, err
	}
	r.publishProgress(pr, aim.OutcomeMeasure, team)
	return team, nil
}

// publishProgress puts the published view of team into pr.
func (r *Repo) publishProgress(pr *Progress, om *OutcomeMeasure, team []evidence.MeasurePoint) {
	pub := evidence.PublishMeasure(ProgressMeasure(om, team, nil), r.minimumN)
	pr.Points, pr.Withheld, pr.Analysis = pub.Points, pub.Withheld, pub.Analysis
}

func (r *Repo) putTeamProgress(ctx context.Context, id string, version int, team []evidence.MeasurePoint) error {
	return putJSON(ctx, r.bucket, teamProgressKey(id, version), TeamProgress{Points: team, Version: version}, storage.PutOptions{})
}

// TeamProgress returns the district's own view of a local progress record's points: every point,
// exact values. Callers must have checked that p may edit the record. A record whose points were
// never stored separately falls back to the published view.
func (r *Repo) TeamProgress(ctx context.Context, pr *Progress) ([]evidence.MeasurePoint, error) {
	if !validID(pr.ID) || pr.Origin != r.node.URL {
		return clearCoarse(pr.Points), nil
	}
	objs, err := r.bucket.List(ctx, storage.ListOptions{Prefix: "node/progress/" + pr.ID + "/"})
	if err != nil {
		return nil, err
	}
	for i := len(objs) - 1; i >= 0; i-- {
		var tp TeamProgress
		if err := getJSON(ctx, r.bucket, objs[i].Key, &tp); err != nil {
			return nil, err
		}
		if tp.Version <= pr.Version {
			return tp.Points, nil
		}
	}
	return clearCoarse(pr.Points), nil
}

func clearCoarse(ps []evidence.MeasurePoint) []evidence.MeasurePoint {
	out := make([]evidence.MeasurePoint, len(ps))
	for i, p := range ps {
		p.Coarse = ""
		out[i] = p
	}
	return out
}

// RecordProgressPoints merges aggregated points (from a score file) into a progress record as a new
// version: a date already in the series takes the new aggregate.
func (r *Repo) RecordProgressPoints(ctx context.Context, p Principal, id string, points []evidence.MeasurePoint) (*Progress, error) {
	var team []evidence.MeasurePoint
	rec, err := r.Mutate(ctx, p, KindProgress, id, func(cur Record) error {
		pr := cur.(*Progress)
		if pr.Status == StatusWithdrawn {
			return &StateError{Msg: "a withdrawn progress record cannot take new points"}
		}
		prev, err := r.TeamProgress(ctx, pr)
		if err != nil {
			return err
		}
		pr.Points = evidence.MergePoints(clearCoarse(prev), points)
		aim, err := r.LoadAim(ctx, p, pr.Aim.URI)
		if err != nil {
			return aimProblem("aim.uri", "not_found", "names no aim you can see")
		}
		if aim.OutcomeMeasure == nil {
			return aimProblem("aim.uri", "no_outcome_measure", "names an aim without an outcome measure")
		}
		team = pr.Points
		if err := ValidateProgressPoints(&Progress{Points: team}, aim.OutcomeMeasure); err != nil {
			return err
		}
		r.publishProgress(pr, aim.OutcomeMeasure, team)
		return nil
	})
	if err != nil {
		return nil, err
	}
	pr := rec.(*Progress)
	if err := r.putTeamProgress(ctx, id, pr.Version, team); err != nil {
		return nil, err
	}
	return pr, nil
}

// AuditProgressUpload stores the audit entry of a score file that produced progress points: who,
// when, the file's SHA-256, how many rows and dates, the minimum n applied — never a row.
func (r *Repo) AuditProgressUpload(ctx context.Context, p Principal, id string, ms *evidence.MeasureScores) error {
	now := r.now().UTC()
	a := MeasureUploadAudit{Progress: id, Measure: outcomeMeasureID, By: p.Subject, At: now, SHA256: ms.SHA256, Bytes: ms.Bytes,
		Rows: ms.Read, Blank: ms.Blank, Dates: len(ms.Points), MinimumN: r.minimumN}
	for _, pt := range ms.Points {
		if pt.N < r.minimumN || pt.Identical {
			a.Withheld++
		}
	}
	key := fmt.Sprintf("node/audit/progress/%s/%s.json", id, now.Format("20060102T150405.000Z"))
	return putJSON(ctx, r.bucket, key, a, storage.PutOptions{})
}
